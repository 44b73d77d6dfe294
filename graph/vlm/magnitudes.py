"""The magnitude scale: how big a change a word asks for. The one place it is defined.

Levels are absolute positions in [−1, 1] (0 = a typical well-retouched level); a
*shift* moves a region's measured level by a signed amount. Words map to the size
of that shift; the direction comes from the attribute word ("brighter", "cooler").

=======================================================  =====
words                                                    shift
=======================================================  =====
a touch, a tiny bit, a hair, a smidge, very slightly      0.05
slightly, a bit, a little, somewhat, subtly, gently        0.10
(no word: "brighter", "more contrast", "warm the sky")     0.20
much, considerably, noticeably, quite, significantly       0.30
a lot, very, dramatically, extremely, heavily, hugely      0.50
as much as possible, maximum, fully                        0.80
=======================================================  =====

A bare comparative ("more contrast", "brighter") is the plain step, 0.2: "more"
only says which way. Numbers: ``N%`` is a shift of N/100 ("20% brighter" → 0.2,
capped at 1.0); a signed number ("brightness +0.3") is a shift; "to 0.3", "at
0.3", "= 0.3" set an absolute level; one photographic stop ("+1 EV", "a stop
brighter") is a brightness shift of :data:`STOP`.

>>> MAGNITUDES["slightly"], PLAIN
(0.1, 0.2)
"""

from __future__ import annotations

#: The shift of an instruction that names no size.
PLAIN = 0.2
#: Brightness shift of one photographic stop.
STOP = 0.25
#: Largest shift a percentage maps to.
PERCENT_CAP = 1.0

#: Named steps of the scale (value → words), in increasing size.
SCALE: tuple[tuple[float, tuple[str, ...]], ...] = (
    (0.05, ("a touch", "a tiny bit", "a tad", "a hair", "a smidge", "a smidgen", "very slightly",
            "a little touch", "tiny bit", "barely", "just a touch", "ever so slightly", "minimally")),
    (0.10, ("slightly", "a bit", "a little", "a little bit", "somewhat", "subtly", "subtle", "gently",
            "lightly", "mildly", "marginally", "a little more", "a bit more", "bit", "little",
            "not too much", "a little less", "a bit less", "don't overdo it", "dont overdo it",
            "do not overdo it", "not too strong", "subtle", "a little", "modestly")),
    (0.30, ("much", "considerably", "noticeably", "quite", "significantly", "really", "way",
            "a good bit", "clearly", "substantially", "more noticeably", "a fair bit", "strongly")),
    (0.50, ("a lot", "lots", "very", "dramatically", "extremely", "heavily", "hugely", "massively",
            "drastically", "a ton", "super", "seriously", "radically", "intensely",
            "a great deal", "tons", "loads", "crazy", "insanely", "majorly")),
    (0.80, ("as much as possible", "as possible", "maximum", "max", "fully", "all the way", "to the max")),
)

#: word → shift size; multi-word phrases included.
MAGNITUDES: dict[str, float] = {w: v for v, words in SCALE for w in words}

#: Number words accepted before "percent".
NUMBER_WORDS: dict[str, float] = {
    "five": 5, "ten": 10, "fifteen": 15, "twenty": 20, "twenty-five": 25, "thirty": 30,
    "forty": 40, "fifty": 50, "sixty": 60, "seventy": 70, "eighty": 80, "ninety": 90,
    "hundred": 100, "one": 1, "two": 2, "three": 3, "half": 0.5,
}


def percent_to_shift(percent: float) -> float:
    """Size of the shift for ``percent`` (``20`` → ``0.2``), capped at :data:`PERCENT_CAP`."""
    return round(min(abs(percent) / 100.0, PERCENT_CAP), 4)


def describe_scale() -> str:
    """The scale as prompt text, one line per step."""
    lines = [f"- {v:.2f}: " + ", ".join(f'"{w}"' for w in words[:6]) for v, words in SCALE]
    lines.insert(2, f"- {PLAIN:.2f}: no size word (\"brighter\", \"more contrast\")")
    return "\n".join(lines)
