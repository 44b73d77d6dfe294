"""Intent before words: what the builtin parser reads before (and after) its word-by-word parse.

A request is not always an edit. :func:`read_cues` looks at the whole instruction
(lowercase, normalised as :func:`~pertouch.graph.vlm.builtin.tokens.normalize` does)
and cuts out what is not an edit, saying what it found:

- **no-op** — "don't change anything", "leave it as it is", "no changes", and
  approvals said as a clause of their own ("it's perfect as it is", "looks great");
- **question** — a sentence that opens like a question ("what would you improve?",
  "is it too dark?", "does the sky look washed out?") and is about the photo (a
  question with no photo word, "what's the capital of France?", stays for the
  parser to refuse); polite requests ("can you make it warmer?") are not questions;
- **undo** — a sentence that only asks to undo or revert ("undo", "go back to the original");
- **hedge** — "maybe", "perhaps", "if you can", …: the edit that is left is a small one
  (:data:`HEDGE`, unless the person named a bigger size or a number; :func:`apply_hedge`).

What remains is parsed as usual; :func:`no_edit_kind` then decides: a request that
still asks for an edit wins, else question > undo > no-op (and a request that only
protects regions, "keep the skin tones", is a no-op that keeps them).

:func:`take_comparatives` reads levels relative to another region from the tagged
items ("as bright as the water", "darker than the sky", "the same warmth as the
sea", "match the sky's brightness to the water"): the reference phrase is cut and the
comparative's attribute item carries the reference, so the parser's target for it is a
``like`` target (:func:`like_target`: direction ``set`` with no level, or the
comparative's direction with no shift), which the planner resolves from measured
levels (:mod:`pertouch.graph.vlm.builtin.like`).

>>> c = read_cues("Don't change anything, it's perfect as it is.")
>>> c.noop, c.text.strip(" ,.")
(True, '')
>>> read_cues("maybe slightly warmer").hedge
'maybe'
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from pertouch.graph.vlm.builtin.tokens import Item, normalize
from pertouch.graph.vlm.magnitudes import PLAIN
from pertouch.graph.vlm.schemas import GLOBAL, Target

#: The shift of a hedged edit ("maybe a bit warmer", "perhaps a touch brighter").
HEDGE = 0.1

_LEAD = re.compile(r"^(?:\s|[,.!?;:]|\b(?:hey|hi|hello|hm+|um+|uh+|erm|so|ok|okay|well|oh|nah|honestly|quick question|"
                   r"question|just|and|but|also|then|now|sorry|pls|please|yo)\b)*")
_QUESTION = re.compile(
    r"^(?:what(?! a\b| if\b| about\b)|whats|how(?! about\b)|hows|which|why(?! not\b| don't\b| dont\b)|where|"
    r"is|isn't|isnt|are|aren't|arent|was|does|doesn't|doesnt|did|do (?:you|the|these|they|my|those|its?)|"
    r"should|shall|would (?!you\b|u\b|ya\b)|would (?:you say|you (?:improve|change|fix|do|suggest|recommend|edit))|"
    r"will (?:it|the|this)|am i|has it|have i|"
    r"(?:can|could|would|will) (?:you|u) (?:tell|suggest|recommend|say|see|check|advise|explain|describe|rate|"
    r"judge|evaluate|assess|review|think)|tell me|i wonder|(?:i'm |im |i am )?wondering|"
    r"(?:i'm |im |i am )?not sure (?:if|whether)|any (?:suggestions?|ideas?|tips?|advice|thoughts?|feedback|"
    r"recommendations?|improvements?)|thoughts|opinions?|suggestions?|feedback|advice|ideas)\b")
_REQUEST = re.compile(r"^(?:(?:is|would|will|could) it be possible|is it possible|would you mind|do you mind|"
                      r"would (?:it be (?:nice|great|good) to|be (?:nice|great|good) (?:if|to)))\b")
#: Question words that show the question is about the photo (besides attribute/region/… tags).
_TOPIC = frozenset("""change changes changed improve improved improvement improvements edit edits editing look
looks fix fixed wrong suggest suggestions suggestion advice tips think opinion thoughts better worse need needs
ok okay fine good off work feedback recommend retouch adjust tweak photo picture image shot""".split())
_TOPIC_TAGS = frozenset({"attr", "region", "global", "optimize", "stylecue", "style"})

from pertouch.graph.vlm.builtin.cues import (  # noqa: E402 — the patterns live apart (file size)
    APPROVAL as _APPROVAL, HEDGE_WORDS as _HEDGE, KEEP_LATE as _KEEP_LATE, NOOP as _NOOP, UNDO as _UNDO,
    UNDO_PREFER as _UNDO_PREFER, UNDO_REMARK as _UNDO_REMARK, KEPT_STATE, NARRATIVE, STATE,
)
from pertouch.graph.vlm.builtin.lexicon import DIRECTED  # noqa: E402

#: Words that already name the fix ("the photo is overexposed": pull the highlights down), never flipped.
_FIXED = frozenset({"blown out", "overexposed", "blown highlights"} | {w for w in DIRECTED if w.endswith(" cast")})


def kept_states(sentence: str) -> tuple[str, bool]:
    """A description the person keeps ("it's warm and cozy, keep that", "the water is blue enough")
    is no complaint: cut, a named region kept ("leave the snow alone"); the second value says the
    whole photo was kept so (an approval)."""
    whole = False

    def cut(m: re.Match) -> str:
        nonlocal whole
        whole |= m.group(2) is None
        return m.group(1) + (f" leave {m.group(2)} alone " if m.group(2) else " ")

    for pat in KEPT_STATE:
        sentence = pat.sub(cut, sentence)
    return sentence, whole


def complaints(sentence: str) -> str:
    """A clause that says how the photo *is* asks for the opposite: "the faces look a bit pale" reads
    as "the faces look a bit too pale" (more colour), "it's dark" as "it's too dark". Only a plain
    adjective of an attribute is read so; comparatives ("the sky is darker than …") and words that
    already name the fix ("overexposed", "a blue cast") are left alone."""
    from pertouch.graph.vlm.builtin.tokens import tag, tokenize

    def put_too(m: re.Match) -> str:
        items, _ = tag(tokenize(sentence[m.end():]))
        first = items[0] if items else None
        if (first is None or first.tag[0] != "attr" or first.tag[2] is None or first.text in _FIXED
                or first.text.split()[0].endswith("er") or (len(items) > 1 and items[1].text == "enough")):
            return m.group(0)
        return m.group(1) + m.group(2) + "too "

    return STATE.sub(put_too, sentence)



@dataclass
class Cues:
    """What :func:`read_cues` found: ``text`` is the instruction without the cue phrases."""

    text: str
    noop: bool = False
    questions: list[str] = field(default_factory=list)
    undo: bool = False
    hedge: str | None = None

    @property
    def found(self) -> bool:
        """A whole-request cue (no-op, question, undo) was found."""
        return self.noop or bool(self.questions) or self.undo


def _sentences(text: str) -> list[str]:
    return [s for s in re.split(r"(?<=[.?!;])\s+|(?<=[?!])(?=\w)", text) if s.strip()]


def _lead(s: str) -> str:
    return _LEAD.sub("", s).strip()


def _about_photo(s: str) -> bool:
    """Does a question name something of the photo (and nothing out of scope)?"""
    from pertouch.graph.vlm.builtin.regions import PLACEHOLDER
    from pertouch.graph.vlm.builtin.tokens import tag, tokenize

    items, _ = tag(tokenize(s))
    if any(it.tag[0] == "oos" for it in items):
        return False
    return any(it.tag[0] in _TOPIC_TAGS or it.text in _TOPIC or it.text.startswith(PLACEHOLDER) for it in items)


def is_question(sentence: str) -> bool:
    """A sentence that asks about the photo (not a polite request such as "can you make it warmer?")."""
    parts = [_lead(p) for p in re.split(r",|\bbut\b|\bor\b", sentence)]
    core = _lead(sentence)
    opens = bool(_QUESTION.match(core)) and not _REQUEST.match(core)
    if not opens and sentence.rstrip().endswith("?"):  # "the sky looks nice, but is it too dark?"
        opens = any(_QUESTION.match(p) and not _REQUEST.match(p) for p in parts[1:])
    return opens and _about_photo(sentence)


def _undo(sentence: str) -> tuple[bool, str]:
    """(is it an undo, what of the sentence is left): "undo that, then make it warmer" leaves the rest;
    the undo verb takes its whole clause ("undo the warmth", "go back to how it was")."""
    found = False
    for pat in (*_UNDO, _UNDO_PREFER):
        sentence, n = pat.subn(" ", sentence)
        found |= n > 0
    if found:
        sentence = _UNDO_REMARK.sub(" ", sentence)
    return found, sentence


def read_cues(text: str) -> Cues:
    """Cut the no-op, question, undo and hedge phrases out of ``text`` (see the module docstring)."""
    cues = Cues(text="")
    kept: list[str] = []
    for s in _sentences(normalize(text)):
        if is_question(s):
            cues.questions.append(s.strip())
            continue
        s, whole = kept_states(s)
        cues.noop |= whole
        for pat in _KEEP_LATE:
            s = pat.sub(r"leave \1 alone", s)
        undo, s = _undo(s)
        cues.undo |= undo
        for pat in _NOOP:
            s, n = pat.subn(" ", s)
            cues.noop |= n > 0
        s, n = _APPROVAL.subn(lambda m: m.group(1) + " ", s)
        cues.noop |= n > 0
        hedge = _HEDGE.search(s)
        if hedge:
            cues.hedge = cues.hedge or hedge.group(0)
            s = _HEDGE.sub(" ", s)
        s = complaints(NARRATIVE.sub(lambda m: m.group(1) + " ", s))
        kept.append(s)
    cues.text = " ".join(" ".join(kept).split())
    return cues


def no_edit_kind(cues: Cues, request: bool, kept: bool) -> str | None:
    """The kind of a request that asks for no edit, or None when it asks for one. ``kept``: the
    request said what to leave alone ("keep the skin tones", "leave the colours as they are")."""
    if request:
        return None
    if cues.questions:
        return "question"
    if cues.undo:
        return "undo"
    if cues.noop or kept:
        return "no-op"
    return None


def explain_no_edit(kind: str, protected: list[str]) -> str:
    """The one-sentence explanation of a no-op, question or undo intent."""
    if kind == "question":
        return "A question about the photo: answer it from the measured levels, without editing."
    if kind == "undo":
        return "Undo: there is no earlier edit to undo here, so nothing will change."
    keep = f" (leave {', '.join(protected)} alone)" if protected else ""
    return f"Keep the photo as it is{keep}: nothing to change."


def apply_hedge(targets: list[Target], hedge: str | None, numbered: frozenset = frozenset()) -> list[Target]:
    """Hedged requests are small: a shift from a size word up to the plain step becomes :data:`HEDGE`.

    Numbers (``numbered``: the (region, attribute) of targets sized by a number, "maybe raise it
    by 20%"), "set" levels, ``like`` targets and sizes bigger than the plain step ("maybe a lot
    brighter") keep theirs.
    """
    if not hedge:
        return targets
    out = []
    for t in targets:
        if (t.region, t.attribute) in numbered:
            pass
        elif t.direction != "set" and t.like is None and t.shift is not None and abs(t.shift) <= PLAIN + 1e-9 \
                and (t.magnitude is not None or abs(abs(t.shift) - PLAIN) < 1e-9):
            size = HEDGE if t.direction == "up" else -HEDGE
            t = t.model_copy(update={"shift": size, "magnitude": " ".join(w for w in (hedge, t.magnitude) if w)})
        out.append(t)
    return out


def follow_question(targets: list[Target], questions: list[str]) -> list[Target]:
    """An edit after a question about one region is about that region ("is the sky too bright?
    if so, darken it a little"): whole-photo targets move to it. Other targets stay as they are."""
    from pertouch.graph.vlm.builtin.tokens import tag, tokenize

    named = {it.tag[1] for q in questions for it in tag(tokenize(q))[0] if it.tag[0] == "region"}
    if len(named) != 1 or not targets or any(t.region != GLOBAL for t in targets):
        return targets
    region = named.pop()
    return [t.model_copy(update={"region": region}) for t in targets]


# --- comparatives to a named region ---------------------------------------------------------

def like_of(it: Item) -> tuple | None:
    """The ``("set" | "rel", reference label)`` an attribute item carries, or None."""
    return it.tag[3] if it.tag[0] == "attr" and len(it.tag) > 3 else None


def _with_like(it: Item, how: str, label: str) -> Item:
    """The attribute item carrying its reference (a noun, "brightness", gets "up": a set target ignores it)."""
    return Item(("attr", it.tag[1], it.tag[2] or "up", (how, label)), it.text)


def take_comparatives(items: list[Item]) -> list[Item]:
    """Items without the reference phrases; the attribute item of each comparative carries its
    reference as a 4th tag element (see the module docstring and :func:`like_of`)."""
    out: list[Item] = []
    n, i = len(items), 0

    def region_at(j: int) -> str | None:
        return items[j].tag[1] if j < n and items[j].tag[0] == "region" else None

    while i < n:
        it = items[i]
        if it.text in ("as", "same"):  # "as bright as the water", "as much contrast as", "the same warmth as"
            j = i + 1 + (i + 1 < n and items[i + 1].tag[0] == "mag")
            if j < n and items[j].tag[0] == "attr" and j + 1 < n and items[j + 1].text == "as" and region_at(j + 2):
                out.append(_with_like(items[j], "set", region_at(j + 2)))
                i = j + 3
                continue
        if it.text == "than" and region_at(i + 1):  # "darker than the sky", "more contrast than the sea"
            k = next((k for k in range(len(out) - 1, max(-1, len(out) - 4), -1) if out[k].tag[0] == "attr"), None)
            if k is not None:
                out[k] = _with_like(out[k], "rel", region_at(i + 1))
                i += 2
                continue
        if it.text == "match" and region_at(i + 1):  # "match the sky's brightness to the water"
            j = i + 2
            if j + 1 < n and items[j].tag[0] == "attr" and items[j + 1].text in ("to", "with") and region_at(j + 2):
                out += [items[i + 1], _with_like(items[j], "set", region_at(j + 2))]
                i = j + 3
                continue
            if j < n and items[j].text in ("to", "with") and region_at(j + 1):  # "match the sky to the water"
                out += [items[i + 1], *_match_all(it, region_at(j + 1))]
                i = j + 2
                continue
        if it.text == "match" and region_at(i + 1) and out and out[-1].text == "to":
            # "darken the sky to match the sea": the attribute said before is matched, not all of them
            k = next((k for k in range(len(out) - 2, max(-1, len(out) - 5), -1) if out[k].tag[0] == "attr"), None)
            if k is not None:
                out[k] = _with_like(out[k], "set", region_at(i + 1))
                out.pop()
                i += 2
                continue
        if it.text == "match" and region_at(i + 1) is None and i + 1 < n and items[i + 1].text in ("to", "with"):
            i += 1  # "the sky should match with the water"
            continue
        if it.text == "match" and i + 3 < n and items[i + 1].tag[0] == "attr" and region_at(i + 2) \
                and items[i + 3].text in ("to", "with") and region_at(i + 4):  # "match the brightness of the face to …"
            out += [items[i + 2], _with_like(items[i + 1], "set", region_at(i + 4))]
            i += 5
            continue
        said = next((k for k in range(len(out) - 1, -1, -1) if out[k].tag[0] in ("attr", "sep")), None)
        if it.text == "match" and region_at(i + 1) and said is not None and out[said].tag[0] == "attr" \
                and like_of(out[said]) is None and any(x.tag[0] == "region" for x in out):
            out[said] = _with_like(out[said], "set", region_at(i + 1))  # "make the sky's contrast match the water's"
            i += 2
            continue
        if it.text == "match" and region_at(i + 1) and any(x.tag[0] == "region" for x in out):
            out += _match_all(it, region_at(i + 1))  # "the sky should match the water"
            i += 2
            continue
        out.append(it)
        i += 1
    return out


#: What "match the sky to the water" matches when no attribute is named: its light and colour.
MATCHED = ("brightness", "temperature", "colorfulness")


def _match_all(it: Item, label: str) -> list[Item]:
    return [Item(("attr", a, "up", ("set", label)), it.text) for a in MATCHED]


def like_target(region: str, attribute: str, direction: str | None, magnitude: str | None, like: tuple) -> Target:
    """The target of a comparative: ``set`` with no level ("as bright as"), or the comparative's
    direction with no shift ("darker than"); the planner reads the reference's level."""
    how, label = like
    if how == "set" or direction is None:
        return Target(region=region, attribute=attribute, direction="set", like=label)
    return Target(region=region, attribute=attribute, direction=direction, like=label, magnitude=magnitude)
