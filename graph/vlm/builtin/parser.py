"""The builtin instruction parser: words → :class:`Intent`, offline and deterministic.

Pipeline: tokenize → tag with the longest lexicon phrase (typos corrected with
difflib against lexicon words) → split into clauses (:mod:`~pertouch.graph.vlm.builtin.clauses`:
punctuation, "but", "then", any "leave … alone" cue, which starts a protected clause) → in each clause
build attribute *mentions* (:mod:`~pertouch.graph.vlm.builtin.mentions`: attribute, direction, size,
numbers) and pair them with the region words around them → assemble the intent. MiniLM embeddings
(:mod:`pertouch.graph.vlm.builtin.embedding`) are used only as a fallback: for
style names the lexicon does not know ("like an old Polaroid") and for requests in
which no known word was found.

>>> i = parse_instruction("make the sky a bit warmer and leave the skin alone")
>>> i.kind, [(t.region, t.attribute, t.shift) for t in i.targets], i.protected
('strong', [('sky', 'temperature', 0.1)], ['skin'])
"""

from __future__ import annotations

from pertouch.engine.schema.attributes import SHIFT_MAX, clamp_shift
from pertouch.graph.vlm.builtin import lexicon as lex
from pertouch.graph.vlm.builtin.clauses import VERBS, Clause, Mention, pair, split_clauses
from pertouch.graph.vlm.builtin.language import foreign_language
from pertouch.graph.vlm.builtin.mentions import mentions as read_mentions
from pertouch.graph.vlm.builtin.intents import (
    apply_hedge, explain_no_edit, follow_question, like_target, no_edit_kind, read_cues, take_comparatives,
)
from pertouch.graph.vlm.builtin.regions import extract as extract_regions
from pertouch.graph.vlm.builtin.regions import restore as restore_regions
from pertouch.graph.vlm.builtin.tokens import Item, tag, tokenize
from pertouch.graph.vlm.magnitudes import PLAIN
from pertouch.graph.vlm.schemas import GLOBAL, Intent, Target


def _target(region: str, m: Mention, default_mag: float | None) -> Target | None:
    if m.like is not None and m.like[1] != region:  # "as bright as the water": the planner reads its level
        return like_target(region, m.attribute, m.direction, m.mag_word, m.like)
    if m.number and m.number[0] == "set":
        return Target(region=region, attribute=m.attribute, direction="set", level=max(-1.0, min(1.0, m.number[1])))
    if m.number and m.number[0] == "shift":
        v = clamp_shift(m.number[1])
        if v == 0:
            return None
        return Target(region=region, attribute=m.attribute, direction="up" if v > 0 else "down", shift=v)
    if m.direction is None:
        return None
    size = m.number[1] if m.number else (m.mag if m.mag is not None else (default_mag or PLAIN))
    size = min(SHIFT_MAX, abs(size))
    return Target(region=region, attribute=m.attribute, direction=m.direction,
                  shift=size if m.direction == "up" else -size, magnitude=m.mag_word)



