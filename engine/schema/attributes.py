"""The attribute registry: the single source of truth for what can be edited.

Each :class:`Attribute` holds its name, synonyms, raw estimator, PerTouch map
channel (core attributes only), units and the ranges of levels and shifts. Prompts,
validation, CLI help and UI read ranges from here and nowhere else. The level
normaliser (raw ↔ level) comes from a :class:`~pertouch.engine.schema.levels.LevelTable`,
the packaged default unless one is loaded from a file.

>>> get_attribute("saturation").name
'colorfulness'
>>> [a.name for a in core_attributes()]
['colorfulness', 'contrast', 'temperature', 'brightness']
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field
from typing import Callable

import numpy as np

from pertouch.engine.measure import estimators as est
from pertouch.engine.schema.levels import EXTENDED

Estimator = Callable[[np.ndarray, np.ndarray], float]

#: Absolute ``to`` levels live in this closed interval (the level table's span).
LEVEL_MIN, LEVEL_MAX = -1.0, 1.0
#: Measured levels, and the targets of ``by`` shifts, may lie beyond ±1 up to this:
#: past every photo the level table was fitted on (see :mod:`pertouch.engine.schema.levels`).
LEVEL_EXTENDED = EXTENDED


def clamp_level(level: float) -> float:
    """A measured level or a ``by`` target clamped to ±LEVEL_EXTENDED (``to`` levels: [−1, 1])."""
    return max(-LEVEL_EXTENDED, min(LEVEL_EXTENDED, float(level)))
#: A relative shift ("by") may move a level at most this far.
SHIFT_MIN, SHIFT_MAX = -2.0, 2.0


def clamp_shift(by: float) -> float:
    """A ``by`` shift clamped to the recipe's range [SHIFT_MIN, SHIFT_MAX]."""
    return max(SHIFT_MIN, min(SHIFT_MAX, float(by)))


@dataclass(frozen=True)
class Attribute:
    """One editable attribute.

    ``channel`` is the index in the 4-channel PerTouch parameter map, or ``None``
    for extended attributes that only the parametric engine renders.
    ``low_words``/``high_words`` describe the two ends (for prompts and UIs).
    """

    name: str
    label: str
    description: str
    estimator: Estimator
    unit: str
    channel: int | None = None
    synonyms: tuple[str, ...] = ()
    low_words: tuple[str, ...] = ()
    high_words: tuple[str, ...] = ()
    level_range: tuple[float, float] = (LEVEL_MIN, LEVEL_MAX)
    shift_range: tuple[float, float] = (SHIFT_MIN, SHIFT_MAX)
    extra: dict = field(default_factory=dict)

    @property
    def core(self) -> bool:
        return self.channel is not None


