"""Clause structure for the builtin parser: split tagged items into clauses, and pair
the regions of a clause with its attribute mentions.

A clause ends at a separator (punctuation, "but", "then"); a "leave … alone" cue
starts a protected clause, "except" an exclusive one, and "so (that) the …" a
purpose clause (a reason, not an edit).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from pertouch.graph.vlm.builtin.tokens import Item


#: Verbs that start a new request after "… and" ("leave the faces alone and make the sky bluer").
VERBS = frozenset({"make", "give", "turn", "get", "let", "bring", "render"})


@dataclass
class Mention:
    attribute: str
    direction: str | None
    mag: float | None = None
    mag_word: str | None = None
    number: tuple | None = None  # ("set", v) | ("shift", signed v) | ("size", v)
    merged: bool = False
    like: tuple | None = None  # ("set" | "rel", reference label): "as bright as the water", "darker than the sky"


@dataclass
class Clause:
    items: list[Item] = field(default_factory=list)
    neg: bool = False
    exclusive: bool = False
    purpose: bool = False  # "… so the subject stands out": a reason, not an edit


def split_clauses(items: list[Item]) -> list[Clause]:
    """Split at separators; a neg/keep cue starts a protected clause."""
    clauses = [Clause()]
    for it in items:
        kind = it.tag[0]
        if kind == "sep":
            clauses.append(Clause())
        elif kind == "purpose":
            clauses.append(Clause(purpose=True))
        elif kind in ("neg", "keep"):
            clauses.append(Clause(neg=True))
        elif kind == "excl":
            clauses.append(Clause(neg=True, exclusive=True))
        elif clauses[-1].exclusive and kind not in ("region", "global", "word") and any(
                x.tag[0] == "region" for x in clauses[-1].items):
            clauses.append(Clause(items=[it]))  # "everything except the face a bit darker"
        elif clauses[-1].neg and (kind not in ("region", "global", "word", "optimize") or it.text in VERBS) \
                and clauses[-1].items and clauses[-1].items[-1].text == "and":
            clauses.append(Clause(items=[it]))  # "leave the sky alone and brighten / make the ground …"
        else:
            clauses[-1].items.append(it)
    return [c for c in clauses if c.items]


def pair(seq: list[tuple[str, object]]) -> list[tuple[list[str], list[Mention]]]:
    """Pair regions with mentions per segment; a segment with only one kind borrows the other
    kind from the segment before it ("brighten the sky and make it bluer")."""
    segments: list[list[tuple[str, object]]] = [[]]
    for item in seq:
        if item[0] == "B":
            segments.append([])
        else:
            segments[-1].append(item)
    out: list[tuple[list[str], list[Mention]]] = []
    prev: list[tuple[str, object]] = []
    for seg in (s for s in segments if s):
        kinds = {k for k, _ in seg}
        if kinds == {"M"} and any(k == "R" for k, _ in prev):
            seg = [x for x in prev if x[0] == "R"] + seg
        elif kinds == {"R"} and any(k == "M" for k, _ in prev):
            seg = seg + [x for x in prev if x[0] == "M"]
        out += _pair_segment(seg)
        prev = seg
    return out


def _pair_segment(seq: list[tuple[str, object]]) -> list[tuple[list[str], list[Mention]]]:
    """Pair runs of regions with runs of mentions ("brighten the face, darken the sky")."""
    runs: list[tuple[str, list]] = []
    for kind, val in seq:
        if runs and runs[-1][0] == kind:
            runs[-1][1].append(val)
        else:
            runs.append((kind, [val]))
    r_runs = [r for r in runs if r[0] == "R"]
    m_runs = [r for r in runs if r[0] == "M"]
    if not m_runs:
        return [([v for r in r_runs for v in r[1]], [])]
    if len(runs) <= 2:
        return [([v for r in r_runs for v in r[1]], [m for r in m_runs for m in r[1]])]
    pairs = []
    first = runs[0][0]
    i = 0
    while i < len(runs):
        a = runs[i]
        b = runs[i + 1] if i + 1 < len(runs) else None
        if b is None:  # trailing run pairs with the run before it
            prev = runs[i - 1]
            regs, ms = (a[1], prev[1]) if a[0] == "R" else (prev[1], a[1])
            pairs.append((regs, ms))
            break
        regs, ms = (a[1], b[1]) if first == "R" else (b[1], a[1])
        pairs.append((regs, ms))
        i += 2
    return pairs
