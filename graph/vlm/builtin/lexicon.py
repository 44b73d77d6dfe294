"""The builtin parser's lexicon: words and phrases → typed tags.

Attribute *nouns* come from the attribute registry (names + synonyms); the words
that also carry a direction ("brighter", "cool down", "desaturate") are listed
here. Sizes come from :mod:`pertouch.graph.vlm.magnitudes`, styles from
:mod:`pertouch.graph.vlm.builtin.styles`. A tag is a tuple whose first item is its
kind:

- ``("attr", attribute, direction|None)`` — direction "up"/"down" or None for a noun
- ``("region", label)`` / ``("global",)``
- ``("mag", shift)`` — a size word
- ``("dir", "up"|"down")`` — a verb or adverb that says which way (increase, lower…)
- ``("more",)`` / ``("less",)`` / ``("too",)`` / ``("lacks",)`` — comparatives and complaints
- ``("neg",)`` — starts a "leave this alone" clause; ``("keep",)`` only with a keep-word after it
- ``("set",)`` / ``("by",)`` / ``("stop",)`` / ``("percent",)`` — number context
- ``("oos", why)`` — never a retouch (files, crop, add objects); ``("objverb",)`` add/remove:
  a retouch verb before an attribute ("add warmth"), out of scope otherwise
- ``("optimize",)`` — "make it better", "enhance"; ``("stylecue",)`` — look, style, vibe…
- ``("sep",)`` — clause separator; ``("only",)``; ``("purpose",)`` — "so (that) the …": the
  rest of the clause is the reason, not an edit
"""

from __future__ import annotations

from pertouch.engine.schema.attributes import ALIASES as ATTRIBUTE_ALIASES
from pertouch.graph.vlm.builtin.styles import ALIASES as STYLE_ALIASES
from pertouch.graph.vlm.magnitudes import MAGNITUDES

Tag = tuple

#: Region words → label. Labels follow perception's; "subject" and "background"
#: are resolved by the planner (main subject / everything but people and subject).
REGION_WORDS: dict[str, tuple[str, ...]] = {
    "sky": ("sky", "skies", "the heavens", "blue sky"),
    "clouds": ("clouds", "cloud", "cloudscape"),
    "water": ("water", "sea", "ocean", "lake", "river", "waves", "pond", "waterfall", "seascape", "stream"),
    "vegetation": ("trees", "tree", "grass", "foliage", "leaves", "plants", "greenery", "forest", "vegetation",
                   "bushes", "lawn", "meadow", "woods", "jungle", "flowers", "garden", "field", "fields", "hedge"),
    "person": ("person", "people", "man", "woman", "girl", "boy", "guy", "lady", "model", "kid", "child",
               "children", "portrait subject", "couple", "bride", "groom", "astronaut", "body", "figure"),
    "face": ("face", "faces", "cheeks"),
    "skin": ("skin", "skin tone", "skin tones", "skintone", "skintones", "complexion"),
    "hair": ("hair",),
    "building": ("building", "buildings", "architecture", "house", "houses", "city",
                 "skyline", "tower", "church", "facade", "cityscape", "building facade"),
    "ground": ("ground", "road", "sand", "beach", "street", "path", "pavement", "dirt",
               "mountains", "mountain", "hills", "rocks", "field of sand", "desert"),
    # surfaces perception finds as a labelled region or, failing that, as the part of the
    # background above / below the people (tools/finding.py)
    "wall": ("wall", "walls", "the wall behind"),
    "floor": ("floor", "floors"),
    "ceiling": ("ceiling",),
    "table": ("table", "tabletop", "desk", "countertop"),
    "snow": ("snow", "snowfield", "ice"),
    "subject": ("subject", "main subject", "foreground", "object"),
    "background": ("background", "backdrop", "surroundings"),
}

