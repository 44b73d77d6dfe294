"""Region phrases the builtin parser keeps whole: instances by position and spatial parts.

"brighten the man on the left" must edit one person, "darken the top half" one half of
the frame — the word-by-word lexicon would read "man" (person) and drop "left". Before
tokenising, :func:`extract` replaces each such phrase with a placeholder token; after
tagging, :func:`restore` turns the placeholder into a region item whose label is the
phrase's canonical region name (:func:`pertouch.tools.named.phrase_name`: "left person",
"front 2 people", "top half", "corners"), which perception's ``Scene.find`` resolves.

>>> extract("brighten the man on the left a bit")[1]
{'qqregion0': 'left person'}
"""

from __future__ import annotations

import re

from pertouch.graph.vlm.builtin.tokens import Item

_NOUN = (r"(?:man|woman|person|guy|girl|boy|lady|kid|child|player|people|men|women|guys|girls|boys|kids|children|"
         r"players|ladies|faces?)")
_POS = r"(?:left|right|middle|centre|center|front|back|foreground|background)"
_COUNT = r"(?:two|three|four|both|2|3|4)"
_PATTERNS = (
    # "the man on the left", "the two people in front", "the woman in the middle"
    re.compile(rf"\b(?:the\s+)?(?:{_COUNT}\s+)?{_NOUN}\s+(?:on|in|at|to)\s+(?:the\s+)?(?:far\s+)?{_POS}\b(?:\s+side)?"),
    # "the leftmost person", "the largest face", "the left man"
    re.compile(rf"\b(?:the\s+)?(?:{_COUNT}\s+)?(?:leftmost|rightmost|left|right|middle|largest|biggest|smallest|"
               rf"tallest|front|nearest|closest)\s+{_NOUN}\b"),
    # "top half", "the lower part", "the left side"
    re.compile(r"\b(?:the\s+)?(?:top|bottom|upper|lower|left|right)\s+(?:half|part|side)\b(?:\s+of\s+the\s+"
               r"(?:photo|image|picture|frame))?"),
    re.compile(r"\b(?:the\s+)?(?:four\s+)?(?:corners|edges|borders)\b(?:\s+of\s+the\s+(?:photo|image|picture|frame))?"),
)
PLACEHOLDER = "qqregion"
#: Words for the one region the person pointed at (``--box`` / ``--point``): "selection".
_SELECTION = re.compile(r"\b(?:the\s+)?(?:selection|selected (?:area|region|part)|boxed (?:area|region|part)|"
                        r"pointed (?:area|region|part)|marked (?:area|region|part)|area (?:i|we) (?:pointed at|"
                        r"selected|marked|boxed))\b")


def _described() -> re.Pattern:
    from pertouch.graph.vlm.builtin.lexicon import OBJECT_WORDS

    things = "|".join(sorted((re.escape(w) for w in OBJECT_WORDS), key=len, reverse=True))
    return re.compile(rf"\b(?:the\s+)?(?:red|green|blue|yellow|white|black|grey|gray|pink|purple|brown|"
                      rf"silver|golden)\s+({things})\b")


_DESCRIBED = _described()
_DESCRIBED_BACKGROUND = re.compile(r"\b(?:the\s+)?(?:blurry|blurred|out of focus|out-of-focus|soft|busy)\s+"
                                   r"(?:background|backdrop)\b")


def extract(text: str, names: tuple[str, ...] = ()) -> tuple[str, dict[str, str]]:
    """``text`` with region phrases replaced by placeholders, and placeholder → region name.

    ``names``: region names the scene already has that the lexicon may not know (a
    pointed region called ``petal``); they are kept as regions too.
    """
    from pertouch.tools.named import parse, phrase_name

    refs: dict[str, str] = {}
    out = text.lower()

    def fixed(name: str):
        def sub(m: re.Match) -> str:
            key = f"{PLACEHOLDER}{len(refs)}"
            refs[key] = name
            return f" {key} "
        return sub

    out = _SELECTION.sub(fixed("selection"), out)
    # "the blurry background": how it looks now, not an edit ("darken the blurry background")
    out = _DESCRIBED_BACKGROUND.sub(fixed("background"), out)
    # "the red car": the colour describes the thing, it is not an edit
    out = _DESCRIBED.sub(lambda m: fixed(m.group(1))(m), out)
    for name in sorted({n.lower() for n in names if n and n.replace("_", "").replace(" ", "").isalpha()}, key=len,
                       reverse=True):
        out = re.sub(rf"\b(?:the\s+)?{re.escape(name.replace('_', ' '))}\b", fixed(name), out)
    for pat in _PATTERNS:
        def sub(m: re.Match) -> str:
            p = parse(m.group(0))
            if p is None or p.kind not in ("instance", "spatial"):
                return m.group(0)
            key = f"{PLACEHOLDER}{len(refs)}"
            refs[key] = phrase_name(p)
            return f" {key} "
        out = pat.sub(sub, out)
    return out, refs


def restore(items: list[Item], refs: dict[str, str]) -> list[Item]:
    """Tagged items with each placeholder turned into a ``("region", name)`` item."""
    if not refs:
        return items
    return [Item(("region", refs[it.text]), refs[it.text]) if it.text in refs else it for it in items]
