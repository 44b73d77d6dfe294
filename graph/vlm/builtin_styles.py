"""The style library: named looks as recipes over region labels.

Each :class:`Style` maps region labels (``global`` plus sky, vegetation, person,
skin, face, water, building, ground, snow, clouds…) to attribute edits. ``to`` is an
absolute level in [−1, 1] (0 = typical well-retouched level); ``by`` a shift from
the measured level — used for brightness and the extended attributes, whose right
absolute value depends on the photo. Entries for labels the photo lacks are
dropped by the planner; ``global`` always applies.

Every entry also has a *direction*: the way the look pushes a photo (+1 warmer,
brighter, more colourful…, −1 the other way, 0 neutral). It is the sign of the
entry's ``to`` level (relative to the neutral level 0) or of its ``by`` shift, unless
declared with ``"dir"``. The planner moves a photo toward a style's absolute level
but never against its direction (:func:`guarded_level`): a photo that is already
past the level (a cold photo under "winter morning") keeps its level, pushed
:data:`PAST_PUSH` further the style's way — a cold style never warms a photo.

=================  =====================================================================
style              what it does
=================  =====================================================================
kodak-portra       warm, soft, slightly muted film; flattering warm skin, lifted shadows
fuji-velvia        saturated, contrasty slide film; lush greens and deep blue skies
kodachrome         rich warm colours, deep shadows, strong blue skies
teal-orange        cinematic: cool teal skies/water/shadows, warm orange skin, contrast
muted-bw           black-and-white-ish: nearly no colour, firm contrast
winter-morning     cold, pale, low-saturation morning light; bright snow
autumn             warm oranges, yellowed foliage, rich colour
summer             bright, saturated, warm light, blue sky, green foliage
golden-hour        low warm sun: strongly warm, glowing, soft contrast
blue-hour          the cool dusk: blue cast, darker, saturated sky
midday             neutral, bright, contrasty hard light
moody              darker, desaturated, contrasty, cool; darker sky
airy               bright, soft, light shadows, gentle colour
dreamy             soft, glowing, low clarity and contrast, a little warm
vintage            faded: low saturation and contrast, warm, lifted blacks
cyberpunk          neon: magenta tint, cool cast, saturated, contrasty, darker
=================  =====================================================================
"""

from __future__ import annotations

from dataclasses import dataclass, field

from pertouch.engine.attributes import LEVEL_EXTENDED

E = dict[str, dict[str, dict[str, float]]]


def _to(v: float, direction: int | None = None) -> dict[str, float]:
    return {"to": v} if direction is None else {"to": v, "dir": float(direction)}


def _by(v: float) -> dict[str, float]:
    return {"by": v}


@dataclass(frozen=True)
class Style:
    """A named look: ``edits[label][attribute] = {"to": level} | {"by": shift}``."""

    name: str
    description: str
    aliases: tuple[str, ...] = ()
    edits: E = field(default_factory=dict)


