"""Instruction-parser evaluation: the corpus in ``evals/data/instructions.jsonl``
against a VLM's ``classify`` (the builtin parser by default), accuracy per field.

Each case is ``{"id", "split", "text", "category", "expect": {kind, targets, protected,
style, regions}}``. Fields scored (each exact):

- ``kind`` — strong / weak-optimize / weak-style / no-op / question / undo / out-of-scope
- ``targets`` — the set of (region, attribute, direction, like): ``like`` is the reference
  region of a relative level ("as bright as the water"), null otherwise
- ``sizes`` — every target's shift/level within 0.005, or both null (a ``like`` target has
  neither); scored only when ``targets`` is right
- ``protected``, ``style``, ``regions`` — as sets / values
The ``dev`` split is what the builtin parser was developed against. The
``holdout`` split was written afterwards in two batches and measured before any
fix: batch 1 (category ``holdout``, 54 in-scope) scored 94.4% exact, batch 2
(``holdout2``, 34 in-scope) 76.5% exact (kind 97%), all out-of-scope cases right.
The parser was then fixed on what they exposed, so both now score 100% and are no
longer unseen: the honest estimate for new phrasings is the untouched-batch
number, roughly 75–95% exact. Batch 3 (split ``heldout3``, 37 in-scope + 3
out-of-scope, written before running the parser on it) scored 89.2% exact (kind
94.6%), out-of-scope 3/3; fixed on general causes (purpose clauses "so the …",
elliptical "…, less in the ground", style aliases that contain a cue word, looks
described with unknown words) it scores 100%. Add a fresh batch to measure again.
The ``dev-intents`` split (categories no-op, protection, question, undo, hedge,
comparative, mixed) is what the intent rules (:mod:`pertouch.graph.vlm.builtin.intents`)
were developed against: 94 cases first, then 34 written before running the parser on
them (33/34 exact; the miss, "don't bother editing it", was then fixed), then 4 more. The ``dev-intents-2`` split (``di2-…``, 213 cases) was written for issue 13 in two
batches, each before running the parser on it: 160 cases scored 84.4% exact (undo 37%), then 56
harder phrasings (late protection "the sky must not change", "to match", "would be nice") 73.2%;
the rules were then fixed on general causes (undo verbs that take their clause, approvals, late
protection, hedged numbers) and it scores 100%. Three of its texts turned out identical to texts of
the blind corpus and were taken out (the test that keeps the corpora apart). The ``dev-intents-3`` split
(``di3-…``, 147 cases, 2026-12-06) was written before running the parser on it (160 written, 13 whose
text was already in a corpus dropped): 87.1% exact (no-op 65%, kind 91.2%); the misses were approvals
said with "its"/"this one"/"just the way it is", "wouldn't change", a region "is fine, don't change it",
complaints read the wrong way ("the faces look pale" made them paler), a complaint followed by its
request, "where I took it" context, "them", "match the X of A to B"; fixed on those causes it scores 100%. The blind
intents corpus (``evals/data/instructions_intents.jsonl``, never read) went 89.9% → 90.5% with it. ``evaluate(cases=load_cases(PATH))`` (``scripts/eval_parser.py
--file PATH``) scores any JSONL file of cases; ``by_split`` scores each split separately.

- ``exact`` — all of the above; ``out_of_scope_ok`` — kind out-of-scope, an
  explanation and no edit, on the out-of-scope cases

>>> report = evaluate()                          # doctest: +SKIP
>>> report["in_scope"]["exact"] >= 0.95          # doctest: +SKIP
True
"""

from __future__ import annotations

import json
from collections import defaultdict
from importlib import resources
from pathlib import Path
from typing import Any, Callable

FIELDS = ("kind", "targets", "sizes", "protected", "style", "regions", "exact")
SIZE_TOL = 0.005


def load_cases(path: str | Path | None = None) -> list[dict[str, Any]]:
    """The corpus cases (the packaged file unless ``path`` is given)."""
    if path is None:
        text = resources.files("pertouch.evals").joinpath("data/instructions.jsonl").read_text(encoding="utf-8")
    else:
        text = Path(path).read_text(encoding="utf-8")
    return [json.loads(line) for line in text.splitlines() if line.strip()]


def _key(t: dict[str, Any]) -> tuple[str, str, str, str | None]:
    return (t["region"], t["attribute"], t["direction"], t.get("like") or None)


def _value(t: dict[str, Any]) -> float | None:
    v = t.get("level") if t["direction"] == "set" else t.get("shift")
    return None if v is None else float(v)


def _same(a: float | None, b: float | None) -> bool:
    return a is None and b is None or (a is not None and b is not None and abs(a - b) <= SIZE_TOL)


def score_case(expect: dict[str, Any], got: dict[str, Any]) -> dict[str, bool]:
    """Per-field correctness of one parse (``got`` is ``Intent.model_dump()``)."""
    et = {_key(t): _value(t) for t in expect.get("targets", [])}
    gt = {_key(t): _value(t) for t in got.get("targets", [])}
    res = {
        "kind": got.get("kind") == expect["kind"],
        "targets": set(et) == set(gt),
        "protected": set(got.get("protected", [])) == set(expect.get("protected", [])),
        "style": got.get("style") == expect.get("style"),
        "regions": set(got.get("regions", [])) == set(expect.get("regions", [])),
    }
    res["sizes"] = res["targets"] and all(_same(et[k], gt[k]) for k in et)
    res["exact"] = all(res[f] for f in FIELDS if f != "exact")
    return res


