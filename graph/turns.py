"""Session commands: the words that act on a conversation's result rather than ask for a new edit.

:func:`parse_turn` reads one line into a :class:`TurnCommand` (or None: a new
instruction for the classifier). The graph's ``converse`` node carries them out.

>>> parse_turn("a bit more on the sky")
TurnCommand(kind='more', factor=0.5, where='sky', path='', overwrite=False)
>>> parse_turn("save as out.jpg, overwrite").overwrite
True
>>> parse_turn("make the sky bluer") is None
True
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

Kind = Literal["more", "only", "undo", "redo", "reset", "accept", "save", "compare", "history"]

#: words → region labels they mean in session commands.
REGION_WORDS: dict[str, set[str]] = {
    "face": {"face", "skin", "person"}, "faces": {"face", "skin", "person"}, "skin": {"skin", "face", "person"},
    "person": {"person", "skin", "face", "hair"}, "people": {"person", "skin", "face", "hair"},
    "her": {"person", "skin", "face", "hair"}, "him": {"person", "skin", "face", "hair"},
    "portrait": {"person", "skin", "face", "hair"}, "sky": {"sky", "clouds"}, "clouds": {"clouds"},
    "trees": {"vegetation"}, "tree": {"vegetation"}, "grass": {"vegetation"}, "greenery": {"vegetation"},
    "plants": {"vegetation"}, "water": {"water"}, "sea": {"water"}, "lake": {"water"},
    "buildings": {"building"}, "building": {"building"}, "ground": {"ground"}, "road": {"ground"},
}

_MORE = r"(?:a\s+(?:bit|touch|little)\s+|slightly\s+|even\s+|much\s+|a\s+lot\s+|way\s+)?(more|stronger|less|weaker|softer)"
_SCALE = re.compile(rf"^{_MORE}(?:\s+(?:on|for|in)\s+(?:the\s+)?(\w+))?[.!]*$")
_ONLY = re.compile(r"^(?:only|just)\s+(?:the\s+)?(\w+)[.!]*$")
_SAVE = re.compile(r"^(save|overwrite)(?:\s+(?:it|this))?(\s+(?:as|to))?\s+(.+?)\s*$", re.I)
#: A save without "as"/"to" must name a file with an extension ("save out.jpg", not "save the highlights").
_FILE = re.compile(r"\.[A-Za-z0-9]{2,5}$")
_OVERWRITE = re.compile(r"\s*(?:,\s*|\s+)(?:and\s+)?(?:overwrite|replace)(?:\s+it)?[.!]*$", re.I)
ACCEPT = {"looks good", "look good", "good", "perfect", "accept", "i like it", "great", "yes", "done", "nice",
          "love it", "ok", "okay"}
UNDO = {"undo", "go back", "back", "revert"}
REDO = {"redo", "redo that", "put it back"}
RESET = {"start over", "reset", "restart", "from scratch", "original"}
COMPARE = {"compare", "before/after", "before and after", "side by side"}
HISTORY = {"history", "show history"}
#: Approvals in a few more words: "perfect, keep it", "that looks great", "yes, I love it, thanks".
_PRAISE = r"(?:perfect|great|good|nice|fine|lovely|beautiful|excellent|awesome|much better|better)"
_ACCEPT = re.compile(
    rf"^(?:(?:yes|yeah|yep|ok|okay|wow|oh)\s*,?\s*)?(?:(?:that|it|this)(?:'s|\s+is|\s+looks?)?\s+(?:really\s+|very\s+|so\s+)?)?"
    rf"(?:{_PRAISE}|looks?\s+(?:really\s+|very\s+|so\s+)?{_PRAISE}|i\s+(?:love|like)\s+(?:it|this|that))"
    rf"(?:\s*[,!.]?\s*(?:keep\s+(?:it|this|that)|i\s+(?:love|like)\s+(?:it|this)|thanks|thank\s+you|done|accept(?:ed)?))*$")
_WORDS: tuple[tuple[Kind, set[str]], ...] = (("history", HISTORY), ("compare", COMPARE), ("undo", UNDO),
                                             ("redo", REDO), ("reset", RESET), ("accept", ACCEPT))
#: Lines a client handles itself (the CLI's loop); never sent to the graph.
QUIT = {"quit", "exit", "bye", "q"}


@dataclass(frozen=True)
class TurnCommand:
    """One session command. ``factor``: how much of the last change to add (``more``: +0.5,
    ``a lot more``: +1, ``less``: −0.5); ``where``: the region word it is limited to;
    ``path``/``overwrite``: for ``save``."""

    kind: Kind
    factor: float = 0.0
    where: str = ""
    path: str = ""
    overwrite: bool = False


def normalise(line: str) -> str:
    """Lower case, single spaces, no surrounding blanks."""
    return " ".join(line.strip().lower().split())


def parse_turn(line: str, region_labels: set[str] | frozenset[str] = frozenset()) -> TurnCommand | None:
    """The session command ``line`` is, or None (a new instruction). ``region_labels``:
    the photo's region labels, which "only the X" may name besides :data:`REGION_WORDS`."""
    text = normalise(line)
    bare = text.rstrip(".!")
    for kind, words in _WORDS:
        if bare in words:
            return TurnCommand(kind)
    if _ACCEPT.match(bare):
        return TurnCommand("accept")
    m = _SAVE.match(line.strip())
    if m:
        path, overwrite = m.group(3), m.group(1).lower() == "overwrite"
        o = _OVERWRITE.search(path)
        if o:
            path, overwrite = path[: o.start()], True
        path = path.strip().strip("'\"")
        if m.group(2) or _FILE.search(path):
            return TurnCommand("save", path=path, overwrite=overwrite)
    m = _SCALE.match(text)
    if m:
        size = 1.0 if re.search(r"\b(much|a lot|way)\b", text) else 0.5
        return TurnCommand("more", factor=size if m.group(1) in ("more", "stronger") else -size,
                           where=m.group(2) or "")
    m = _ONLY.match(text)
    if m and m.group(1) in set(REGION_WORDS) | set(region_labels):
        return TurnCommand("only", where=m.group(1))
    return None


def labels_for(word: str) -> set[str]:
    """The region labels a session command's region word means."""
    return REGION_WORDS.get(word, {word.rstrip("s"), word})