#: Things a photo's main subject often is: the parser keeps the word itself as the label
#: ("eagle"); the planner falls back to the main subject when no region has that label.
OBJECT_WORDS = ("eagle", "bird", "cat", "dog", "animal", "car", "mug", "cup", "coffee", "rocket", "horse",
                "boat", "flower", "bike", "bicycle", "statue", "fish", "butterfly", "food", "plate", "bottle",
                # common things in photos (COCO's classes, less the words that also name a colour or a tone)
                "bus", "truck", "train", "motorcycle", "motorbike", "van", "airplane", "plane", "ship",
                "bench", "chair", "sofa", "couch", "bed", "lamp", "vase", "book", "books", "clock", "laptop",
                "phone", "umbrella", "bag", "backpack", "suitcase", "ball", "kite", "skateboard", "surfboard",
                "glass", "wine glass", "bowl", "cake", "pizza", "fruit", "banana", "apple", "sandwich",
                "cow", "sheep", "elephant", "bear", "zebra", "giraffe", "duck", "swan", "puppy", "kitten",
                "car door", "bus stop", "sign", "traffic light", "pole", "fence", "bridge", "window", "windows",
                "door", "roof", "boat sail", "sail", "candle", "vegetables", "bread", "guitar", "piano")

GLOBAL_WORDS = ("image", "photo", "picture", "pic", "shot", "photograph", "everything", "overall", "whole thing",
                "whole image", "whole photo", "entire image", "entire photo", "scene", "frame", "all of it",
                "globally", "the whole picture", "whole picture")

#: Style aliases that are also plain scene words ("the sunset sky"): a style only without other edits or with a cue.
SCENE_STYLE_WORDS = frozenset({"sunset", "sunrise", "winter", "summer", "fall", "autumn", "dusk", "twilight", "noon",
                               "midday", "daylight", "film", "movie", "neon", "kodak", "fuji", "icy", "sunny",
                               "vacation", "nightfall", "evening sun", "late afternoon", "snapshot", "analog",
                               "moodier", "dreamier", "airier"})

#: Directed words that name a colour: after "reduce"/"cut" they flip ("reduce the green" = less green).
COLOUR_WORDS = frozenset({"green", "greenish", "magenta", "blue", "orange", "yellow", "red", "reddish", "warm",
                          "cool", "cold", "golden"})

#: Words with an attribute AND a direction.
DIRECTED: dict[str, tuple[str, str]] = {}


def _d(attr: str, direction: str, *words: str) -> None:
    for w in words:
        DIRECTED[w] = (attr, direction)


_d("brightness", "up", "brighter", "brighten", "brightened", "brighten up", "lighter", "lighten", "lighten up",
   "light up", "overexpose", "expose more", "bright", "brightening", "luminous", "less dark", "less dim")
_d("brightness", "down", "darker", "darken", "darkened", "dark", "dim", "dimmer", "dim down", "underexpose",
   "deeper", "darkening", "less bright", "tone down the brightness")
_d("temperature", "up", "warmer", "warm", "warm up", "warmed", "golden", "more golden", "orange", "oranger",
   "yellower", "more yellow", "yellow", "yellowish", "toastier", "sunnier", "red", "redder", "reddish", "more red", "less cool", "less cold", "less blue", "blue cast", "cold cast",
   "warming")
_d("temperature", "down", "cooler", "cool", "cool down", "cooled", "colder", "cold", "bluer", "blue", "more blue",
   "bluish", "icier", "icy", "chillier", "less warm", "less yellow", "less orange", "yellow cast", "orange cast",
   "warm cast", "cooling")
_d("colorfulness", "up", "more saturated", "saturate", "saturated", "vivid", "more vivid", "vibrant", "colorful",
   "colourful", "more colorful", "more colourful", "richer", "livelier", "juicier", "boost the colors",
   "boost the colours", "vivider", "lusher", "lush", "poppier", "colors pop", "colours pop",
   "color pop", "colour pop")
_d("colorfulness", "down", "desaturate", "desaturated", "muted", "mute", "washed out", "paler", "pale", "duller",
   "dull", "greyer", "grayer", "less saturated", "less colorful", "less colourful", "less vivid", "tone down",
   "subdued", "faded", "fade")
