"""Intent before words: what the builtin parser reads before (and after) its word-by-word parse.

A request is not always an edit. :func:`read_cues` looks at the whole instruction
(lowercase, normalised as :func:`~pertouch.graph.vlm.builtin_tokens.normalize` does)
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
levels (:mod:`pertouch.graph.vlm.builtin_like`).

>>> c = read_cues("Don't change anything, it's perfect as it is.")
>>> c.noop, c.text.strip(" ,.")
(True, '')
>>> read_cues("maybe slightly warmer").hedge
'maybe'
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from pertouch.graph.vlm.builtin_tokens import Item, normalize
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

_OBJ = r"(?:it|this|that|the (?:photo|image|picture|pic|shot))"
#: What an undo acts on: the edits themselves, or the photo as it was.
_EDITS = (r"(?:changes?|edits?|editing|adjustments?|tweaks?|retouch(?:ing)?|effects?|filters?|modifications?|"
          r"steps?|versions?|whatever you did|what you did|everything you did)")
_WAS = (r"(?:(?:the |my |your )?(?:original|unedited|previous|last|earlier|first|old)\b|how it (?:was|looked)|"
        r"the way it (?:was|looked)|what it was|before\b|it (?:did|was|looked) (?:before|originally|at first)\b|"
        r"it (?:did|was|looked)(?=\s*(?:[,;:.!?]|$))|the (?:start|beginning)|scratch|normal\b|default\b)")
#: Verbs that undo whatever follows them in their clause ("undo the warmth", "revert to the original").
_UNDO_VERB = (r"undo|un do|revert|reverse|roll (?:it |that |this |everything )?back|rollback|go back|get (?:it|that) back|"
              r"switch back|change (?:it |that |this )?back|put (?:it |that |this |everything )?back|"
              r"take (?:it |that |this |those |these |everything )?back|set (?:it |this )?back|"
              r"start (?:over|again|afresh)|begin again|ctrl ?\+? ?z|cmd ?\+? ?z")
#: Verbs that undo when their object is the edits ("scrap that", "discard the changes") ...
_UNDO_OBJ_VERB = r"cancel|scrap|discard|drop|ditch|clear|remove|get rid of|delete|throw (?:away|out)|lose|kill|reset|reverse"
#: ... or the photo as it was ("bring back the original", "back to how it was").
_UNDO_BACK_VERB = (r"restore|bring back|give me back|get back|show me|give me|i (?:want|need|'d like|would like)|"
                   r"return to|back to|make it (?:like|as|look like)|(?:go|get|set it) back to")
_CLAUSE_END = r"(?=\s*(?:[,;:.!?]|$|\band then\b|\bthen\b|\binstead\b|\band (?=\w+ )|\bbut\b))"
_DET = r"(?:(?:all|every|each|any)\s+)?(?:of\s+)?(?:(?:the|my|your|those|these|that|this|all)\s+)?" \
       r"(?:(?:last|previous|recent|latest|earlier|other|first)\s+)?"
_UNDO = (
    re.compile(rf"\b(?:{_UNDO_VERB})\b[^,;:.!?]*?{_CLAUSE_END}"),
    re.compile(rf"\b(?:reset|reverse)(?:\s+(?:it|everything|it all|all|please))?(?:\s+(?:back\s+)?to\s+{_WAS}[^,;:.!?]*?)?"
               rf"{_CLAUSE_END}"),
    re.compile(rf"\b(?:{_UNDO_OBJ_VERB})\s+{_DET}(?:{_EDITS}\b[^,;:.!?]*?|(?:that|it|this|everything|all|"
               r"the (?:photo|image|picture|pic|shot))"
               rf"(?:\s+(?:please|now|again))?){_CLAUSE_END}"),
    re.compile(rf"\b(?:{_UNDO_BACK_VERB})\s+{_WAS}[^,;:.!?]*?{_CLAUSE_END}"),
    re.compile(rf"\bforget (?:about )?{_DET}{_EDITS}\b[^,;:.!?]*?{_CLAUSE_END}"),
)
#: Saying the earlier version was better is asking for it back ("I preferred the original").
_UNDO_PREFER = re.compile(
    r"\b(?:i (?:preferred|prefer|liked|like|loved|love) (?:the original|it (?:better )?(?:before|the way it was)|"
    r"the (?:previous|old|earlier|first|unedited) (?:one|version|photo|image)?)|"
    r"(?:the original|it|that) (?:was|looked) (?:better|nicer)(?: before)?|"
    r"i (?:don't|dont|do not) like (?:the (?:change|changes|edit|edits|result|new version)|what you did))\b")
#: Remarks that go with an undo and say nothing else ("I changed my mind, undo it").
_UNDO_REMARK = re.compile(r"\b(?:i (?:have |'ve )?changed my mind|on second thought|oops|whoops|my bad|"
                          r"that (?:looks |is |was )?(?:worse|wrong|awful|terrible|bad|too much|not (?:it|right))|"
                          r"(?:that|it) (?:went|goes) too far|actually)\b")
_NOOP = (
    re.compile(r"\b(?:please\s+)?(?:don't|dont|do not|no need to|you don't need to|you dont need to|"
               r"you do not need to|there is no need to|never)\s+(?:change|edit|touch|alter|modify|adjust|retouch|"
               rf"do|fix)\s+(?:anything|a thing|a single thing|nothing|{_OBJ}|any of it|everything)"
               r"(?:\s+(?:at all|to it|whatsoever))?\b(?!\s+(?:too|much|more|except|but|apart|other|else|besides|"
               r"than|so|exc|to\b))"),
    re.compile(r"\b(?:leave|keep)\s+(?:it|this|that|everything|all|all of it|the (?:whole )?(?:photo|image|picture|"
               r"pic|shot|thing))(?:\s+(?:exactly\s+)?(?:alone|be|as (?:it )?is|as they are|unchanged|untouched|"
               r"the same|how it is|like it is|the way it is|like (?:that|this)|intact|as it was))?"
               r"(?=\s*(?:[.,;!?]|$|please\b|thanks?\b|thank you\b|i\b|it\b))"),
    re.compile(r"\bno (?:changes?|edits?|editing|adjustments?|retouching|touch ?ups?)(?:\s+(?:please|needed|necessary|"
               r"required|at all))?\b(?!\s+(?:to|on|in|for|except|but|apart)\b)"),
    re.compile(r"^\s*(?:no|nope|nah|nothing|none|no thanks?)\s*[.!]*\s*$"),
    re.compile(r"\b(?:i |we )?(?:don't|dont|do not) want (?:it |this |the (?:photo|image|picture) )?(?:edited|changed|"
               r"touched|retouched|altered|any (?:changes?|edits?|editing|adjustments?))\b"),
    re.compile(r"\b(?:do nothing|nothing to (?:change|do|fix|edit|improve)|nothing needs (?:changing|fixing|to change|"
               r"to be (?:changed|done|fixed))|(?:it |this )?(?:does not|doesn't|doesnt) need (?:anything|any "
               r"(?:changes?|edits?|editing|work)|changing|editing|to (?:change|be changed))|needs no "
               r"(?:changes?|editing|edits|work)|never ?mind|forget (?:about )?it|no thanks|no thank you|"
               r"leave as is|no need (?:for|of) (?:any )?(?:changes?|edits?|editing|adjustments?|retouching|work|touch ?ups?)|"
               r"(?:don't|dont|do not|no need to) bother(?: (?:editing|changing|retouching|with it))?)\b"),
)
_GOOD = (r"(?:perfect|fine|good|great|nice|lovely|beautiful|ok|okay|awesome|amazing|gorgeous|right|spot on|"
         r"good enough|stunning|excellent|wonderful|fantastic)")
_AS_IS = r"(?:\s+(?:already|as (?:it )?is|as they are|the way it is|like (?:this|that)|to me|enough|now|as it stands))*"
_END = r"(?=\s*(?:[.,;!?]|$|but\b|and\b|so\b|thanks?\b|thank you\b|please\b|i\b|don't\b|dont\b|do not\b|no\b|leave\b))"
#: Approvals said as a clause of their own: "it's perfect as it is", "looks great", "I like it as it is".
_APPROVAL = re.compile(
    r"(^|[,.;!?]\s*|\b(?:and|but|because|since|so|as)\s+)(?:i think\s+|honestly\s+|tbh\s+)?"
    r"(?:(?:it|this|that)\s+(?:is\s+)?(?:already\s+|exactly\s+|just\s+)*(?:how|what|the way)\s+(?:i|we)\s+(?:want|like|wanted|"
    r"liked|need)(?:\s+it)?" + _AS_IS + r"|"
    r"(?:(?:it|this|that|everything|all|the (?:photo|image|picture|shot|pic|result|colou?rs))\s+(?:is\s+|looks\s+|"
    r"seems\s+|feels\s+|are\s+)?|looks\s+)?(?:already\s+|really\s+|so\s+|very\s+|just\s+|pretty\s+|totally\s+|"
    rf"absolutely\s+|quite\s+)*{_GOOD}{_AS_IS}"
    rf"|(?:i|we)\s+(?:really\s+)?(?:like|love)\s+(?:it|this|the (?:photo|image|picture))(?:\s+already)?{_AS_IS}"
    r"|(?:i'm|im|i am)\s+(?:really\s+|quite\s+|very\s+)?(?:happy|fine|ok|okay|good|satisfied|content|pleased)\s+"
    r"with\s+(?:it|this|that|the (?:photo|image|picture|result|way it looks)|how it (?:looks|is)|the way it is)"
    r"(?:\s+already)?" + _AS_IS + r")" + _END)
_THING = r"(the (?:\w+ ){0,2}?\w+)"
#: Protection said after the region ("the faces should stay the same", "the sky must not change",
#: "the faces are fine, leave them"): rewritten as "leave … alone".
_KEEP_LATE = (
    re.compile(rf"\b{_THING}\s+(?:(?:should|must|can|needs? to|has to|have to|will|shall|ought to)\s+)?"
               r"(?:stay|remain|be kept|be left|stays|remains)\s+(?:exactly\s+)?(?:the same|as (?:it|they) (?:is|are|was|were)|"
               r"as is|unchanged|untouched|alone|intact|natural|as it was|like (?:it is|that|this))\b"),
    re.compile(rf"\b{_THING}\s+(?:(?:must|should|can|shall|will|may)\s*(?:not|never)|shouldn't|mustn't|can't|cannot|"
               r"won't)\s+(?:change|be changed|be touched|be edited|be altered|get changed|get touched|move)\b"),
    re.compile(rf"\b{_THING}\s+(?:is|are|look|looks|seem|seems)\s+(?:already\s+)?(?:fine|good|great|perfect|ok|okay|"
               r"nice|right)\s*,?\s*(?:so\s+)?(?:just\s+)?(?:leave|keep)\s+(?:it|them)(?:\s+(?:alone|as (?:it is|they are)))?\b"),
)
_HEDGE = re.compile(r"\b(?:maybe|perhaps|possibly|if you can|if you could|if possible|if it is possible|if you like|"
                    r"if you want|if you think so|if you don't mind|if you dont mind|kinda|kind of|sort of|sorta|"
                    r"i guess|might want to|might be worth|might|(?:would|'d) be (?:nice|good|great|lovely)|could maybe|could be|probably|ideally|if it(?:'s| is)? not too "
                    r"much (?:trouble|work|hassle)|if (?:that|it)(?:'s| is)? (?:ok|okay|alright|possible|fine))\b")


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
    from pertouch.graph.vlm.builtin_regions import PLACEHOLDER
    from pertouch.graph.vlm.builtin_tokens import tag, tokenize

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
    from pertouch.graph.vlm.builtin_tokens import tag, tokenize

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