STYLES: dict[str, Style] = {s.name: s for s in (
    Style("kodak-portra", "warm soft muted film look with flattering skin tones and lifted shadows",
          ("kodak portra", "portra", "kodak", "kodak film", "film look", "film", "analog", "analogue", "35mm"),
          {"global": {"temperature": _to(0.25), "colorfulness": _to(-0.15), "contrast": _to(-0.2), "shadows": _by(0.15)},
           "person": {"temperature": _to(0.3)}, "skin": {"temperature": _to(0.3), "colorfulness": _to(-0.05)},
           "vegetation": {"colorfulness": _to(-0.2)}, "sky": {"colorfulness": _to(-0.1)}}),
    Style("fuji-velvia", "vivid saturated slide film with lush greens, deep blue skies and strong contrast",
          ("fuji velvia", "velvia", "fuji", "fujifilm", "slide film"),
          {"global": {"colorfulness": _to(0.6), "contrast": _to(0.35)},
           "vegetation": {"colorfulness": _to(0.7)}, "sky": {"colorfulness": _to(0.6), "temperature": _to(-0.1)},
           "skin": {"colorfulness": _to(0.1)}, "person": {"colorfulness": _to(0.15)}}),
    Style("kodachrome", "rich warm colours, deep shadows and strong blue skies of classic slide film",
          ("kodachrome", "kodak chrome"),
          {"global": {"colorfulness": _to(0.4), "contrast": _to(0.3), "temperature": _to(0.15), "shadows": _by(-0.1)},
           "sky": {"temperature": _to(-0.15), "colorfulness": _to(0.5)}, "skin": {"temperature": _to(0.2)}}),
    Style("teal-orange", "cinematic teal and orange grade: cool skies and shadows, warm skin, contrast",
          ("teal and orange", "teal orange", "orange and teal", "cinematic", "more cinematic", "movie", "film still", "hollywood", "blockbuster"),
          {"global": {"contrast": _to(0.3), "colorfulness": _to(0.1), "shadows": _by(-0.05)},
           "sky": {"temperature": _to(-0.5)}, "water": {"temperature": _to(-0.5)},
           "building": {"temperature": _to(-0.3)}, "vegetation": {"temperature": _to(-0.2), "colorfulness": _to(-0.1)},
           "person": {"temperature": _to(0.35)}, "skin": {"temperature": _to(0.35)}, "face": {"temperature": _to(0.35)}}),
    Style("muted-bw", "black and white or almost colourless, muted, firm contrast",
          ("black and white", "b&w", "bw", "monochrome", "grayscale", "greyscale", "noir", "muted", "desaturated look"),
          {"global": {"colorfulness": _to(-0.9), "contrast": _to(0.2)}}),
    Style("winter-morning", "cold pale winter morning light, low saturation, bright snow",
          ("cold winter morning", "winter morning", "winter", "wintry", "frosty", "cold morning", "icy"),
          {"global": {"temperature": _to(-0.5), "colorfulness": _to(-0.3), "contrast": _to(-0.1), "brightness": _by(0.1)},
           "sky": {"temperature": _to(-0.6)}, "snow": {"brightness": _by(0.15), "temperature": _to(-0.4)},
           "skin": {"temperature": _to(-0.1)}}),
    Style("autumn", "warm autumn colours: orange and yellow foliage, rich colour",
          ("autumn", "fall", "autumnal", "fall colors", "fall colours", "autumn colours", "autumn colors"),
          {"global": {"temperature": _to(0.4), "colorfulness": _to(0.35)},
           "vegetation": {"temperature": _to(0.6), "colorfulness": _to(0.5), "tint": _by(-0.1)},
           "sky": {"colorfulness": _to(0.2)}}),
    Style("summer", "bright saturated warm summer day, blue sky, green foliage",
          ("summer", "summery", "sunny", "summer day", "sunny day", "vacation"),
          {"global": {"brightness": _by(0.15), "colorfulness": _to(0.35), "temperature": _to(0.2), "contrast": _to(0.15)},
           "sky": {"temperature": _to(-0.2), "colorfulness": _to(0.5)}, "vegetation": {"colorfulness": _to(0.45), "tint": _by(0.05)},
           "water": {"colorfulness": _to(0.4), "temperature": _to(-0.2)}}),
    Style("golden-hour", "low warm evening sun: strongly warm glowing light, soft contrast",
          ("golden hour", "sunset", "sunrise", "evening sun", "magic hour", "late afternoon"),
          {"global": {"temperature": _to(0.6), "colorfulness": _to(0.25), "contrast": _to(-0.05), "brightness": _by(0.05), "highlights": _by(-0.05)},
           "sky": {"temperature": _to(0.7)}, "person": {"temperature": _to(0.5)}, "skin": {"temperature": _to(0.5)}}),
    Style("blue-hour", "cool blue dusk light, darker, saturated deep blue sky",
          ("blue hour", "dusk", "twilight", "nightfall"),
          {"global": {"temperature": _to(-0.6), "colorfulness": _to(0.2), "brightness": _by(-0.15)},
           "sky": {"temperature": _to(-0.7), "colorfulness": _to(0.4)}, "building": {"temperature": _to(-0.3)}}),
    Style("midday", "neutral bright contrasty midday light",
          ("midday", "noon", "high noon", "harsh sun", "daylight", "bright daylight"),
          {"global": {"temperature": _to(0.0), "brightness": _by(0.15), "contrast": _to(0.35), "colorfulness": _to(0.2), "shadows": _by(-0.05)},
           "sky": {"colorfulness": _to(0.4)}}),
    Style("moody", "dark desaturated contrasty cool mood, darker sky",
          ("moody", "moodier", "dark and moody", "gloomy", "brooding", "somber", "sombre", "melancholic"),
          {"global": {"brightness": _by(-0.25), "contrast": _to(0.3), "colorfulness": _to(-0.35), "temperature": _to(-0.15), "shadows": _by(-0.15)},
           "sky": {"brightness": _by(-0.3)}}),
    Style("airy", "bright light and soft, open shadows, gentle pastel colour",
          ("airy", "airier", "light and airy", "bright and airy", "pastel", "high key", "high-key"),
          {"global": {"brightness": _by(0.3), "contrast": _to(-0.3), "colorfulness": _to(-0.15), "shadows": _by(0.25), "temperature": _to(0.05)}}),
    Style("dreamy", "soft glowing dreamy haze, low clarity and contrast, slightly warm",
          ("dreamy", "dreamier", "dreamlike", "ethereal", "soft focus", "hazy", "romantic", "fairytale"),
          {"global": {"clarity": _by(-0.3), "contrast": _to(-0.3), "brightness": _by(0.15), "highlights": _by(0.1), "colorfulness": _to(-0.1), "temperature": _to(0.15)}}),
    Style("vintage", "faded old photo: low saturation and contrast, warm, lifted blacks",
          ("vintage", "retro", "old photo", "faded", "old-school", "polaroid", "nostalgic", "70s", "seventies", "old film"),
          {"global": {"colorfulness": _to(-0.3), "contrast": _to(-0.25), "temperature": _to(0.3), "shadows": _by(0.2), "tint": _by(-0.05)}}),
    Style("cyberpunk", "neon night: magenta and cyan, cool cast, saturated, contrasty, darker",
          ("cyberpunk", "neon", "synthwave", "blade runner", "futuristic", "vaporwave"),
          {"global": {"tint": _by(-0.4), "temperature": _to(-0.4), "colorfulness": _to(0.6), "contrast": _to(0.4), "brightness": _by(-0.1)},
           "sky": {"tint": _by(-0.5)}, "skin": {"temperature": _to(0.1)}}),
)}