_d("contrast", "up", "pop", "make it pop", "contrasty", "punchier", "punchy", "more contrasty", "higher contrast", "more pop",
   "poppy", "bolder")
_d("contrast", "down", "flatter", "flat", "flatten", "lower contrast", "less contrasty", "softer contrast",
   "less punchy")
_d("clarity", "up", "sharper", "sharpen", "sharp", "crisper", "crisp", "crispier", "more detail", "more defined",
   "clearer", "more texture", "more detailed", "defined")
_d("clarity", "down", "softer", "soften", "soft", "smoother", "smooth", "smoothen", "blurrier", "blur",
   "less sharp", "less detail", "less texture")
_d("tint", "up", "greener", "green", "greenish", "more green", "less magenta", "less pink", "magenta cast", "pink cast",
   "purple cast")
_d("tint", "down", "more magenta", "pinker", "magenta", "less green", "green cast", "purpler")
_d("shadows", "up", "lift the shadows", "lift shadows", "open up the shadows", "open the shadows",
   "brighter shadows", "lifted shadows", "lighter shadows")
_d("shadows", "down", "crush the blacks", "crush the shadows", "deepen the shadows", "deeper shadows",
   "darker shadows", "deeper blacks", "crushed blacks", "richer blacks")
_d("highlights", "down", "recover the highlights", "recover highlights", "tame the highlights",
   "tame highlights", "blown highlights", "blown out", "overexposed", "pull back the highlights")
_d("highlights", "up", "brighter highlights", "boost the highlights", "glowing highlights")

#: Nouns from the registry whose direction is not in the word ("contrast", "saturation").
NOUN_SKIP = {"bright", "brighter", "brighten", "darker", "darken", "dark", "light", "lighter", "warm", "warmer",
             "cool", "cooler", "cold", "colder", "saturated", "vivid", "crisp", "sharp", "sharper", "sharpen",
             "contrasty", "exposed", "tone", "color", "colour", "colors", "colours", "punch", "depth", "pop",
             "magenta", "lift shadows", "bright parts", "dark parts"}
NOUNS: dict[str, str] = {w: a for w, a in ATTRIBUTE_ALIASES.items() if w not in NOUN_SKIP}
NOUNS.update({"colors": "colorfulness", "colours": "colorfulness", "color": "colorfulness",
              "colour": "colorfulness", "colour saturation": "colorfulness", "color saturation": "colorfulness",
              "pop": "contrast", "punch": "contrast", "tonal contrast": "contrast", "white balance": "temperature",
              "color temperature": "temperature", "colour temperature": "temperature", "light": "brightness",
              "exposure": "brightness", "blacks": "shadows", "whites": "highlights", "green tint": "tint",
              "the darks": "shadows", "the lights": "highlights", "sharpness": "clarity", "warmth": "temperature"})

DIR_WORDS: dict[str, str] = {}
for _w in ("increase", "increased", "boost", "boosted", "raise", "raised", "up", "higher", "high",
           "amplify", "pump up", "bump up", "bump", "crank up", "push", "intensify", "strengthen", "more of",
           "heighten", "turn up", "dial up", "add more", "add some", "give it more", "deepen", "lift", "lifted"):
    DIR_WORDS[_w] = "up"
for _w in ("decrease", "decreased", "reduce", "reduced", "lower", "low", "down", "cut", "drop", "dial down",
           "turn down", "pull back", "bring down", "weaken", "minimize", "minimise", "lessen",
           "take down", "knock down", "recover", "tame", "kill", "get rid of some", "cut back"):
    DIR_WORDS[_w] = "down"

NEG_WORDS = ("leave", "leaving", "don't touch", "dont touch", "do not touch", "don't change", "dont change", "do not change",
             "don't edit", "do not edit", "don't alter", "do not alter", "don't affect", "do not affect",
             "don't modify", "do not modify", "don't mess with", "do not mess with", "hands off", "without touching",
             "without changing", "without affecting", "without altering", "exclude", "protect", "avoid", "preserve",
             "avoid touching", "don't", "do not", "dont", "never touch", "ignore", "no changes to", "no change to",
             "no edits to", "no changes on", "no edits on", "no changes in")
