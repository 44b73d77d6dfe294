"""A small LRU cache of solved layers and region weights, so re-planning re-solves only what changed.

Plans are solved on the 512×512 measuring proxy, so the same strengths serve any
size of the same photo, and a recipe that changes one region's edit leaves every
other region's solution as it was. Keys:

* a layer's own solution (``alone``): what the solve samples (a digest of the proxy,
  or of the photo for small photos solved on their own pixels), the region mask's
  digest, the layer's edit, the global layer's strengths under it, its correction;
* a layer's joint solution: that key plus the keys of the layers overlapping it;
* region weights: the mask's digest, the photo's size and the proxy's digest;
* a whole plan (a preview re-rendered with nothing changed): the proxy's digest, the
  photo's size, the recipe, every region mask's digest and the corrections.

Mask digests are computed once per array object (found again by identity, a weak
reference and a checksum of a few rows, so an array edited in place is noticed).

>>> c = LRU(2)
>>> c.put("a", 1); c.put("b", 2); c.get("a"); c.put("c", 3)
1
>>> c.get("b") is None, len(c)
(True, 2)
"""

from __future__ import annotations

import threading
import weakref
from collections import OrderedDict
from typing import Any, Callable, Hashable

import numpy as np
import xxhash


class LRU:
    """A plain least-recently-used map of at most ``size`` entries (thread-safe: the
    planning workers fill it too)."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._d: OrderedDict = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: Hashable) -> Any:
        with self._lock:
            if key not in self._d:
                return None
            self._d.move_to_end(key)
            return self._d[key]

    def put(self, key: Hashable, value: Any) -> None:
        with self._lock:
            self._d[key] = value
            self._d.move_to_end(key)
            while len(self._d) > self.size:
                self._d.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._d.clear()

    def __len__(self) -> int:
        return len(self._d)


def digest(a: np.ndarray) -> str:
    """Content digest of an array (shape, dtype and bytes)."""
    h = xxhash.xxh3_128()  # a cache key, not a security boundary: ~6× faster than sha1
    h.update(f"{a.shape}{a.dtype}".encode())
    h.update(np.ascontiguousarray(a).data)
    return h.hexdigest()


def _probe(a: np.ndarray) -> bytes:
    """A cheap checksum of a few rows (to notice an array edited in place)."""
    rows = a[:: max(1, a.shape[0] // 7)]
    return np.ascontiguousarray(rows).tobytes()[:4096] + str(float(np.asarray(rows, np.float64).sum())).encode()


class LayerCache:
    """Solved strengths (``alone`` and joint) and region weights, least recently used out."""

    def __init__(self, size: int = 64, weights_size: int = 16, plans_size: int = 4) -> None:
        self.params = LRU(size)
        self.weights = LRU(weights_size)
        #: whole plans: proxy digest, photo size, recipe, mask digests, corrections
        self.plans = LRU(plans_size)
        #: a region's weights at the proxy, its sample and support: mask digest, photo size,
        #: proxy digest and the global strengths under it (edits do not change them)
        self.samples = LRU(weights_size)
        self._masks: dict[int, tuple[weakref.ref, bytes, str]] = {}
        self._masks_lock = threading.Lock()
        self._photo: tuple | None = None

    def mask_digest(self, mask: np.ndarray) -> str:
        """The mask's content digest, computed once per array object."""
        key = id(mask)
        hit = self._masks.get(key)
        probe = _probe(mask)
        if hit is not None and hit[0]() is mask and hit[1] == probe:
            return hit[2]
        d = digest(mask)
        with self._masks_lock:  # the planning workers ask too
            try:
                self._masks[key] = (weakref.ref(mask), probe, d)
            except TypeError:  # not weak-referenceable: just do not remember it
                pass
            if len(self._masks) > 256:
                self._masks = {k: v for k, v in self._masks.items() if v[0]() is not None}
        return d

    def photo(self, image: np.ndarray, make: Callable[[np.ndarray], Any]) -> Any:
        """``make(image)`` (its measurement and digest), remembered for the last photo object.

        Found again by identity and a checksum of a few rows, as mask digests are: a
        preview re-rendered with the same photo does not measure and hash 12 MP again.
        """
        probe = _probe(image)
        hit = self._photo
        if hit is not None and hit[0]() is image and hit[1] == probe:
            return hit[2]
        value = make(image)
        try:
            self._photo = (weakref.ref(image), probe, value)
        except TypeError:
            self._photo = None
        return value

    def clear(self) -> None:
        self._photo = None
        self.params.clear()
        self.weights.clear()
        self.plans.clear()
        self.samples.clear()
        self._masks.clear()
