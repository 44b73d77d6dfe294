"""Level normalisers: raw estimator value ↔ absolute level, [−1, 1] over the table.

PerTouch semantics: a level is an ABSOLUTE target, the position of a raw value in
a distribution of well-retouched photos (u ∈ [0, 1] → level = 2u − 1). Level 0 is
a typical well-retouched value, not "no change".

A :class:`LevelScale` is a monotone quantile table: ``raw[k]`` is the raw value at
quantile ``k / (K − 1)``. Values between knots are interpolated linearly. Values
beyond the table's ends measure beyond ±1, up to ±:data:`EXTENDED`: the scale goes
on linearly past each end in a coordinate where the attribute is roughly linear
(:data:`COORDINATES`: log for positive magnitudes, mired for temperature, the raw
value otherwise), with the slope of the table's last :data:`TAIL` of levels. So a
level beyond ±1 means "beyond every photo the table was fitted on".

A run of tied knots at an end is read as a censored tail: that share of the fitted
regions lay at or beyond the tied value (a fit that clamped them, or an estimator
bounded there: shadows at 0). The tied value takes the level at the run's inner end
(shadows of 0: −0.8, 11 % of regions had black shadows), and the levels beyond, ±1
included, come from the same continuation, so the scale is continuous and strictly
monotone everywhere; where the estimator is bounded they are simply out of reach.
Measured levels beyond ±1 are what a region measures and what a ``by`` shift may
reach; ``to`` targets and the PerTouch parameter map stay in [−1, 1]. Tables are
stored as JSON::

    {"format": "pertouch-levels", "version": 1, "source": "...",
     "attributes": {"brightness": {"quantiles": [r0, r1, ..., rK]}, ...}}

>>> s = LevelScale("brightness", (0.0, 100.0, 200.0))
>>> s.to_level(100.0), s.to_raw(0.5)
(0.0, 150.0)
>>> s.to_level(250.0) > 1.0
True
"""

from __future__ import annotations

import bisect

import json
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

import numpy as np

FORMAT = "pertouch-levels"

#: Measured levels extend at most this far (beyond ±1: past every photo of the table).
EXTENDED = 1.5
#: The slope past an end is the table's over this last fraction of its knots.
TAIL = 0.05
#: Coordinate each attribute continues linearly in past the table's ends (default "raw").
#: Mired is 10⁶ / CCT, continued by its tangent past the estimator's TEMPERATURE_ENDS,
#: where the raw value itself continues linearly (see estimators.temperature_of_xyz).
COORDINATES = {"temperature": "mired", "colorfulness": "log", "contrast": "log",
               "brightness": "log", "clarity": "log"}
_LOG_FLOOR = 1e-12


def _mired_ends() -> tuple[float, float]:
    from pertouch.engine.measure.estimators import TEMPERATURE_ENDS

    return TEMPERATURE_ENDS


def to_coordinate(kind: str, raw: np.ndarray) -> np.ndarray:
    """Raw values → the extrapolation coordinate ``kind`` (monotone increasing in raw)."""
    raw = np.asarray(raw, np.float64)
    if kind == "log":
        return np.log(np.maximum(raw, _LOG_FLOOR))
    if kind == "mired":
        t_cool, t_warm = _mired_ends()
        inside = 1e6 / np.clip(-raw, t_warm, t_cool)
        return np.where(-raw > t_cool, 1e6 / t_cool * (2.0 + raw / t_cool),
                        np.where(-raw < t_warm, 1e6 / t_warm * (2.0 + raw / t_warm), inside))
    return raw


def from_coordinate(kind: str, c: np.ndarray) -> np.ndarray:
    """Inverse of :func:`to_coordinate`."""
    c = np.asarray(c, np.float64)
    if kind == "log":
        return np.exp(c)
    if kind == "mired":
        t_cool, t_warm = _mired_ends()
        m_cool, m_warm = 1e6 / t_cool, 1e6 / t_warm
        inside = -1e6 / np.clip(c, m_cool, m_warm)
        return np.where(c < m_cool, t_cool * (c / m_cool - 2.0),
                        np.where(c > m_warm, t_warm * (c / m_warm - 2.0), inside))
    return c


