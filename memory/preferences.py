"""From recalled memories to a preference recipe; explicit feedback as preferences.

Weighting (all documented constants are module globals):

* each recalled record gets ``w = similarity² · 0.5^(age_days / HALF_LIFE_DAYS) · |rating|``
  (feedback records carrying levels count ``FEEDBACK_BOOST`` times more: the user
  spelled out what they want);
* accepted results (rating > 0) pull each label/attribute towards their achieved
  levels: ``level = Σ w·L / Σ w``;
* rejected results (rating < 0) pull, at half weight, towards the mirror image of
  their levels about the typical level 0 scaled by ``REJECT_MIRROR`` (−0.5·L):
  "not like that";
* feedback without levels ("too warm" said with no result at hand) shifts:
  ``level += clip(Σ w·δ, ±SHIFT_CAP)`` — repeated feedback adds up, a remark about a
  less similar scene nudges less; with no level to shift, it shifts from the typical
  level 0;
* locks ("never touch skin tones") are the union over recalled feedback.

Feedback text is parsed by :func:`parse_feedback`, a small rule set in English:
``too X`` / ``not X enough`` / ``more X`` / ``less X`` / ``X-er`` over the attribute
words of the registry, ``a bit``/``much`` for size, a region word ("sky", "face", "skin
tones") for scope, ``never touch|don't touch|leave … alone|keep … natural`` for locks,
and like/dislike phrases for a rating.
"""

from __future__ import annotations

import re
from typing import Mapping, Sequence

import numpy as np

from pertouch.engine.schema.attributes import REGISTRY, canonical_name
from pertouch.memory.descriptors import GROUPS
from pertouch.memory.records import GLOBAL_LABEL, FeedbackEffect, MemoryRecord
from pertouch.memory.recall import Evidence, Recall

HALF_LIFE_DAYS = 90.0
FEEDBACK_BOOST = 2.0
REJECT_MIRROR = 0.5
SHIFT_CAP = 0.6
STEP = {"small": 0.1, "normal": 0.2, "large": 0.4}

# ----------------------------------------------------------------- similarity & labels


def score_candidates(query: np.ndarray, candidates: Sequence[tuple[MemoryRecord, float]],
                     descriptor_dim: int) -> list[tuple[MemoryRecord, float]]:
    """Exact combined similarity of each candidate to the query vector.

    ``candidates``: (record, inner product of the query with its stored vector). The
    descriptor cosine is computed from the record's own descriptor; the text cosine is
    recovered from the inner product (``ip = wt·cos_t + wd·cos_d``). Both present →
    ``wt·cos_t + wd·cos_d``; one missing on either side → the other alone.
    """
    from pertouch.memory.embeddings import DESCRIPTOR_WEIGHT, TEXT_WEIGHT, split

    qt, qd = split(query)
    q_has_text, q_has_desc = bool(np.any(qt)), bool(descriptor_dim and np.any(qd))
    out = []
    for record, ip in candidates:
        has_desc = q_has_desc and len(record.image_descriptor) == descriptor_dim and any(record.image_descriptor)
        cos_d = 0.0
        if has_desc:
            rd = np.asarray(record.image_descriptor, np.float32)
            cos_d = float(qd @ rd / np.linalg.norm(rd))
        has_text = q_has_text and bool(record.scene_description.strip())
        cos_t = (float(ip) - DESCRIPTOR_WEIGHT * cos_d) / TEXT_WEIGHT if has_text else 0.0
        parts = [(cos_t, TEXT_WEIGHT)] * has_text + [(cos_d, DESCRIPTOR_WEIGHT)] * has_desc
        sim = sum(c * w for c, w in parts) / sum(w for _, w in parts) if parts else 0.0
        out.append((record, max(-1.0, min(1.0, sim))))
    return out


# ----------------------------------------------------------------- aggregation


def recency(timestamp: float, now: float) -> float:
    """0.5 ** (age in days / HALF_LIFE_DAYS); future timestamps count as now."""
    age_days = max(0.0, now - timestamp) / 86400.0
    return 0.5 ** (age_days / HALF_LIFE_DAYS)


