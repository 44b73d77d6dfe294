"""The style library: named looks as recipes over region labels.

Each :class:`Style` maps region labels (``global`` plus sky and people: person, skin,
face) to attribute edits. ``to`` is an
absolute level in [−1, 1] (0 = typical well-retouched level); ``by`` a shift from
the measured level — used for brightness and the extended attributes, whose right
absolute value depends on the photo. Entries for labels the photo lacks are
dropped by the planner; ``global`` always applies.

Region entries are for the sky and for people only: those masks are the surest, and a
look lives in them (a deep sky, warm skin). Foliage, water, buildings and ground follow the
whole photo: their masks bleed onto the subject in close-ups (a vegetation colour boost
solved on dark leaves put a neon rim on the flower's petals) and what a level step asks of
an operator there depends on content the planner cannot see.

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
teal-orange        cinematic: cool teal skies, warm orange skin, contrast
muted-bw           black-and-white-ish: nearly no colour, firm contrast
winter-morning     cold, pale, low-saturation morning light
autumn             warm oranges, yellowed foliage, rich colour
summer             bright, saturated, warm light, blue sky, green foliage
golden-hour        low warm sun: strongly warm, glowing, soft contrast
blue-hour          the cool dusk: blue cast, darker, saturated sky
midday             neutral, bright, contrasty hard light
moody              darker, desaturated, contrasty, cool
airy               bright, soft, light shadows, gentle colour
dreamy             soft, glowing, low clarity and contrast, open shadows, a little warm
vintage            faded: low saturation and contrast, warm, lifted blacks
cyberpunk          neon: magenta tint, cool cast, saturated, contrasty, darker
=================  =====================================================================
"""

from __future__ import annotations

from dataclasses import dataclass, field

from pertouch.engine.schema.attributes import LEVEL_EXTENDED

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
    #: per-attribute level caps that replace :data:`STYLE_CAPS` for this style
    caps: dict[str, float] = field(default_factory=dict)
    #: per-attribute operator strength caps that replace :data:`STRENGTH_CAPS` for this style
    strength: dict[str, tuple[float, float]] = field(default_factory=dict)
    #: how far (Lab |b*|) the look may tint the photo's whites (a light look: further)
    whites: float = 12.0
    #: the attributes that make the look (a winter morning is cold): the others give way to them
    #: where their coupling would hold them back (:func:`~pertouch.graph.vlm.builtin.style_guard.gentle_global`)
    key: tuple[str, ...] = ()