def _clause_targets(clauses: list[Clause], default_mag: float | None) -> tuple[list[Target], list[str], frozenset]:
    """Targets of the non-protected clauses, the regions they named (for weak requests) and the
    (region, attribute) of the targets sized by a number."""
    targets: list[Target] = []
    complained: dict[tuple[str, str], bool] = {}  # (region, attribute) → set by a complaint clause
    fix_asked = False  # a clause that only asks to fix ("the sky is washed out, can you fix it?")
    numbered: set[tuple[str, str]] = set()
    named: list[str] = []
    prev_regions: list[str] = []
    prev_mentions: list[Mention] = []
    for c in clauses:
        if c.neg or c.purpose:
            continue
        seq = read_mentions(c)
        complaint = _complaint(c)
        fix_asked |= not complaint and any(it.tag[0] == "optimize" for it in c.items) and not any(
            k == "M" for k, _ in seq)
        if "style" in {it.tag[0] for it in c.items} and has_cue(c.items):  # "dreamy soft look": words of the style
            seq = [(k, v) for k, v in seq if k == "R" or v.mag is not None or v.number is not None
                   or any(kk == "R" and vv != GLOBAL for kk, vv in seq)]
        regions = [v for k, v in seq if k == "R"]
        mentions = [v for k, v in seq if k == "M"]
        named += [r for r in regions if r != GLOBAL]
        if regions and not mentions and prev_mentions and not any(
                it.tag[0] in ("optimize", "style", "stylecue") for it in c.items):
            way = {"more": "up", "less": "down"}  # "more punch in the sky, less in the ground"
            said = next((way[it.tag[0]] for it in c.items if it.tag[0] in way), None)
            seq = [("R", r) for r in regions] + [("M", Mention(m.attribute, said if said and m.direction else m.direction,
                                                               m.mag, m.mag_word, m.number)) for m in prev_mentions]
        elif mentions and not regions and prev_regions and (not any(
                it.tag[0] in ("dir", "objverb") for it in c.items) or any(it.tag[0] == "pron" for it in c.items)):
            seq = [("R", r) for r in prev_regions] + seq
        for regs, ms in pair(seq):
            if len(regs) > 1 and GLOBAL in regs:
                regs = [r for r in regs if r != GLOBAL]
            for m in ms:
                for r in (regs or [GLOBAL]):
                    t = _target(r, m, default_mag)
                    if t is not None:
                        targets = [x for x in targets if (x.region, x.attribute) != (t.region, t.attribute)]
                        targets.append(t)
                        complained[(t.region, t.attribute)] = complaint
                        if m.number is not None:
                            numbered.add((t.region, t.attribute))
        if mentions:
            prev_mentions = mentions
        if regions:
            prev_regions = [r for r in regions if r != GLOBAL] or prev_regions
    asked = {t.region for t in targets if not complained[(t.region, t.attribute)]}
    if fix_asked or asked:  # the complaint is the reason, the request says what to do
        targets = [t for t in targets if not (complained[(t.region, t.attribute)] and (fix_asked or t.region in asked))]
    return targets, list(dict.fromkeys(named)), frozenset(numbered)


def _complaint(clause: Clause) -> bool:
    """A clause that only says what is wrong ("the sky is too bright", "not enough contrast")."""
    kinds = {it.tag[0] for it in clause.items}
    return (bool(kinds & {"too", "lacks"}) or ("not" in kinds and "enough" in kinds)) and not (
        kinds & {"dir", "objverb", "optimize"}) and not any(it.text in VERBS for it in clause.items)


def has_cue(items: list[Item]) -> bool:
    """A style cue: a cue word ("look", "vibe") alone or inside a style alias ("film look")."""
    return any(it.tag[0] == "stylecue" or (it.tag[0] == "style" and set(it.text.split()) & lex.CUE_WORDS)
               for it in items)


def _explain(kind: str, targets: list[Target], protected: list[str], style: str | None,
             regions: list[str], why: str | None) -> str:
    if kind == "out-of-scope":
        return why or ""
    where = f" on {', '.join(regions)}" if regions else ""
    keep = f"; leaving {', '.join(protected)} alone" if protected else ""
    if kind == "weak-optimize":
        return f"Optimize the photo{where} toward typical well-retouched levels{keep}."
    if kind == "weak-style":
        return f"Apply the {style} style{where}{keep}."
    parts = []
    for t in targets:
        if t.like:
            change = (f"to the {t.like}'s level" if t.direction == "set"
                      else f"{'below' if t.direction == 'down' else 'above'} the {t.like}'s level")
        else:
            change = f"to level {t.level:+.2f}" if t.direction == "set" else f"{t.direction} by {abs(t.shift):.2f}"
        parts.append(f"{t.attribute} of {t.region} {change}")
    extra = f" in the {style} style" if style else ""
    return f"Change {'; '.join(parts)}{extra}{keep}."


_SCOPE = ("I retouch tone and colour (brightness, contrast, colourfulness, temperature, tint, highlights, "
          "shadows, clarity) of the photo and its regions")