#: "everything except the sky": only region words follow, then the sentence goes on.
EXCLUDE_WORDS = ("except", "except for", "apart from", "but not", "not the", "excluding", "other than",
                 "not on the", "not in the", "except the", "save for")
KEEP_AFTER = ("as is", "as it is", "unchanged", "untouched", "the same", "natural", "intact", "alone", "original",
              "how it is", "like it is", "as they are", "the way it is", "same")

OOS: dict[str, str] = {}
for _w, _why in (
    ("delete", "deleting things"), ("files", "files"), ("file", "files"), ("folder", "files"),
    ("email", "sending messages"), ("send", "sending messages"), ("upload", "uploading"),
    ("download", "downloading"), ("crop", "cropping"), ("rotate", "rotating"), ("resize", "resizing"),
    ("flip", "flipping"), ("straighten", "straightening"), ("upscale", "upscaling"), ("erase", "erasing objects"),
    ("insert", "adding objects"), ("draw", "drawing"), ("replace", "replacing content"), ("swap", "swapping content"),
    ("password", "non-photo tasks"), ("weather", "non-photo questions"), ("poem", "writing text"),
    ("write", "writing text"), ("code", "writing code"), ("install", "installing software"),
    ("hack", "non-photo tasks"), ("rm -rf", "shell commands"), ("shutdown", "shell commands"),
    ("unicorn", "adding objects"), ("dragon", "adding objects"), ("text", "adding text"),
    ("watermark", "adding text"), ("caption", "adding text"), ("logo", "adding objects"),
    ("moustache", "adding objects"), ("mustache", "adding objects"), ("hat", "adding objects"),
    ("translate", "non-photo tasks"), ("bitcoin", "non-photo tasks"), ("recipe for", "non-photo tasks"),
    ("joke", "non-photo tasks"), ("format", "non-photo tasks"), ("video", "video"), ("animate", "animation"),
    ("print", "printing"), ("teeth whitening", "retouching details such as teeth"), ("slimmer", "reshaping bodies"),
    ("thinner", "reshaping bodies"), ("taller", "reshaping bodies"), ("wrinkles", "removing details"),
    ("blemishes", "removing details"), ("red eye", "removing details"), ("red-eye", "removing details"),
    ("make me look", "reshaping bodies"), ("computer", "non-photo tasks"), ("disk", "non-photo tasks"),
    ("sunglasses", "adding objects"), ("shirt", "recolouring objects"), ("dress", "recolouring objects"),
    ("jacket", "recolouring objects"), ("clothes", "recolouring objects"), ("eye color", "recolouring objects"),
    ("eye colour", "recolouring objects"), ("lipstick", "recolouring objects"), ("car color", "recolouring objects"), ("bigger", "reshaping content"), ("smaller", "reshaping content"),
):
    OOS[_w] = _why
OBJ_VERBS = ("add", "remove", "put", "place", "get rid of", "take out", "paste", "generate", "create", "make a")

OPTIMIZE = ("better", "enhance", "improve", "fix", "nicer", "professional", "optimize", "optimise", "auto",
            "auto enhance", "auto-enhance", "correct", "good", "great", "beautiful", "prettier", "polish", "touch up",
            "retouch", "edit", "best", "awesome", "look good", "stunning", "amazing", "perfect", "pro",
            "clean up", "balanced", "balance", "natural", "fix up", "tidy up", "magic", "cleaner", "nice")
STYLE_CUES = ("look", "style", "vibe", "vibes", "feel", "feeling", "mood", "grade", "grading", "filter",
              "aesthetic", "like", "look like", "tones", "atmosphere", "into", "preset", "as if", "in the style of")
#: Single words of the style cues (a style alias containing one, "film look", is a cue too).
CUE_WORDS = frozenset(w for c in STYLE_CUES for w in c.split() if w not in ("like", "as", "if", "in", "the", "of", "into"))