def aggregate(user: str, scored: Sequence[tuple[MemoryRecord, float]], *, now: float) -> Recall:
    """Combine recalled ``(record, similarity)`` pairs into a :class:`Recall`."""
    num: dict[str, dict[str, float]] = {}
    den: dict[str, dict[str, float]] = {}
    shift_num: dict[str, dict[str, float]] = {}
    shift_den: dict[str, dict[str, float]] = {}
    locks: dict[str, set[str]] = {}
    evidence, record_weights = [], {}

    def add(table_n, table_d, label, attr, value, weight):
        table_n.setdefault(label, {})[attr] = table_n.get(label, {}).get(attr, 0.0) + weight * value
        table_d.setdefault(label, {})[attr] = table_d.get(label, {}).get(attr, 0.0) + weight

    for record, sim in scored:
        base_w = max(sim, 0.0) ** 2 * recency(record.timestamp, now)
        effect = record.effect or FeedbackEffect()
        weight = 0.0
        if record.kind == "result" and record.rating != 0:
            weight = base_w * abs(record.rating)
            for label, attrs in record.levels.items():
                for attr, level in attrs.items():
                    if record.rating > 0:
                        add(num, den, label, attr, level, weight)
                    else:
                        add(num, den, label, attr, -REJECT_MIRROR * level, 0.5 * weight)
        elif record.kind == "feedback":
            weight = base_w * FEEDBACK_BOOST
            if record.levels:
                corrected = apply_shifts(record.levels, effect.shifts)
                if (effect.rating or 0) >= 0:
                    for label, attrs in corrected.items():
                        for attr, level in attrs.items():
                            add(num, den, label, attr, level, weight)
            else:
                for label, attrs in effect.shifts.items():
                    for attr, delta in attrs.items():
                        add(shift_num, shift_den, label, attr, delta, base_w)
            for label, attrs in effect.locks.items():
                locks.setdefault(label, set()).update(attrs)
        record_weights[record.id] = round(weight, 6)
        evidence.append(Evidence(record.id, round(sim, 4), record.summary()))

    prefs = {lab: {a: num[lab][a] / den[lab][a] for a in num[lab] if den[lab][a] > 0} for lab in num}
    weights = {lab: dict(row) for lab, row in den.items()}
    for label, attrs in shift_num.items():
        for attr, s in attrs.items():
            d = shift_den[label][attr]
            base = prefs.setdefault(label, {}).get(attr, 0.0)
            prefs[label][attr] = base + float(np.clip(s, -SHIFT_CAP, SHIFT_CAP))
            weights.setdefault(label, {})[attr] = weights.get(label, {}).get(attr, 0.0) + d
    prefs = {lab: {a: round(float(np.clip(v, -1.0, 1.0)), 4) for a, v in row.items()}
             for lab, row in prefs.items() if row}
    weights = {lab: {a: round(v, 4) for a, v in row.items()} for lab, row in weights.items() if lab in prefs}
    return Recall(user=user, preferences=prefs, weights=weights,
                  locks={lab: sorted(a) for lab, a in locks.items()},
                  evidence=evidence, record_weights=record_weights)


def apply_shifts(levels: Mapping[str, Mapping[str, float]], shifts: Mapping[str, Mapping[str, float]]) -> dict:
    """Levels with feedback shifts applied (``global`` shifts apply to every label), clipped."""
    out = {lab: dict(row) for lab, row in levels.items()}
    for label, attrs in shifts.items():
        targets = list(out) if label == GLOBAL_LABEL else [k for k in out if k == label] or [label]
        for t in targets:
            for attr, delta in attrs.items():
                out.setdefault(t, {})
                out[t][attr] = float(np.clip(out[t].get(attr, 0.0) + delta, -1.0, 1.0))
    return out


# ----------------------------------------------------------------- feedback parsing

#: Directional words → (attribute, +1 means "more of it").
_DIRECTIONAL: dict[str, tuple[str, int]] = {
    "warm": ("temperature", 1), "warmer": ("temperature", 1), "golden": ("temperature", 1),
    "orange": ("temperature", 1), "yellow": ("temperature", 1),
    "cool": ("temperature", -1), "cooler": ("temperature", -1), "cold": ("temperature", -1),
    "colder": ("temperature", -1), "blue": ("temperature", -1), "bluish": ("temperature", -1),
    "bright": ("brightness", 1), "brighter": ("brightness", 1), "light": ("brightness", 1),
    "lighter": ("brightness", 1), "overexposed": ("brightness", 1), "airy": ("brightness", 1),
    "dark": ("brightness", -1), "darker": ("brightness", -1), "dim": ("brightness", -1),
    "underexposed": ("brightness", -1), "gloomy": ("brightness", -1), "moody": ("brightness", -1),
    "saturated": ("colorfulness", 1), "vivid": ("colorfulness", 1), "colorful": ("colorfulness", 1),
    "colourful": ("colorfulness", 1), "punchy": ("colorfulness", 1), "garish": ("colorfulness", 1),
    "oversaturated": ("colorfulness", 1), "muted": ("colorfulness", -1), "dull": ("colorfulness", -1),
    "desaturated": ("colorfulness", -1), "pale": ("colorfulness", -1), "washed": ("colorfulness", -1),
    "contrasty": ("contrast", 1), "harsh": ("contrast", 1), "flat": ("contrast", -1),
    "sharp": ("clarity", 1), "sharper": ("clarity", 1), "crisp": ("clarity", 1), "gritty": ("clarity", 1),
    "soft": ("clarity", -1), "softer": ("clarity", -1), "blurry": ("clarity", -1), "smooth": ("clarity", -1),
    "green": ("tint", 1), "greenish": ("tint", 1), "magenta": ("tint", -1), "pink": ("tint", -1),
}
for _a in REGISTRY.values():
    for _w in _a.high_words:
        _DIRECTIONAL.setdefault(_w, (_a.name, 1))
    for _w in _a.low_words:
        _DIRECTIONAL.setdefault(_w, (_a.name, -1))