def parse_instruction(text: str, *, use_embeddings: bool = True, names: tuple[str, ...] = ()) -> Intent:
    """Parse one instruction into an :class:`Intent` (see the module docstring). ``names``:
    regions the photo has that the lexicon may not know (pointed regions)."""
    lang = foreign_language(text)
    if lang:  # read as English, "mach den Himmel blauer" cooled the whole photo: say so instead
        return Intent(kind="out-of-scope", explanation=(
            f"The builtin model understands English; this instruction looks like {lang}, so nothing was changed — "
            "use --vlm openai:MODEL (or hf:PATH) for other languages, or say it in English."))
    text_, refs = extract_regions(text, names)
    cues = read_cues(text_)  # no-op / question / undo / hedge phrases, cut out of the text
    use_embeddings = use_embeddings and not cues.found
    tokens = tokenize(cues.text)
    items, fixes = tag(tokens)
    items = take_comparatives(restore_regions(items, refs))
    clauses = split_clauses(items)
    kinds = {it.tag[0] for it in items}
    neg_items = [it for c in clauses if c.neg for it in c.items]
    default_mag = next((it.tag[1] for it in neg_items if it.tag[0] == "mag"), None)
    targets, named, numbered = _clause_targets(clauses, default_mag)
    protected = list(dict.fromkeys(it.tag[1] for it in neg_items if it.tag[0] == "region"))
    if cues.questions and "global" not in kinds:  # "is the sky too bright? if so, darken it a little"
        targets = follow_question(targets, cues.questions)
    targets = apply_hedge([t for t in targets if t.region not in protected], cues.hedge, numbered)
    styles = [it.tag[1] for it in items if it.tag[0] == "style"]
    style_words = [it.text for it in items if it.tag[0] == "style"]
    cue = has_cue(items)
    style = styles[0] if styles and (not targets or cue or style_words[0] not in lex.SCENE_STYLE_WORDS) else None
    oos = [it.tag[1] for it in items if it.tag[0] == "oos"]
    objverb_only = "objverb" in kinds and not targets
    optimize = any(it.tag[0] == "optimize" for c in clauses if not c.neg for it in c.items)
    unknown = [it.text for it in items if it.tag[0] == "word"]
    chatter = [it.text for c in clauses if not c.neg for it in c.items
               if it.tag[0] == "word" and it.text not in lex.COMMON]
    kept = bool(protected or neg_items)  # "keep the skin tones", "leave the colours as they are"
    if kept and not chatter:  # nothing more to guess
        use_embeddings = False
    plain = [t for t in targets if t.region == GLOBAL and t.magnitude is None and t.direction != "set"
             and t.like is None and abs(abs(t.shift) - PLAIN) < 1e-9]
    if cue and not styles and not oos and not optimize and unknown and use_embeddings and len(plain) == len(targets):
        # "look like a cold december morning": a described look whose only edits are its own adjectives
        from pertouch.graph.vlm.builtin.embedding import fallback_classify

        guess = fallback_classify(text, style_cue=True)
        if guess.startswith("style:"):
            style, targets = guess.split(":", 1)[1], []
    if not targets and not style and not oos and not objverb_only and not optimize and use_embeddings and unknown:
        from pertouch.graph.vlm.builtin.embedding import fallback_classify

        guess = fallback_classify(text, style_cue=cue, optimize=optimize)
        if guess.startswith("style:"):
            style = guess.split(":", 1)[1]
        elif guess == "optimize":
            optimize = True
    why = None
    no_edit = no_edit_kind(cues, bool(targets or style or oos or objverb_only or optimize), kept)
    if no_edit:
        kind = no_edit
    elif targets:
        kind = "strong"
    elif oos or objverb_only:
        kind = "out-of-scope"
        what = oos[0] if oos else "adding or removing things"
        why = f"{_SCOPE}; {what} is outside what I can do, so nothing was changed."
    elif style:
        kind = "weak-style"
    elif optimize:
        kind = "weak-optimize"
    else:
        kind = "out-of-scope"
        why = (f"{_SCOPE}; I found no retouching request in {text.strip()[:80]!r}, so nothing was changed."
               if text.strip() else f"{_SCOPE}; the instruction is empty, so nothing was changed.")
    if "stylecue" in kinds:  # "give the sky a golden look" limits; "look like a tokyo street" does not
        cue = next(i for i, it in enumerate(items) if it.tag[0] == "stylecue")
        before = {it.tag[1] for it in items[:cue] if it.tag[0] == "region"}
        named = [r for r in named if r in before]
    regions = [r for r in named if r not in protected] if kind in ("weak-optimize", "weak-style") else []
    if kind in ("out-of-scope", "question", "undo"):
        protected = []
    explanation = (explain_no_edit(kind, protected) if no_edit
                   else _explain(kind, targets, protected, style, regions, why))
    if kind == "strong" and oos:
        explanation += f" ({oos[0]} is outside what I can do and was left out.)"
    if fixes:
        explanation += " (read " + ", ".join(f"{a!r} as {b!r}" for a, b in fixes) + ")"
    return Intent(kind=kind, targets=targets if kind == "strong" else [], protected=protected,
                  style=style if kind in ("strong", "weak-style") else None, regions=regions,
                  explanation=explanation)
