"""Level normalisers: raw estimator value ↔ absolute level in [−1, 1].

PerTouch semantics: a level is an ABSOLUTE target, the position of a raw value in
a distribution of well-retouched photos (u ∈ [0, 1] → level = 2u − 1). Level 0 is
a typical well-retouched value, not "no change".

A :class:`LevelScale` is a monotone quantile table: ``raw[k]`` is the raw value at
quantile ``k / (K − 1)``. Values between knots are interpolated linearly; values
beyond the table clamp to ±1. Tables are stored as JSON::

    {"format": "pertouch-levels", "version": 1, "source": "...",
     "attributes": {"brightness": {"quantiles": [r0, r1, ..., rK]}, ...}}

>>> s = LevelScale("brightness", (0.0, 100.0, 200.0))
>>> s.to_level(100.0), s.to_raw(0.5)
(0.0, 150.0)
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import numpy as np

FORMAT = "pertouch-levels"


@dataclass(frozen=True)
class LevelScale:
    """Monotone raw ↔ level mapping for one attribute."""

    attribute: str
    quantiles: tuple[float, ...]

    def __post_init__(self) -> None:
        q = np.asarray(self.quantiles, dtype=np.float64)
        if q.ndim != 1 or q.size < 2 or not np.all(np.isfinite(q)):
            raise ValueError(f"level table for {self.attribute!r} needs ≥2 finite quantiles")
        if np.any(np.diff(q) < 0):
            raise ValueError(f"level table for {self.attribute!r} must be non-decreasing")

    @property
    def _u(self) -> np.ndarray:
        return np.linspace(0.0, 1.0, len(self.quantiles))

    def _strict(self) -> np.ndarray:
        # Make ties strictly increasing so interpolation is invertible.
        q = np.asarray(self.quantiles, dtype=np.float64)
        eps = max(1e-9, 1e-9 * float(np.abs(q).max()))
        return q + eps * np.arange(q.size)

    def to_level(self, raw: float | np.ndarray) -> float | np.ndarray:
        """Raw estimator value(s) → level(s) in [−1, 1]; NaN stays NaN."""
        u = np.interp(raw, self._strict(), self._u)
        out = 2.0 * u - 1.0
        if np.ndim(out) == 0:
            return float("nan") if np.isnan(raw) else float(out)
        return np.where(np.isnan(raw), np.nan, out)

    def to_raw(self, level: float | np.ndarray) -> float | np.ndarray:
        """Level(s) in [−1, 1] → raw value(s) (clamped to the table's ends)."""
        u = (np.clip(level, -1.0, 1.0) + 1.0) / 2.0
        out = np.interp(u, self._u, self._strict())
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
    from pertouch.errors import PertouchError

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
    from pertouch.errors import PertouchError

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