@dataclass(frozen=True)
class LevelScale:
    """Monotone raw ↔ level mapping for one attribute, extended past the table's ends."""

    attribute: str
    quantiles: tuple[float, ...]
    coordinate: str | None = None  # None: COORDINATES.get(attribute, "raw")
    _core: tuple[np.ndarray, np.ndarray] = field(init=False, repr=False, compare=False)
    _ends: tuple[tuple[float, float, float], ...] = field(init=False, repr=False, compare=False)
    _lists: tuple[list, list] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        q = np.asarray(self.quantiles, dtype=np.float64)
        if q.ndim != 1 or q.size < 2 or not np.all(np.isfinite(q)):
            raise ValueError(f"level table for {self.attribute!r} needs ≥2 finite quantiles")
        if np.any(np.diff(q) < 0):
            raise ValueError(f"level table for {self.attribute!r} must be non-decreasing")
        if self.coordinate is None:
            object.__setattr__(self, "coordinate", COORDINATES.get(self.attribute, "raw"))
        if self.coordinate not in ("raw", "log", "mired"):
            raise ValueError(f"unknown level coordinate {self.coordinate!r}")
        k = q.size - 1
        tol = 1e-9 * max(1.0, float(np.abs(q).max()))
        lo = int(np.count_nonzero(q - q[0] <= tol)) - 1  # inner ends of tied runs at the ends
        hi = k - (int(np.count_nonzero(q[-1] - q <= tol)) - 1)
        if lo >= hi:  # every knot tied: a point, no scale to extend
            lo, hi = 0, k
        # Make interior ties strictly increasing so interpolation is invertible.
        knots = q[lo:hi + 1] + max(1e-9, tol) * np.arange(hi - lo + 1)
        levels = 2.0 * np.arange(lo, hi + 1) / k - 1.0
        object.__setattr__(self, "_core", (knots, levels))
        object.__setattr__(self, "_lists", (knots.tolist(), levels.tolist()))
        object.__setattr__(self, "_ends", ((knots[0], levels[0], self._tail_slope(q[lo:], k)),
                                           (knots[-1], levels[-1], self._tail_slope(q[hi::-1], k))))

    def _tail_slope(self, q: np.ndarray, k: int) -> float:
        """Level per coordinate unit over the TAIL of knots inward from the end ``q[0]`` (0: none)."""
        j = min(q.size - 1, max(1, round(TAIL * k)))
        dc = abs(float(to_coordinate(self.coordinate, q[j]) - to_coordinate(self.coordinate, q[0])))
        return 2.0 * j / k / dc if dc > 0 else 0.0

    def to_level(self, raw: float | np.ndarray) -> float | np.ndarray:
        """Raw estimator value(s) → level(s): [−1, 1] over the table, up to ±EXTENDED past it; NaN stays NaN."""
        knots, levels = self._core
        if isinstance(raw, (float, np.floating)) and knots[0] < raw < knots[-1]:
            # one value inside the table (the solver's case): np.interp's formula, without arrays
            kl = self._lists[0]
            j = bisect.bisect_right(kl, float(raw)) - 1
            x0, x1, y0, y1 = kl[j], kl[j + 1], self._lists[1][j], self._lists[1][j + 1]
            return (y1 - y0) / (x1 - x0) * (float(raw) - x0) + y0
        r = np.asarray(raw, np.float64)
        out = np.interp(r, knots, levels)
        with np.errstate(invalid="ignore"):
            if np.any(r < knots[0]) or np.any(r > knots[-1]):
                c = to_coordinate(self.coordinate, r)
                (r_lo, l_lo, s_lo), (r_hi, l_hi, s_hi) = self._ends
                c_lo, c_hi = to_coordinate(self.coordinate, np.array([r_lo, r_hi]))
                out = np.where(r < r_lo, l_lo - s_lo * (c_lo - c), out)
                out = np.where(r > r_hi, l_hi + s_hi * (c - c_hi), out)
                out = np.clip(out, -EXTENDED, EXTENDED)
        out = np.where(np.isnan(r), np.nan, out)
        return float(out) if np.ndim(out) == 0 else out

    def to_raw(self, level: float | np.ndarray) -> float | np.ndarray:
        """Level(s) → raw value(s); levels are clamped to ±EXTENDED (to the table's ends where it cannot extend)."""
        knots, levels = self._core
        if isinstance(level, (float, int, np.floating)) and levels[0] < level < levels[-1]:
            # one level inside the table (the solver's case): np.interp's formula, without arrays
            ll = self._lists[1]
            j = bisect.bisect_right(ll, float(level)) - 1
            x0, x1, y0, y1 = ll[j], ll[j + 1], self._lists[0][j], self._lists[0][j + 1]
            return (y1 - y0) / (x1 - x0) * (float(level) - x0) + y0
        lv = np.clip(np.asarray(level, np.float64), -EXTENDED, EXTENDED)
        out = np.interp(lv, levels, knots)
        (r_lo, l_lo, s_lo), (r_hi, l_hi, s_hi) = self._ends
        if np.any(lv < l_lo) or np.any(lv > l_hi):
            c_lo, c_hi = to_coordinate(self.coordinate, np.array([r_lo, r_hi]))
            with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
                below = from_coordinate(self.coordinate, c_lo + (lv - l_lo) / s_lo) if s_lo else r_lo
                above = from_coordinate(self.coordinate, c_hi + (lv - l_hi) / s_hi) if s_hi else r_hi
            out = np.where(lv < l_lo, below, np.where(lv > l_hi, above, out))
        return float(out) if np.ndim(out) == 0 else out