OTHER: dict[str, Tag] = {
    "more": ("more",), "less": ("less",), "fewer": ("less",), "not as": ("less",), "too": ("too",),
    "lacks": ("lacks",), "lacking": ("lacks",), "not enough": ("lacks",), "needs more": ("lacks",),
    "need more": ("lacks",), "is missing": ("lacks",), "set": ("set",), "to": ("to",), "at": ("to",),
    "=": ("set",), "level": ("to",), "by": ("by",), "stop": ("stop",), "stops": ("stop",), "ev": ("stop",),
    "percent": ("percent",), "per cent": ("percent",), "only": ("only",), "not": ("not",), "enough": ("enough",), "%": ("percent",), "just the": ("only",),
    "keep": ("keep",), "keeping": ("keep",), "but": ("sep",), "then": ("sep",), "while": ("sep",), "plus": ("sep",),
    "and then": ("sep",), "also": ("sep",), "however": ("sep",), "whereas": ("sep",),
    "so that": ("purpose",), "so the": ("purpose",), "so it": ("purpose",), "so they": ("purpose",),
    "them": ("pron",), "they": ("pron",),
    "so she": ("purpose",), "so he": ("purpose",), "in order to": ("purpose",), "so as to": ("purpose",),
}


def build_phrases() -> dict[str, Tag]:
    """All phrases (lowercase, space-separated tokens) → tag; later kinds do not overwrite earlier ones."""
    table: dict[str, Tag] = {}

    def put(phrase: str, tag: Tag) -> None:
        table.setdefault(" ".join(phrase.lower().split()), tag)

    for w, (a, d) in DIRECTED.items():
        put(w, ("attr", a, d))
    for w, a in NOUNS.items():
        put(w, ("attr", a, None))
    for label, words in REGION_WORDS.items():
        for w in words:
            put(w, ("region", label))
    for w in OBJECT_WORDS:
        put(w, ("region", w))
    for w in GLOBAL_WORDS:
        put(w, ("global",))
    for w in NEG_WORDS:
        put(w, ("neg",))
    for w in EXCLUDE_WORDS:
        put(w, ("excl",))
    for w, v in MAGNITUDES.items():
        put(w, ("mag", v))
    for w, d in DIR_WORDS.items():
        put(w, ("dir", d))
    for w, t in OTHER.items():
        put(w, t)
    for w, why in OOS.items():
        put(w, ("oos", why))
    for w in OBJ_VERBS:
        put(w, ("objverb",))
    for w in OPTIMIZE:
        put(w, ("optimize",))
    for w, name in STYLE_ALIASES.items():
        put(w, ("style", name))
    for w in STYLE_CUES:
        put(w, ("stylecue",))
    return table


PHRASES: dict[str, Tag] = build_phrases()
MAX_PHRASE = max(len(p.split()) for p in PHRASES)

#: Words dropped before parsing (they carry nothing and would break adjacency).
FILLER = frozenset("""the of my this that your our its his her their please pls in on for with is are it
me just so can could would you i we us be was were there here whole thing these those them
""".split())

#: Common words never "corrected" by fuzzy matching (they look like lexicon words).
COMMON = frozenset("""
a an the it its it's this that these those make makes made look looks looking please pls can could would you
your my me i we us our is are was were be been being and or of in on for with from into onto over under up
down out off to at by as so very just some any all each much many more most less least little bit lot lots
right night might sight tight fight light slight bright write white while which what when where who whom why how
there their they them then than too also only even still yet again once here now well good great nice fine
give get got gets have has had do does did done doing go goes going see seem seems need needs want wants like
thing things way ways one two three first last next other another same such own back both either neither
photo image picture shot time day days side part parts area areas stuff kind sort bit tone tones colour color
deep grey gray thanks thank thx lol basically literally actually totally honestly ok okay yes no not hey hi hello dear maybe perhaps kinda sorta quite rather pretty really
sky cloud cloudy sunny night light lights dark darks high low tall short warm cool cold hot
""".split())
