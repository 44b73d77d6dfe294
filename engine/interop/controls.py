"""Editor sliders and the measured mapping between them and PerTouch levels.

A :class:`Control` is one RawTherapee slider (a ``.pp3`` key) that moves one PerTouch
attribute. How far it moves it was MEASURED (``scripts/fit_interop.py``): photos were
rendered by ``rawtherapee-cli`` with the slider at each value of its grid and the
attribute measured with the engine's own estimator. The change is stored in the
attribute's level coordinate (:data:`pertouch.engine.schema.levels.COORDINATES`: log for
brightness, contrast, colourfulness and clarity, mired for temperature, raw luma /
Duv × 1000 otherwise), where a slider's effect depends little on where a photo
starts; a level shift is turned into that coordinate change through the level table,
so the slider a ``to``/``by`` edit needs depends on the region's measured level.

The fitted table ships as ``engine/data/interop_rawtherapee.json``: per control, the
median change over the photos at each slider value, made monotone, and the
leave-one-photo-out error of predicting a photo's level from it.

>>> c = CONTROLS["exposure"]
>>> c.attribute, c.section, c.key
('brightness', 'Exposure', 'Compensation')
>>> curve = Curve((0.0, 1.0, 2.0), (0.0, 0.1, 0.3))
>>> curve.delta_of(1.5), curve.slider_of(0.1)
(0.2, (1.0, False))
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources

import numpy as np

from pertouch.engine.schema.levels import LevelScale, from_coordinate, to_coordinate

FORMAT = "pertouch-interop"
DATA_FILE = "data/interop_rawtherapee.json"


@dataclass(frozen=True)
class Control:
    """One RawTherapee slider: ``[section] key = value`` (``keys`` all get the value)."""

    name: str
    attribute: str
    section: str
    keys: tuple[str, ...]
    neutral: float
    grid: tuple[float, ...]
    enable: dict[str, str] = field(default_factory=dict)  # keys that switch the tool on
    digits: int = 0

    @property
    def key(self) -> str:
        return self.keys[0]

    def pp3(self, value: float) -> dict[str, dict[str, str]]:
        """The ``.pp3`` entries for this slider at ``value`` (section → key → text)."""
        text = f"{value:.{self.digits}f}" if self.digits else str(int(round(value)))
        return {self.section: {**self.enable, **{k: text for k in self.keys}}}


_WB = {"Enabled": "true", "Setting": "Custom"}

#: Every slider fitted; ``ATTRIBUTE_CONTROL`` names the one export uses per attribute.
CONTROLS: dict[str, Control] = {c.name: c for c in (
    Control("exposure", "brightness", "Exposure", ("Compensation",), 0.0,
            (-2.0, -1.5, -1.0, -0.5, -0.25, 0.0, 0.25, 0.5, 1.0, 1.5, 2.0), digits=2),
    Control("contrast", "contrast", "Exposure", ("Contrast",), 0.0, tuple(range(-100, 101, 20))),
    Control("saturation", "colorfulness", "Exposure", ("Saturation",), 0.0, tuple(range(-100, 101, 20))),
    Control("vibrance", "colorfulness", "Vibrance", ("Pastels", "Saturated"), 0.0, tuple(range(-100, 101, 20)),
            enable={"Enabled": "true"}),
    Control("temperature", "temperature", "White Balance", ("Temperature",), 6504.0,
            (3000, 3500, 4000, 4500, 5000, 5500, 6000, 6504, 7000, 8000, 9000, 10500, 12500, 15000),
            enable={**_WB, "Green": "1"}),
    Control("tint", "tint", "White Balance", ("Green",), 1.0,
            (0.7, 0.8, 0.85, 0.9, 0.95, 1.0, 1.05, 1.1, 1.15, 1.2, 1.35), enable={**_WB, "Temperature": "6504"},
            digits=3),
    Control("highlights", "highlights", "Shadows & Highlights", ("Highlights",), 0.0, (0, 10, 20, 35, 50, 70, 100),
            enable={"Enabled": "true"}),
    Control("shadows", "shadows", "Shadows & Highlights", ("Shadows",), 0.0, (0, 10, 20, 35, 50, 70, 100),
            enable={"Enabled": "true"}),
    Control("clarity", "clarity", "Local Contrast", ("Amount",), 0.0, (0.0, 0.1, 0.2, 0.3, 0.45, 0.6, 0.8, 1.0),
            enable={"Enabled": "true"}, digits=3),
)}

ATTRIBUTE_CONTROL: dict[str, str] = {
    "brightness": "exposure", "contrast": "contrast", "colorfulness": "saturation", "temperature": "temperature",
    "tint": "tint", "highlights": "highlights", "shadows": "shadows", "clarity": "clarity"}


@dataclass(frozen=True)
class Curve:
    """A monotone slider → coordinate-change curve (linear between fitted knots)."""

    slider: tuple[float, ...]
    delta: tuple[float, ...]

    def __post_init__(self) -> None:
        s, d = np.asarray(self.slider, float), np.asarray(self.delta, float)
        if s.size < 2 or s.size != d.size or np.any(np.diff(s) <= 0) or not np.all(np.isfinite(d)):
            raise ValueError("a curve needs ≥2 increasing slider knots and as many finite changes")
        steps = np.diff(d)
        if np.any(steps > 0) and np.any(steps < 0):
            raise ValueError("a curve's changes must be monotone in the slider")

    @property
    def increasing(self) -> bool:
        return self.delta[-1] >= self.delta[0]

    def delta_of(self, value: float) -> float:
        """The coordinate change the slider at ``value`` makes (clamped to the fitted range)."""
        return round(float(np.interp(value, self.slider, self.delta)), 12)

    def slider_of(self, delta: float) -> tuple[float, bool]:
        """``(slider value, clamped)`` for a wanted coordinate change; ``clamped`` when the
        change lies beyond what the fitted range of the slider reaches."""
        s, d = np.asarray(self.slider, float), np.asarray(self.delta, float)
        if not self.increasing:
            s, d = s[::-1], d[::-1]
        for i in range(1, d.size):  # plateaus: pick their first knot
            d[i] = max(d[i], d[i - 1] + 1e-12)
        clamped = not (d[0] - 1e-9 <= delta <= d[-1] + 1e-9)
        return float(np.interp(delta, d, s)), clamped

    def reach(self) -> tuple[float, float]:
        """Smallest and largest change the slider makes."""
        return float(min(self.delta)), float(max(self.delta))


def monotone(values: np.ndarray, increasing: bool) -> np.ndarray:
    """The closest monotone sequence (pool-adjacent-violators, equal weights)."""
    v = np.asarray(values, float) if increasing else -np.asarray(values, float)
    blocks: list[list[float]] = []  # [mean, count]
    for x in v:
        blocks.append([x, 1.0])
        while len(blocks) > 1 and blocks[-2][0] > blocks[-1][0]:
            m2, n2 = blocks.pop()
            m1, n1 = blocks.pop()
            blocks.append([(m1 * n1 + m2 * n2) / (n1 + n2), n1 + n2])
    out = np.concatenate([np.full(int(n), m) for m, n in blocks])
    return out if increasing else -out


def coordinate_of(scale: LevelScale, level: float) -> float:
    """A level's position in the attribute's extrapolation coordinate."""
    return float(to_coordinate(scale.coordinate, np.asarray(scale.to_raw(level))))


def level_of(scale: LevelScale, coordinate: float) -> float:
    """Inverse of :func:`coordinate_of` (levels past the table extend up to ±EXTENDED)."""
    return float(scale.to_level(float(from_coordinate(scale.coordinate, np.asarray(coordinate)))))


@dataclass(frozen=True)
class FittedTable:
    """The shipped (or a re-fitted) table: control name → :class:`Curve`, with provenance."""

    curves: dict[str, Curve]
    renderer: str
    errors: dict[str, dict[str, float]]
    source: dict
    #: control → attribute → its change per unit change of the control's own attribute
    #: (coordinate units; e.g. exposure also raises colourfulness), measured with the curves.
    cross: dict[str, dict[str, float]] = field(default_factory=dict)

    def curve(self, control: str) -> Curve:
        return self.curves[control]


def parse_fitted(data: dict, origin: str) -> FittedTable:
    from pertouch.core.errors import PertouchError

    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise PertouchError(f"{origin} is not an interop table", hint=f'expected "format": "{FORMAT}"')
    curves, errors = {}, {}
    for name, entry in (data.get("controls") or {}).items():
        try:
            curves[name] = Curve(tuple(entry["slider"]), tuple(entry["delta"]))
        except (KeyError, TypeError, ValueError) as exc:
            raise PertouchError(f"{origin}: bad curve for {name!r}: {exc}") from None
        errors[name] = dict(entry.get("error") or {})
    missing = sorted(set(CONTROLS) - set(curves))
    if missing:
        raise PertouchError(f"{origin}: no fitted curve for {', '.join(missing)}",
                            hint="re-run scripts/fit_interop.py")
    cross = {name: {a: float(v) for a, v in (entry.get("cross") or {}).items()}
             for name, entry in data["controls"].items()}
    return FittedTable(curves, str(data.get("renderer", "")), errors,
                       {k: data.get(k) for k in ("photos", "size", "date", "combined")}, cross)


@lru_cache(maxsize=1)
def fitted_table() -> FittedTable:
    """The table that ships with the package (``engine/data/interop_rawtherapee.json``)."""
    text = resources.files("pertouch.engine").joinpath(DATA_FILE).read_text()
    return parse_fitted(json.loads(text), DATA_FILE)


def dump_fitted(curves: dict[str, tuple[list[float], list[float]]], errors: dict[str, dict[str, float]],
                renderer: str, source: dict, cross: dict[str, dict[str, float]] | None = None) -> dict:
    """The JSON form :func:`parse_fitted` reads (written by ``scripts/fit_interop.py``)."""
    out = {"format": FORMAT, "version": 1, "renderer": renderer, **source, "controls": {}}
    for name, (s, d) in curves.items():
        c = CONTROLS[name]
        out["controls"][name] = {"attribute": c.attribute, "pp3": f"[{c.section}] {'/'.join(c.keys)}",
                                 "slider": [float(v) for v in s], "delta": [round(float(v), 6) for v in d],
                                 "error": errors.get(name, {}),
                                 "cross": {a: round(float(v), 4) for a, v in (cross or {}).get(name, {}).items()}}
    return out