@dataclass(frozen=True)
class LevelTable:
    """A set of :class:`LevelScale`, one per attribute, with where it came from."""

    scales: dict[str, LevelScale]
    source: str

    def __getitem__(self, name: str) -> LevelScale:
        return self.scales[name]

    def __contains__(self, name: str) -> bool:
        return name in self.scales

    def to_json(self) -> dict:
        return {
            "format": FORMAT,
            "version": 1,
            "source": self.source,
            "attributes": {k: {"quantiles": list(v.quantiles)} for k, v in self.scales.items()},
        }


def parse_table(data: dict, origin: str) -> LevelTable:
    """Build a table from its JSON form; ``origin`` names the file for errors."""
    from pertouch.core.errors import PertouchError

    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise PertouchError(
            f"{origin} is not a level table",
            hint=f'expected a JSON object with "format": "{FORMAT}" and "attributes"',
        )
    scales = {}
    for name, entry in (data.get("attributes") or {}).items():
        try:
            scales[name] = LevelScale(name, tuple(float(v) for v in entry["quantiles"]))
        except (KeyError, TypeError, ValueError) as exc:
            raise PertouchError(f"{origin}: bad level table for {name!r}: {exc}") from None
    return LevelTable(scales=scales, source=str(data.get("source", origin)))


def load_table(path: str | Path) -> LevelTable:
    """Load a level table from a JSON file (e.g. one fitted on FiveK experts)."""
    from pertouch.core.errors import PertouchError

    p = Path(path)
    try:
        data = json.loads(p.read_text())
    except FileNotFoundError:
        raise PertouchError(f"level table not found: {p}") from None
    except (OSError, json.JSONDecodeError) as exc:
        raise PertouchError(f"cannot read level table {p}: {exc}") from None
    return parse_table(data, str(p))


def default_table() -> LevelTable:
    """The table that ships with the package (``engine/data/levels_default.json``)."""
    text = resources.files("pertouch.engine").joinpath("data/levels_default.json").read_text()
    return parse_table(json.loads(text), "levels_default.json")