_NEGATIVE = ("don't like", "do not like", "dont like", "hate", "ugly", "awful", "terrible", "horrible",
             "bad", "worse", "not good", "not nice", "dislike", "no good")
_POSITIVE = ("i like", "like it", "love", "looks good", "look good", "perfect", "great", "nice", "beautiful",
             "good", "excellent", "well done", "keep it", "that's it", "spot on")
_SMALL = ("a bit", "a little", "slightly", "a touch", "somewhat", "little")
_LARGE = ("much", "way", "far", "very", "really", "a lot", "extremely", "super")
_LOCK_RE = re.compile(
    r"(?:never|don'?t|do not|stop|no more)\s+(?:ever\s+)?(?:touch|change|edit|alter|retouch|adjust|modify)(?:ing)?\s+"
    r"(?P<a>.+)|leave\s+(?P<b>.+?)\s+(?:alone|untouched|as is|be)\b|keep\s+(?P<c>.+?)\s+(?:natural|as is|untouched|real)")
_REGION_WORDS = {kw: kw for g, kws in GROUPS.items() if g not in ("other", "background") for kw in kws}
_REGION_WORDS.update({"skin": "skin", "tones": "", "tone": ""})


def _singular(word: str) -> str:
    return word[:-1] if word.endswith("s") and word[:-1] in _REGION_WORDS else word


def _region_in(words: Sequence[str]) -> str | None:
    for w in words:
        w = _singular(w)
        if _REGION_WORDS.get(w):
            return _REGION_WORDS[w]
    return None


def _size(clause: str) -> float:
    clause = clause.replace("too much", "too")
    if any(re.search(rf"\b{p}\b", clause) for p in _SMALL):
        return STEP["small"]
    if any(re.search(rf"\b{p}\b", clause) for p in _LARGE):
        return STEP["large"]
    return STEP["normal"]


def _shift_of(clause: str, words: list[str]) -> tuple[str, float] | None:
    """(attribute, signed shift) a clause asks for, or None."""
    size = _size(clause)
    for i, w in enumerate(words):
        prev = words[i - 1] if i else ""
        nxt = words[i + 1] if i + 1 < len(words) else ""
        if w in _DIRECTIONAL:
            attr, sign = _DIRECTIONAL[w]
            if prev in ("too", "overly", "over") or (prev in ("bit", "little", "much", "way", "far") and "too" in words[:i]):
                return attr, -sign * size
            if prev == "not" or (nxt == "enough" and "not" in words[:i]):
                return attr, sign * size
            if prev == "less":
                return attr, -sign * size
            return attr, sign * size  # "warmer", "more vivid", "make it brighter"
        canon = canonical_name(w) if w not in ("tone", "tones", "light", "color", "colour") else None
        if canon and prev in ("more", "less", "enough", "increase", "reduce", "lower", "raise", "boost"):
            sign = -1 if prev in ("less", "reduce", "lower") else 1
            return canon, sign * size
        if canon and nxt == "enough" and "not" in words[:i]:
            return canon, size
        if canon and (prev == "too" or (prev == "much" and "too" in words[:i])):
            return canon, -size  # "too much contrast"
    return None


def parse_feedback(text: str) -> FeedbackEffect:
    """Parse explicit feedback into a :class:`FeedbackEffect`.

    >>> parse_feedback("too warm").shifts
    {'global': {'temperature': -0.2}}
    >>> parse_feedback("Never touch skin tones").locks
    {'skin': ['*']}
    >>> parse_feedback("I like it").rating
    1.0
    """
    low = text.lower().replace("’", "'")
    rating = None
    if any(p in low for p in _NEGATIVE):
        rating = -1.0
    elif any(re.search(rf"\b{re.escape(p)}\b", low) for p in _POSITIVE):
        rating = 1.0
    shifts: dict[str, dict[str, float]] = {}
    locks: dict[str, list[str]] = {}
    for clause in re.split(r"[.;!?,]|\bbut\b|\band\b|\bwhile\b", low):
        clause = clause.strip()
        if not clause:
            continue
        m = _LOCK_RE.search(clause)
        if m:
            what = (m.group("a") or m.group("b") or m.group("c") or "").split()
            attrs = sorted({canonical_name(w) for w in what if canonical_name(w) and w not in ("tone", "tones")})
            label = _region_in(what) or GLOBAL_LABEL
            locks.setdefault(label, [])
            locks[label] = sorted(set(locks[label]) | set(attrs or ["*"]))
            continue
        words = re.findall(r"[a-z']+", clause)
        found = _shift_of(clause, words)
        if found:
            attr, delta = found
            label = _region_in(words) or GLOBAL_LABEL
            shifts.setdefault(label, {})[attr] = round(shifts.get(label, {}).get(attr, 0.0) + delta, 4)
    if shifts and rating == 1.0 and not any(re.search(rf"\b{p}\b", low) for p in ("like", "love", "perfect")):
        rating = None  # "good but too warm": a correction, not a like
    return FeedbackEffect(rating=rating, shifts=shifts, locks=locks)
