"""Scorers: small functions ``(case, run) -> Score`` with a value and an explanation.

A value is in [0, 1], or ``None`` when the case does not ask for that aspect. A case
passes when every scorer that applies gives 1.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from pertouch.evals.cases import Case
from pertouch.evals.solver import Run

UNCHANGED_TOL = 0.03


@dataclass(frozen=True)
class Score:
    name: str
    value: float | None
    explanation: str


Scorer = Callable[[Case, Run], Score]


def instruction_class(case: Case, run: Run) -> Score:
    want = case.expect.class_
    if want is None:
        return Score("class", None, "not asked")
    ok = run.instruction_class == want
    return Score("class", float(ok), f"expected {want}, got {run.instruction_class}")


def _delta(run: Run, region: str, attribute: str) -> float | None:
    b = run.before.get(region, {}).get(attribute)
    a = run.after.get(region, {}).get(attribute)
    if b is None or a is None:
        return None
    return a - b


def changes(case: Case, run: Run) -> Score:
    """The measured level of each named region/attribute moved the right way, enough."""
    wanted = case.expect.changes
    if not wanted:
        return Score("changes", None, "not asked")
    if not run.after:
        return Score("changes", 0.0, "no result was rendered")
    good, notes = 0, []
    for ch in wanted:
        d = _delta(run, ch.region, ch.attribute)
        if d is None:
            notes.append(f"{ch.region}.{ch.attribute}: region not in the photo")
            continue
        ok = d >= ch.min if ch.direction == "up" else d <= -ch.min
        good += ok
        notes.append(f"{ch.region}.{ch.attribute} {d:+.3f} ({'ok' if ok else 'want ' + ch.direction})")
    return Score("changes", good / len(wanted), "; ".join(notes))


def unchanged(case: Case, run: Run) -> Score:
    """Regions the instruction protects kept their levels (within 0.03)."""
    labels = case.expect.unchanged
    if not labels:
        return Score("unchanged", None, "not asked")
    if not run.after:
        return Score("unchanged", 0.0, "no result was rendered")
    checked, good, notes = 0, 0, []
    for lab in labels:
        if lab not in run.before:
            notes.append(f"{lab}: not in the photo")
            continue
        worst = max(abs(_delta(run, lab, a) or 0.0) for a in run.before[lab])
        checked += 1
        good += worst <= UNCHANGED_TOL
        notes.append(f"{lab}: largest change {worst:.3f}")
    if checked == 0:
        return Score("unchanged", None, "; ".join(notes))
    return Score("unchanged", good / checked, "; ".join(notes))


def honest_outcome(case: Case, run: Run) -> Score:
    """No crash; when no edit is right, no result and an answer that says why."""
    if run.crashed:
        return Score("honest", 0.0, f"the agent crashed: {run.crashed}")
    if case.expect.no_edit:
        kinds = {e.get("kind") for e in run.errors}
        ok = run.recipe is None and bool(run.answer.strip())
        if case.expect.error:
            ok = ok and case.expect.error in kinds
        return Score("honest", float(ok), f"result={'yes' if run.recipe else 'no'}, error kinds={sorted(k for k in kinds if k)}")
    ok = run.recipe is not None or (case.expect.may_skip and bool(run.answer.strip()))
    why = "a result was produced" if run.recipe is not None else f"no result: {run.answer[:120]}"
    return Score("honest", float(ok), why)


def clean(case: Case, run: Run) -> Score:
    """The render passes the artefact gate (blotches, halos, noise, banding, clipping)."""
    if not case.expect.clean:
        return Score("clean", None, "not asked")
    if run.recipe is None:
        return Score("clean", 1.0 if case.expect.may_skip or case.expect.no_edit else 0.0, "nothing was rendered")
    failed = list((run.artefacts or {}).get("failed") or [])
    return Score("clean", float(not failed and run.artefacts is not None),
                 "passes the artefact gate" if not failed else "fails: " + ", ".join(failed))


SCORERS: tuple[Scorer, ...] = (instruction_class, changes, unchanged, honest_outcome, clean)


def score(case: Case, run: Run, scorers: tuple[Scorer, ...] = SCORERS) -> list[Score]:
    return [s(case, run) for s in scorers]


def passed(scores: list[Score]) -> bool:
    return all(s.value is None or s.value >= 1.0 for s in scores)
