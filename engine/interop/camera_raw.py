"""Camera Raw / Lightroom slider values (``crs:`` tags) from PerTouch edits, and back.

No Adobe renderer runs here, so nothing in this module was measured against Camera Raw.
What each value rests on:

- ``Exposure2012`` (EV) = RawTherapee's exposure compensation (EV) from the measured
  curve: both are stops of linear light, but Camera Raw's Process 2012 rolls highlights
  off, so a bright photo brightens somewhat less than in RawTherapee.
- ``Contrast2012``, ``Saturation`` (−100…100) = RawTherapee's slider of the same name
  and range from the measured curve: same name and scale, different tone/colour math.
- ``Highlights2012``, ``Shadows2012`` (−100…100) = ∓ RawTherapee's Shadows & Highlights
  amount, ``Clarity2012`` = 100 × its Local Contrast amount. RawTherapee moves these one
  way only; the other direction uses the mirror image of the measured curve (Camera
  Raw's sliders are two-sided).
- ``IncrementalTemperature`` / ``IncrementalTint`` (−100…100, non-raw photos only):
  Adobe documents no formula. Assumed linear, with the slider's ends where
  RawTherapee's fitted range ends: 100 units = :data:`MIRED_PER_100` mired of the
  photo's mean CCT (positive = warmer; RawTherapee's 3000 K / 15000 K moved the photos
  a median −287 / +212 mired) and :data:`DUV_PER_100` × 10⁻³ Duv (positive = more
  magenta, PerTouch's tint is + green; RawTherapee's Green 0.7 / 1.35: −34 / +29).
- ``Vibrance`` (import only) = RawTherapee's Vibrance (Pastels = Saturated) curve.

>>> MIRED_PER_100, DUV_PER_100
(250.0, 30.0)
"""

from __future__ import annotations

from pertouch.engine.interop.controls import FittedTable
from pertouch.engine.interop.plan import Slider

MIRED_PER_100 = 250.0
DUV_PER_100 = 30.0

#: attribute → (global crs tag, local crs tag, local value = global / LOCAL_DIVISOR)
TAGS: dict[str, tuple[str, str]] = {
    "brightness": ("Exposure2012", "LocalExposure2012"),
    "contrast": ("Contrast2012", "LocalContrast2012"),
    "colorfulness": ("Saturation", "LocalSaturation"),
    "temperature": ("IncrementalTemperature", "LocalTemperature"),
    "tint": ("IncrementalTint", "LocalTint"),
    "highlights": ("Highlights2012", "LocalHighlights2012"),
    "shadows": ("Shadows2012", "LocalShadows2012"),
    "clarity": ("Clarity2012", "LocalClarity2012"),
}
#: Local corrections store sliders scaled to ±1: exposure ±4 EV, the others ±100.
LOCAL_DIVISOR = {"brightness": 4.0}
#: Slider ranges in Camera Raw's own units.
RANGES = {"Exposure2012": (-5.0, 5.0), "Vibrance": (-100.0, 100.0)}


def _clip(tag: str, v: float) -> float:
    lo, hi = RANGES.get(tag, (-100.0, 100.0))
    return max(lo, min(hi, v))


def _mirrored(fitted: FittedTable, control: str, delta: float) -> float:
    """RawTherapee's one-sided amount for ``delta``, mirrored when ``delta`` points the other way."""
    curve = fitted.curve(control)
    lo, hi = curve.reach()
    inside = lo - 1e-9 <= delta <= hi + 1e-9 or (delta > 0) == (hi > 0)
    value, _ = curve.slider_of(delta if inside else -delta)
    return value if inside else -value


def acr_value(s: Slider, fitted: FittedTable) -> float:
    """The global Camera Raw value (in its UI units) for one planned slider."""
    a = s.attribute
    tag = TAGS[a][0]
    if a == "temperature":
        v = s.primary * 100.0 / MIRED_PER_100
    elif a == "tint":
        v = -s.primary * 100.0 / DUV_PER_100
    elif a == "brightness":
        return round(_clip(tag, fitted.curve("exposure").slider_of(s.primary)[0]), 2)
    elif a in ("contrast", "colorfulness"):
        v = fitted.curve("contrast" if a == "contrast" else "saturation").slider_of(s.primary)[0]
    elif a == "highlights":
        v = -_mirrored(fitted, "highlights", s.primary)
    elif a == "shadows":
        v = _mirrored(fitted, "shadows", s.primary)
    else:  # clarity
        v = 100.0 * _mirrored(fitted, "clarity", s.primary)
    return float(round(_clip(tag, v)))


def at_limit(tag: str, value: float) -> bool:
    """True when ``value`` sits at the end of the tag's Camera Raw range (the edit may go further)."""
    lo, hi = RANGES.get(tag, (-100.0, 100.0))
    return value <= lo or value >= hi


def local_value(attribute: str, value: float) -> float:
    """A mask group's stored value for the global-unit ``value`` (±1 scale)."""
    return round(value / LOCAL_DIVISOR.get(attribute, 100.0), 6)


def delta_of(tag: str, value: float, fitted: FittedTable) -> tuple[str, float] | None:
    """``(attribute, coordinate change)`` a global ``crs:`` slider makes, or None when the
    tag is none PerTouch reads (the inverse of :func:`acr_value`)."""
    v = float(value)
    if tag == "Exposure2012":
        return "brightness", fitted.curve("exposure").delta_of(v)
    if tag == "Contrast2012":
        return "contrast", fitted.curve("contrast").delta_of(v)
    if tag == "Saturation":
        return "colorfulness", fitted.curve("saturation").delta_of(v)
    if tag == "Vibrance":
        return "colorfulness", fitted.curve("vibrance").delta_of(v)
    if tag == "IncrementalTemperature":
        return "temperature", v * MIRED_PER_100 / 100.0
    if tag == "IncrementalTint":
        return "tint", -v * DUV_PER_100 / 100.0
    one_sided = {"Highlights2012": ("highlights", "highlights", -v), "Shadows2012": ("shadows", "shadows", v),
                 "Clarity2012": ("clarity", "clarity", v / 100.0)}
    if tag in one_sided:
        attribute, control, amount = one_sided[tag]
        d = fitted.curve(control).delta_of(abs(amount))
        return attribute, d if amount >= 0 else -d
    return None


#: Global crs tags import-xmp reads, in the order it reports them.
READ_TAGS = ("Exposure2012", "Contrast2012", "Saturation", "Vibrance", "IncrementalTemperature", "IncrementalTint",
             "Highlights2012", "Shadows2012", "Clarity2012")
