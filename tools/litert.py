"""The offline models that ship in ``tools/data`` (mediapipe's .tflite files), run
with ``ai-edge-litert``: one loader, one lock per model, native logging silenced.

>>> m = model("face_detection_short_range.tflite")       # doctest: +SKIP
>>> outs = m.run(np.zeros((1, 128, 128, 3), np.float32))  # doctest: +SKIP
>>> [o.shape for o in outs]                               # doctest: +SKIP
[(1, 896, 16), (1, 896, 1)]

Every model file, where it comes from and its licence: ``tools/data/NOTICE.md``.
"""

from __future__ import annotations

import contextlib
import threading
from functools import lru_cache
from importlib import resources

import numpy as np

from pertouch.errors import ModelError


class LiteModel:
    """One loaded .tflite model. :meth:`run` is thread-safe (one lock per model)."""

    def __init__(self, name: str, num_threads: int = 2) -> None:
        path = resources.files("pertouch.tools").joinpath("data", name)
        if not path.is_file():
            raise ModelError(f"model file {name} is missing from the package",
                             hint="reinstall pertouch (pip install -e .); tools/data/NOTICE.md says where it comes from")
        from ai_edge_litert.interpreter import Interpreter

        with quiet_stderr():  # LiteRT's C++ logs "INFO: Created TensorFlow Lite XNNPACK delegate"
            self._it = Interpreter(model_path=str(path), num_threads=num_threads)
            self._it.allocate_tensors()
        self.name = name
        self.inputs = self._it.get_input_details()
        self.outputs = self._it.get_output_details()
        self._lock = threading.Lock()

    @property
    def input_shape(self) -> tuple[int, ...]:
        """Shape of the first input, e.g. ``(1, 128, 128, 3)``."""
        return tuple(int(s) for s in self.inputs[0]["shape"])

    def run(self, *arrays: np.ndarray) -> list[np.ndarray]:
        """Outputs (copies) for float32 inputs in the model's input order."""
        with self._lock:
            for d, a in zip(self.inputs, arrays):
                self._it.set_tensor(d["index"], np.ascontiguousarray(a, dtype=d["dtype"]))
            self._it.invoke()
            return [self._it.get_tensor(d["index"]).copy() for d in self.outputs]

    def output(self, outs: list[np.ndarray], name_part: str) -> np.ndarray:
        """The output whose tensor name contains ``name_part`` (models name them, order varies)."""
        for d, o in zip(self.outputs, outs):
            if name_part in d["name"]:
                return o
        raise KeyError(f"{self.name} has no output named like {name_part!r}: {[d['name'] for d in self.outputs]}")


@lru_cache(maxsize=None)
def model(name: str) -> LiteModel:
    """The shared :class:`LiteModel` for ``tools/data/<name>`` (loaded once per process)."""
    return LiteModel(name)


@contextlib.contextmanager
def quiet_stderr():
    """Silence native writes to file descriptor 2 for the duration (Python's own stderr too)."""
    import os
    import sys

    try:
        fd = sys.stderr.fileno()
    except (AttributeError, OSError, ValueError):  # a captured stderr (test runners): nothing to do
        yield
        return
    sys.stderr.flush()
    saved = os.dup(fd)
    try:
        with open(os.devnull, "w") as null:
            os.dup2(null.fileno(), fd)
            yield
    finally:
        os.dup2(saved, fd)
        os.close(saved)