def evaluate(classify: Callable[[str], Any] | None = None, cases: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    """Run ``classify`` (default: the builtin parser) over the corpus; a report dict.

    ``report["in_scope"][field]`` and ``report["all"][field]`` are accuracies in
    [0, 1] over the cases the classifier answered; a case where it raised is an
    *error* (``report["errors"]``, ``[...]["errors"]``), never scored, so a model that
    fails everywhere has no accuracy (None), not the accuracy of empty answers;
    ``report["by_category"]`` holds exact accuracy per category;
    ``report["failures"]`` lists the cases not exactly right with what came out.
    """
    if classify is None:
        from pertouch.graph.vlm.builtin.parser import parse_instruction

        classify = parse_instruction
    cases = load_cases() if cases is None else cases
    rows = []
    for case in cases:
        try:
            got = classify(case["text"]).model_dump()
            error = None
        except Exception as exc:  # a classifier that fails scores zero on the case, visibly
            got, error = {}, f"{type(exc).__name__}: {exc}"
        rows.append({"case": case, "got": got, "error": error, "score": score_case(case["expect"], got)})

    def acc(subset: list[dict[str, Any]]) -> dict[str, Any]:
        ok = [r for r in subset if r["error"] is None]
        return ({f: (round(sum(r["score"][f] for r in ok) / len(ok), 4) if ok else None) for f in FIELDS}
                | {"n": len(subset), "errors": len(subset) - len(ok)})

    def exact(rs: list[dict[str, Any]]) -> float | None:
        ok = [r for r in rs if r["error"] is None]
        return round(sum(r["score"]["exact"] for r in ok) / len(ok), 4) if ok else None

    inscope = [r for r in rows if r["case"]["expect"]["kind"] != "out-of-scope"]
    oos = [r for r in rows if r["case"]["expect"]["kind"] == "out-of-scope"]
    oos_answered = [r for r in oos if r["error"] is None]
    oos_ok = [r for r in oos_answered if r["got"].get("kind") == "out-of-scope" and not r["got"].get("targets")
              and (r["got"].get("explanation") or "").strip()]
    splits: dict[str, list] = defaultdict(list)
    for r in inscope:
        splits[r["case"].get("split", "dev")].append(r)
    every: dict[str, list] = defaultdict(list)
    for r in rows:
        every[r["case"].get("split", "dev")].append(r)
    cats: dict[str, list] = defaultdict(list)
    for r in rows:
        cats[r["case"].get("category", "")].append(r)
    return {
        "all": acc(rows),
        "in_scope": acc(inscope),
        "errors": sum(r["error"] is not None for r in rows),
        "out_of_scope_ok": round(len(oos_ok) / len(oos_answered), 4) if oos_answered else None,
        "n_out_of_scope": len(oos),
        "in_scope_by_split": {k: acc(v) for k, v in splits.items()},
        "by_split": {k: acc(v) for k, v in every.items()},
        "by_category": {c: exact(rs) for c, rs in cats.items()},
        "failures": [{"id": r["case"]["id"], "text": r["case"]["text"], "expect": r["case"]["expect"],
                      "got": {k: r["got"].get(k) for k in ("kind", "targets", "protected", "style", "regions")},
                      "wrong": [f for f in FIELDS if not r["score"][f]], "error": r["error"]}
                     for r in rows if not r["score"]["exact"] and r["error"] is None],
        "errored": [{"id": r["case"]["id"], "text": r["case"]["text"], "error": r["error"]}
                    for r in rows if r["error"] is not None],
    }


def format_report(report: dict[str, Any]) -> str:
    """A short human-readable table of the report."""
    def p(x: float | None, w: int = 0) -> str:
        return f"{'–' if x is None else f'{x:.1%}':>{w}}"

    lines = []
    n_err = report.get("errors", 0)
    if n_err:
        lines.append(f"ERRORS: the classifier failed on {n_err} of {report['all']['n']} cases; they are not "
                     "scored (accuracies are over the answered cases only)"
                     + (" — EVERY case errored, nothing was scored" if n_err == report["all"]["n"] else "")
                     + (f"; first: {report['errored'][0]['error']}" if report.get("errored") else ""))
    lines.append(f"{'field':<10} {'in-scope':>9} {'all':>7}")
    for f in FIELDS:
        lines.append(f"{f:<10} {p(report['in_scope'][f], 9)} {p(report['all'][f], 7)}")
    lines.append(f"cases: {report['all']['n']} ({report['in_scope']['n']} in scope, "
                 f"{report['n_out_of_scope']} out of scope, {n_err} errored); out-of-scope answered correctly: "
                 f"{p(report['out_of_scope_ok'])}")
    for title, key in (("in-scope", "in_scope_by_split"), ("all of", "by_split")):
        for k, v in report.get(key, {}).items():
            lines.append(f"{title} {k} split ({v['n']} cases" + (f", {v['errors']} errored" if v["errors"] else "")
                         + f"): exact {p(v['exact'])}, kind {p(v['kind'])}, targets {p(v['targets'])}, "
                         f"sizes {p(v['sizes'])}")
    lines.append("exact by category: " + ", ".join(f"{c} {p(v)}" for c, v in sorted(report["by_category"].items())))
    return "\n".join(lines)