#: alias (lowercase) → style name; names themselves and their spaced forms included.
ALIASES: dict[str, str] = {}
for _s in STYLES.values():
    for _a in (_s.name, _s.name.replace("-", " "), *_s.aliases):
        ALIASES.setdefault(_a.lower(), _s.name)


#: A photo already past a style's level in the style's direction moves this much further.
PAST_PUSH = 0.05


def direction_of(spec: dict[str, float]) -> int:
    """+1 / −1: the way a style entry pushes a photo (declared ``dir``, else the sign of
    ``to`` relative to neutral 0, else the sign of ``by``); 0 for a neutral entry."""
    if "dir" in spec:
        v = spec["dir"]
    else:
        v = spec["to"] if "to" in spec else spec.get("by", 0.0)
    return (v > 0) - (v < 0)


#: A style moves a region's level at most this far in one go: styles are looks, not
#: absolute orders, and a blue-hour photo pulled all the way to a golden-hour level
#: turns garish (measured: rocket, global temperature −0.64 → +0.60 came out orange).
MAX_STYLE_STEP = 0.6

#: A measured level this close to ±LEVEL_EXTENDED is at the end of the scale: it cannot be pushed further.
SCALE_END = LEVEL_EXTENDED - 0.02


def guarded_level(level: float, measured: float | None, direction: int) -> float | None:
    """The level to plan for a style's absolute ``level`` on a region measured at ``measured``.

    Toward ``level`` when that is the style's way; when the region is already at or
    past ``level`` in ``direction``, its own level pushed :data:`PAST_PUSH` further;
    ``None`` — hold the region where it is (plan ``by 0``) — when that push would reach
    the end of the scale, ±LEVEL_EXTENDED. Measured levels go past ±1 (a deep-blue
    sky), so a pushed level may too: the planner then asks for it as a ``by`` shift.
    Neutral entries (``direction`` 0) and unmeasured regions get ``level``. A move
    toward ``level`` is at most :data:`MAX_STYLE_STEP` long.

    >>> guarded_level(-0.5, -0.64, -1), guarded_level(-0.5, 0.2, -1), guarded_level(0.0, 0.4, 0)
    (-0.69, -0.4, 0.0)
    >>> guarded_level(-0.6, -1.0, -1), guarded_level(-0.6, -1.47, -1) is None
    (-1.05, True)
    """
    if measured is None or direction == 0:
        return level
    if direction * (measured - level) < 0:
        step = level - measured
        if abs(step) <= MAX_STYLE_STEP:
            return level
        return round(measured + (MAX_STYLE_STEP if step > 0 else -MAX_STYLE_STEP), 4)
    pushed = measured + direction * PAST_PUSH
    return None if abs(pushed) >= SCALE_END else round(pushed, 4)


def get_style(name: str) -> Style | None:
    """A style by name or alias (case-insensitive), or None."""
    key = ALIASES.get(name.strip().lower())
    return STYLES.get(key) if key else None


def style_names() -> list[str]:
    return list(STYLES)
