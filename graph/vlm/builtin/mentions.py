"""One clause read word by word into attribute *mentions* for the builtin parser.

:func:`mentions` turns a :class:`~pertouch.graph.vlm.builtin.clauses.Clause` into a
sequence of ``("R", region label)``, ``("M", Mention)`` and ``("B", None)`` (a new pairing
starts: "… and make the grass greener"), in the order the words came. What the words
read so far hold for the next attribute — a direction, a size, a number — waits in a
:class:`Reading`; one step per kind of word (:data:`_STEPS`) updates it.

>>> from pertouch.graph.vlm.builtin.clauses import split_clauses
>>> from pertouch.graph.vlm.builtin.tokens import tag, tokenize
>>> [(k, v if k == "R" else (v.attribute, v.direction, v.mag_word))
...  for k, v in mentions(split_clauses(tag(tokenize("a bit warmer sky"))[0])[0])]
[('M', ('temperature', 'up', 'a bit')), ('R', 'sky')]
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

from pertouch.graph.vlm.builtin import lexicon as lex
from pertouch.graph.vlm.builtin.clauses import Clause, Mention
from pertouch.graph.vlm.builtin.intents import like_of
from pertouch.graph.vlm.builtin.tokens import Item
from pertouch.graph.vlm.magnitudes import STOP, percent_to_shift
from pertouch.graph.vlm.schemas import GLOBAL

GENERIC_COLOR = frozenset({"colors", "colours", "color", "colour"})
_OPPOSITE = {"up": "down", "down": "up"}


@dataclass
class Reading:
    """The state of one clause being read: the sequence so far and what is pending."""

    items: list[Item]
    seq: list[tuple[str, object]] = field(default_factory=list)
    last: Mention | None = None  # the latest mention, which later words may still complete
    direction: str | None = None  # a pending direction for the next attribute
    flip: bool = False  # the pending direction reverses an adjective ("less bright", "too warm")
    verb: bool = False  # the pending direction came from a verb ("reduce the green")
    mag: tuple[float, str] | None = None  # a pending size word: (size, the words)
    num: tuple | None = None  # a pending number: ("set" | "shift" | "size", value)
    numctx: str | None = None  # the word before a number: "to", "set" or "by"
    after_region: bool = False  # a region was named after the latest mention
    oos: bool = False  # "change his shirt to red": colour words after an out-of-scope object are not edits

    def is_attr(self, j: int) -> bool:
        """Does an attribute follow at ``j`` (allowing a comparative or verb in between)?"""
        items = self.items
        while j < len(items) and (items[j].tag[0] in ("more", "less", "dir", "too", "not", "mag", "objverb")
                                  or items[j].text in ("a", "an", "some")):
            j += 1
        return j < len(items) and items[j].tag[0] == "attr"

    def starts_pairing(self, j: int, it: Item) -> bool:
        """"… and make the grass greener": an "and" before a verb or a plain word."""
        items = self.items
        return it.text == "and" and j + 1 < len(items) and items[j + 1].tag[0] in ("word", "dir", "objverb", "optimize")


def mentions(clause: Clause) -> list[tuple[str, object]]:
    """The clause as a sequence of ("R", label), ("M", Mention) and ("B", None) in order."""
    r = Reading(clause.items)
    for j, it in enumerate(r.items):
        if _out_of_scope(r, it):
            continue
        if r.starts_pairing(j, it):
            r.seq.append(("B", None))
            continue
        step = _STEPS.get(it.tag[0])
        if step is not None:
            step(r, j, it)
    return r.seq


def _out_of_scope(r: Reading, it: Item) -> bool:
    """Track out-of-scope objects; True for an attribute word that belongs to one."""
    k = it.tag[0]
    if k == "oos":
        r.oos = True
    elif k in ("dir", "objverb", "region", "global") or it.text == "and":
        r.oos = False
    elif k == "attr" and r.oos:
        return True
    return False


def _region(r: Reading, j: int, it: Item) -> None:
    r.seq.append(("R", it.tag[1] if it.tag[0] == "region" else GLOBAL))
    r.after_region = True
    if r.last is not None:
        r.mag = None if r.last.mag is not None else r.mag


def _attribute(r: Reading, j: int, it: Item) -> None:
    if _completes_last(r, j, it):
        return
    attr, d = it.tag[1], it.tag[2]
    if d is None:
        d = r.direction
    elif r.verb and r.direction == "down" and it.text in lex.COLOUR_WORDS:
        d = _OPPOSITE[d]
    elif r.flip:
        d = _OPPOSITE[d]
    m = Mention(attr, d, like=like_of(it))
    if r.mag:
        m.mag, m.mag_word = r.mag
    if r.num:
        m.number, r.num = r.num, None
    if it.tag[2] is not None:
        r.mag = None  # a size word before an adjective belongs to it alone
    r.seq.append(("M", m))
    r.last, r.after_region = m, False


def _completes_last(r: Reading, j: int, it: Item) -> bool:
    """An attribute word that completes the latest mention instead of starting one."""
    attr, d = it.tag[1], it.tag[2]
    last = r.last
    if last is None:
        return False
    prev = r.items[j - 1].tag if j else None
    if d is None and not last.merged and last.direction and prev and prev[0] == "attr":
        if it.text not in GENERIC_COLOR:
            last.attribute = attr  # "darker shadows", "brighter highlights"
        last.merged, last.like = True, last.like or like_of(it)
        return True
    if d is not None and last.direction is None and not last.merged and r.seq and r.seq[-1][0] == "M" \
            and r.seq[-1][1] is last:
        # "the shadows are too dark": the noun names the attribute, the adjective the way
        last.direction = _OPPOSITE[d] if r.flip else d
        if last.attribute == "colorfulness" and attr != "colorfulness":
            last.attribute = attr
        last.merged, last.like = True, last.like or like_of(it)
        if r.mag and last.mag is None:
            last.mag, last.mag_word = r.mag
        return True
    # "cold blue tones": one mention
    return d is not None and bool(r.seq) and r.seq[-1][1] is last and (last.attribute, last.direction) == (attr, d)


def _size_word(r: Reading, j: int, it: Item) -> None:
    if it.text.endswith(" more"):
        r.direction, r.flip = "up", False
    elif it.text.endswith(" less"):
        r.direction, r.flip = "down", True
    if r.is_attr(j + 1) or r.last is None:
        r.mag = (it.tag[1], it.text)
    elif r.last.mag is None:
        r.last.mag, r.last.mag_word = it.tag[1], it.text


def _direction(r: Reading, j: int, it: Item) -> None:
    if r.last is not None and r.last.direction is None and not r.is_attr(j + 1):
        r.last.direction = it.tag[1]
    else:
        r.direction, r.flip, r.verb = it.tag[1], False, True
        r.mag = None if r.after_region else r.mag


def _object_verb(r: Reading, j: int, it: Item) -> None:
    r.direction = "down" if it.text in ("remove", "get rid of", "take out") else "up"
    r.verb = True


def _optimize(r: Reading, j: int, it: Item) -> None:
    items = r.items
    if it.text in ("enhance", "improve") and r.is_attr(j + 1) and not (
            j + 1 < len(items) and items[j + 1].text in GENERIC_COLOR):  # "improve the colours" is a fix
        r.direction = "up"


def _up(r: Reading, j: int, it: Item) -> None:
    r.direction, r.flip = "up", False


def _down(r: Reading, j: int, it: Item) -> None:
    r.direction, r.flip = "down", True


def _not(r: Reading, j: int, it: Item) -> None:
    nxt = " ".join(x.text for x in r.items[j + 1:j + 4])
    if "enough" not in nxt:
        r.direction, r.flip = "down", True


def _stop(r: Reading, j: int, it: Item) -> None:
    last = r.last
    target = r.num if r.num else (last.number if last else None)
    if target is None and j and r.items[j - 1].text in ("a", "one"):
        target = ("size", STOP)
        if last is not None and last.number is None and not r.is_attr(j + 1):
            last.number = target
        else:
            r.num = target
    elif target is not None:
        scaled = (target[0], target[1] * STOP)
        if r.num:
            r.num = scaled
        elif last:
            last.number = scaled


def _percent(r: Reading, j: int, it: Item) -> None:
    tgt = r.num if r.num else (r.last.number if r.last else None)
    if tgt and tgt[0] in ("size", "set", "shift"):
        v = percent_to_shift(tgt[1]) * (1 if tgt[1] >= 0 else -1)
        new = ("shift", v) if tgt[0] == "shift" else ("size", abs(v))
        if r.num:
            r.num = new
        else:
            r.last.number = new


def _number_context(r: Reading, j: int, it: Item) -> None:
    r.numctx = it.tag[0]


def _number(r: Reading, j: int, it: Item) -> None:
    _, v, sign, pct = it.tag
    numctx, last = r.numctx, r.last
    if pct:
        num = ("shift", (-1 if sign == "-" else 1) * percent_to_shift(v)) if sign else ("size", percent_to_shift(v))
    elif sign:
        num = ("shift", -v if sign == "-" else v)
    elif numctx in ("to", "set") and v <= 1.0:
        num = ("set", v)
    elif numctx == "by" or v > 1.0:
        num = ("size", v)
    else:
        num = ("set", v) if (last is not None and last.direction is None) else ("size", v)
    if numctx in ("to", "set") and sign == "-" and not pct and v <= 1.0:
        num = ("set", -v)
    r.numctx = None
    items = r.items
    if r.is_attr(j + 1) or (j + 1 < len(items) and items[j + 1].tag[0] in ("percent", "stop")
                            and r.is_attr(j + 2)) or last is None:
        r.num = num
    else:
        last.number = num


#: One step per kind of word; kinds not listed change nothing.
_STEPS: dict[str, Callable[[Reading, int, Item], None]] = {
    "region": _region, "global": _region, "attr": _attribute, "mag": _size_word, "dir": _direction,
    "objverb": _object_verb, "optimize": _optimize, "more": _up, "lacks": _up, "less": _down, "too": _down,
    "not": _not, "stop": _stop, "percent": _percent, "set": _number_context, "to": _number_context,
    "by": _number_context, "num": _number,
}