_ATTRIBUTES: tuple[Attribute, ...] = (
    Attribute(
        name="colorfulness",
        label="Colourfulness",
        description="how vivid the colours are (Hasler–Süsstrunk colourfulness)",
        estimator=est.colorfulness,
        unit="Hasler–Süsstrunk M",
        channel=0,
        synonyms=("colourfulness", "saturation", "saturated", "vibrance", "vibrancy", "vivid",
                  "vividness", "colour", "color", "colors", "colours", "chroma", "punch"),
        low_words=("muted", "desaturated", "washed out", "pale"),
        high_words=("vivid", "saturated", "colourful", "punchy"),
    ),
    Attribute(
        name="contrast",
        label="Contrast",
        description="how strongly neighbouring pixels differ (local texture and tonal separation)",
        estimator=est.contrast,
        unit="mean squared 8-bit neighbour difference",
        channel=1,
        synonyms=("contrasty", "pop", "depth", "flatness", "punchiness"),
        low_words=("flat", "soft", "low-contrast"),
        high_words=("contrasty", "crisp", "punchy"),
    ),
    Attribute(
        name="temperature",
        label="Colour temperature",
        description="warm (orange) versus cool (blue) cast; higher level = warmer",
        estimator=est.temperature,
        unit="−CCT in kelvin",
        channel=2,
        synonyms=("color temperature", "colour temperature", "warmth", "warm", "warmer", "cool",
                  "cooler", "cold", "colder", "white balance", "tone", "cct"),
        low_words=("cool", "cold", "blue"),
        high_words=("warm", "golden", "orange"),
    ),
    Attribute(
        name="brightness",
        label="Brightness",
        description="how light the region is overall",
        estimator=est.brightness,
        unit="perceived brightness of the mean colour, 0–255",
        channel=3,
        synonyms=("exposure", "lightness", "light", "lighter", "bright", "brighter", "brighten",
                  "darker", "darken", "dark", "luminance", "exposed"),
        low_words=("dark", "dim", "moody"),
        high_words=("bright", "airy", "light"),
    ),
    Attribute(
        name="tint",
        label="Tint",
        description="green versus magenta cast; higher level = more green",
        estimator=est.tint,
        unit="Duv × 1000",
        synonyms=("green-magenta", "magenta", "green cast", "hue cast"),
        low_words=("magenta", "pink"),
        high_words=("green",),
    ),
    Attribute(
        name="highlights",
        label="Highlights",
        description="how bright the brightest tenth of the region is",
        estimator=est.highlights,
        unit="luma 0–255",
        synonyms=("highlight", "whites", "bright parts"),
        low_words=("recovered", "tamed"),
        high_words=("glowing", "blown"),
    ),
    Attribute(
        name="shadows",
        label="Shadows",
        description="how bright the darkest tenth of the region is",
        estimator=est.shadows,
        unit="luma 0–255",
        synonyms=("shadow", "blacks", "dark parts", "lift shadows"),
        low_words=("deep", "crushed"),
        high_words=("lifted", "open"),
    ),
    Attribute(
        name="clarity",
        label="Clarity",
        description="mid-frequency local contrast (texture, crispness)",
        estimator=est.clarity,
        unit="mean |luma − local mean|, 0–255",
        synonyms=("sharpness", "sharp", "sharper", "sharpen", "detail", "details", "texture",
                  "crisp", "crispness", "definition", "structure"),
        low_words=("soft", "smooth", "dreamy"),
        high_words=("crisp", "detailed", "gritty"),
    ),
)

REGISTRY: dict[str, Attribute] = {a.name: a for a in _ATTRIBUTES}
#: Names in PerTouch map channel order.
CORE_NAMES: tuple[str, ...] = tuple(a.name for a in sorted(
    (a for a in _ATTRIBUTES if a.core), key=lambda a: a.channel))


def attributes() -> tuple[Attribute, ...]:
    """All registered attributes, core first in channel order."""
    return _ATTRIBUTES


def core_attributes() -> tuple[Attribute, ...]:
    return tuple(REGISTRY[n] for n in CORE_NAMES)


def _alias_index() -> dict[str, str]:
    index: dict[str, str] = {}
    for a in _ATTRIBUTES:
        index[a.name] = a.name
        for s in a.synonyms:
            index.setdefault(s.lower(), a.name)
    return index


ALIASES: dict[str, str] = _alias_index()


def canonical_name(name: str) -> str | None:
    """The registry name for an attribute name or synonym, or None."""
    return ALIASES.get(name.strip().lower().replace("_", " "))


def get_attribute(name: str) -> Attribute:
    """Look an attribute up by name or synonym; a clear error suggests the closest name."""
    canon = canonical_name(name)
    if canon is not None:
        return REGISTRY[canon]
    from pertouch.core.errors import RecipeError

    close = difflib.get_close_matches(name.lower(), list(ALIASES), n=1)
    hint = f"did you mean {ALIASES[close[0]]!r}?" if close else None
    names = ", ".join(REGISTRY)
    raise RecipeError(f"unknown attribute {name!r} (known: {names})", hint=hint)