STYLES: dict[str, Style] = {s.name: s for s in (
    Style("kodak-portra", "warm soft muted film look with flattering skin tones and lifted shadows",
          ("kodak portra", "portra", "kodak", "kodak film", "film look", "film", "analog", "analogue", "35mm"),
          {"global": {"temperature": _to(0.25), "colorfulness": _to(-0.15), "contrast": _to(-0.2), "shadows": _by(0.15)},
           "person": {"temperature": _to(0.3)}, "skin": {"temperature": _to(0.3), "colorfulness": _to(-0.05)},
           "sky": {"colorfulness": _to(-0.1)}}),
    Style("fuji-velvia", "vivid saturated slide film with lush greens, deep blue skies and strong contrast",
          ("fuji velvia", "velvia", "fuji", "fujifilm", "slide film"),
          {"global": {"colorfulness": _to(0.6), "contrast": _to(0.35)},
           "sky": {"colorfulness": _to(0.6), "temperature": _to(-0.1)},
           "skin": {"colorfulness": _to(0.1)}, "person": {"colorfulness": _to(0.15)}}),
    Style("kodachrome", "rich warm colours, deep shadows and strong blue skies of classic slide film",
          ("kodachrome", "kodak chrome"),
          {"global": {"colorfulness": _to(0.4), "contrast": _to(0.3), "temperature": _to(0.15), "shadows": _by(-0.1)},
           "sky": {"temperature": _to(-0.15), "colorfulness": _to(0.5)}, "skin": {"temperature": _to(0.2)}}),
    Style("teal-orange", "cinematic teal and orange grade: cool skies and shadows, warm skin, contrast",
          ("teal and orange", "teal orange", "orange and teal", "cinematic", "more cinematic", "movie", "film still", "hollywood", "blockbuster"),
          {"global": {"contrast": _to(0.3), "colorfulness": _to(0.1), "shadows": _by(-0.05)},
           "sky": {"temperature": _to(-0.5)},
           "person": {"temperature": _to(0.35)}, "skin": {"temperature": _to(0.35)}, "face": {"temperature": _to(0.35)}}),
    Style("muted-bw", "black and white or almost colourless, muted, firm contrast",
          ("black and white", "b&w", "bw", "monochrome", "grayscale", "greyscale", "noir", "muted", "desaturated look"),
          {"global": {"colorfulness": _to(-1.3), "contrast": _to(0.2)}}, caps={"colorfulness": 2.0},
          strength={"colorfulness": (-6.0, 0.5)}),
    Style("winter-morning", "cold pale winter morning light, low saturation, bright snow",
          ("cold winter morning", "winter morning", "winter", "wintry", "frosty", "cold morning", "icy"),
          {"global": {"temperature": _to(-0.5), "colorfulness": _to(-0.3), "contrast": _to(-0.1), "brightness": _by(0.1)},
           "skin": {"temperature": _to(-0.1)}}, strength={"temperature": (-1.0, 0.5)}, whites=18.0,
          key=("temperature",)),
    Style("autumn", "warm autumn colours: orange and yellow foliage, rich colour",
          ("autumn", "fall", "autumnal", "fall colors", "fall colours", "autumn colours", "autumn colors"),
          {"global": {"temperature": _to(0.4), "colorfulness": _to(0.35), "tint": _by(-0.05)},
           "sky": {"colorfulness": _to(0.2)}}, strength={"temperature": (-0.5, 0.7)}, whites=18.0),
    Style("summer", "bright saturated warm summer day, blue sky, green foliage",
          ("summer", "summery", "sunny", "summer day", "sunny day", "vacation"),
          {"global": {"brightness": _by(0.15), "colorfulness": _to(0.35), "temperature": _to(0.2), "contrast": _to(0.15)},
           "sky": {"temperature": _to(-0.2), "colorfulness": _to(0.5)}}),
    Style("golden-hour", "low warm evening sun: strongly warm glowing light, soft contrast",
          ("golden hour", "sunset", "sunrise", "evening sun", "magic hour", "late afternoon"),
          {"global": {"temperature": _to(0.6), "colorfulness": _to(0.25), "contrast": _to(-0.05), "brightness": _by(0.05), "highlights": _by(-0.05)},
           "sky": {"temperature": _to(0.7)}, "person": {"temperature": _to(0.5)}, "skin": {"temperature": _to(0.5)}},
          strength={"temperature": (-0.5, 1.0)}, whites=25.0),
    Style("blue-hour", "cool blue dusk light, darker, saturated deep blue sky",
          ("blue hour", "dusk", "twilight", "nightfall"),
          {"global": {"temperature": _to(-0.6), "colorfulness": _to(0.2), "brightness": _by(-0.15)},
           "sky": {"temperature": _to(-0.7), "colorfulness": _to(0.4)}}, strength={"temperature": (-1.0, 0.5)},
          whites=25.0),
    Style("midday", "neutral bright contrasty midday light",
          ("midday", "noon", "high noon", "harsh sun", "daylight", "bright daylight"),
          {"global": {"temperature": _to(0.0), "brightness": _by(0.15), "contrast": _to(0.35), "colorfulness": _to(0.2), "shadows": _by(-0.05)},
           "sky": {"colorfulness": _to(0.4)}}),
    Style("moody", "dark desaturated contrasty cool mood, darker sky",
          ("moody", "moodier", "dark and moody", "gloomy", "brooding", "somber", "sombre", "melancholic"),
          {"global": {"brightness": _by(-0.25), "contrast": _to(0.3), "colorfulness": _to(-0.35), "temperature": _to(-0.15), "shadows": _by(-0.05)}}),
    Style("airy", "bright light and soft, open shadows, gentle pastel colour",
          ("airy", "airier", "light and airy", "bright and airy", "pastel", "high key", "high-key"),
          {"global": {"brightness": _by(0.3), "contrast": _to(-0.3), "colorfulness": _to(-0.15), "shadows": _by(0.25), "temperature": _to(0.05)}}),
    Style("dreamy", "soft glowing dreamy haze, low clarity and contrast, slightly warm",
          ("dreamy", "dreamier", "dreamlike", "ethereal", "soft focus", "hazy", "romantic", "fairytale"),
          {"global": {"clarity": _by(-0.3), "contrast": _to(-0.3), "brightness": _by(0.15), "shadows": _by(0.15), "colorfulness": _to(-0.1), "temperature": _to(0.15)}}),
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


#: A style moves a region's level at most this far in one go when it names no cap (the
#: default of :func:`guarded_level`; the planner passes the style's caps instead).
MAX_STYLE_STEP = 0.6

#: The most a style moves a level of the whole photo, per attribute. A style is asked
#: for, so it may go further than a weak-optimize nudge (0.15), but not so far that a
#: look turns garish: measured on the bundled photos, golden hour past +0.3 temperature
#: turns a daylight scene orange, velvia past +0.3 colourfulness makes skies cyan and
#: foliage neon, contrast past +0.25 crunches fur and crushes shadows, a brightness
#: shift past 0.2 greys or blows skies. A style may raise a cap (black and white must
#: take the colour out).
STYLE_CAPS: dict[str, float] = {"temperature": 0.3, "tint": 0.15, "colorfulness": 0.3, "contrast": 0.25,
                                "brightness": 0.2, "highlights": 0.15, "shadows": 0.2, "clarity": 0.3}
#: A region's own shift is at most this beyond the whole photo's shift under it (a region
#: edit has an edge; more than this shows as a halo or a seam on a mislabelled border) ...
REGION_STYLE_CAP = 0.1
#: ... and only regions whose label is this sure, covering this much of the photo, get one.
STYLE_REGION_MIN_CONFIDENCE, STYLE_REGION_MIN_AREA = 0.6, 0.02
#: Region shifts smaller than this beyond the global one are left out (the region follows the photo).
STYLE_MIN_EXTRA = 0.03


#: The most a style's whole-photo shift may ask of an operator (:mod:`pertouch.engine.ops.operators`
#: units), (most down, most up): temperature 50 mired either way (6500 K → 5000 K or 9000 K:
#: a clearly warmer or cooler light, not a colour cast), tint ±0.3, colour ×0.5…×1.41,
#: contrast slope ×0.71…×1.27, exposure ±½ stop, highlights/shadows ±0.3, clarity ±0.5.
#: The looks that ARE a light (golden hour, blue hour, winter morning) may go to 100 mired,
#: black and white to no colour at all.
STRENGTH_CAPS: dict[str, tuple[float, float]] = {
    "temperature": (-0.5, 0.5), "tint": (-0.3, 0.3), "colorfulness": (-1.0, 0.5), "contrast": (-0.5, 0.35),
    "brightness": (-0.25, 0.25), "highlights": (-0.3, 0.3), "shadows": (-0.3, 0.3), "clarity": (-0.5, 0.5)}


def strength_caps(style: Style) -> dict[str, tuple[float, float]]:
    """:data:`STRENGTH_CAPS` with the style's own."""
    return {**STRENGTH_CAPS, **style.strength}


def cap_of(style: Style, attribute: str) -> float:
    """The most ``style`` moves ``attribute`` of the whole photo (:data:`STYLE_CAPS`, or the style's own)."""
    return style.caps.get(attribute, STYLE_CAPS.get(attribute, MAX_STYLE_STEP))

#: A measured level this close to ±LEVEL_EXTENDED is at the end of the scale: it cannot be pushed further.
SCALE_END = LEVEL_EXTENDED - 0.02


def guarded_level(level: float, measured: float | None, direction: int,
                  step: float = MAX_STYLE_STEP) -> float | None:
    """The level to plan for a style's absolute ``level`` on a region measured at ``measured``.

    Toward ``level`` when that is the style's way; when the region is already at or
    past ``level`` in ``direction``, its own level pushed :data:`PAST_PUSH` further;
    ``None`` — hold the region where it is (plan ``by 0``) — when that push would reach
    the end of the scale, ±LEVEL_EXTENDED. Measured levels go past ±1 (a deep-blue
    sky), so a pushed level may too: the planner then asks for it as a ``by`` shift.
    Unmeasured regions get ``level``; neutral entries (``direction`` 0) move toward it.
    A move toward ``level`` is at most ``step`` long.

    >>> guarded_level(-0.5, -0.64, -1), guarded_level(-0.5, 0.2, -1), guarded_level(0.0, 0.4, 0)
    (-0.69, -0.4, 0.0)
    >>> guarded_level(-0.6, -1.0, -1), guarded_level(-0.6, -1.47, -1) is None
    (-1.05, True)
    >>> guarded_level(0.6, -0.2, 1, step=0.3)
    0.1
    """
    if measured is None:
        return level
    if direction == 0 or direction * (measured - level) < 0:
        delta = level - measured
        if abs(delta) <= step:
            return level
        return round(measured + (step if delta > 0 else -step), 4)
    pushed = measured + direction * PAST_PUSH
    return None if abs(pushed) >= SCALE_END else round(pushed, 4)


def get_style(name: str) -> Style | None:
    """A style by name or alias (case-insensitive), or None."""
    key = ALIASES.get(name.strip().lower())
    return STYLES.get(key) if key else None


def style_names() -> list[str]:
    return list(STYLES)
