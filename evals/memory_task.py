"""The ``memory`` suite: the personalisation scenario (``evals/data/memory_cases.jsonl``,
format in :mod:`pertouch.memory.cases`) as samples of :mod:`pertouch.evals.runner`.

One sample per query of a case: a fresh memory (the config's ``memory`` spec, default
the in-process ``memory:``; ``chroma:`` alone: a Chroma store per sample under ``RUN_DIR/memory/``) is taught
the case's history, then asked the query; the output is the recalled preferences. One
score per expectation (``label.attribute``): 1 when it holds, with the value got in
its explanation.
"""

from __future__ import annotations

import re
from importlib import resources
from pathlib import Path
from typing import Any

from pertouch.core.errors import InputError


def _bundled() -> Path:
    return Path(str(resources.files("pertouch.evals").joinpath("data", "memory_cases.jsonl")))


class MemoryTask:
    name = "memory"

    def __init__(self, cases_path: Path | None = None):
        from pertouch.memory.cases import load_cases

        self.cases_path = Path(cases_path).resolve() if cases_path else None
        path = self.cases_path or _bundled()
        if not path.is_file():
            raise InputError(f"case file not found: {path}")
        self.cases = {c["id"]: c for c in load_cases(path)}

    def samples(self) -> list[dict[str, Any]]:
        out = []
        for case in self.cases.values():
            for i, q in enumerate(case["queries"]):
                name = q.get("name") or f"query {i + 1}"
                out.append({"id": f"{case['id']}/{re.sub(r'[^A-Za-z0-9]+', '-', name).strip('-')}",
                            "category": case["id"],
                            "input": {"case": case["id"], "query": i, "user": q.get("user", case["user"]),
                                      "instruction": name, "expect": q.get("expect", {})}})
        return out

    def solve(self, sample: dict[str, Any], cfg: dict[str, str], out: Path, epoch: int) -> dict[str, Any]:
        from pertouch.memory.cases import recall_for, record_from_step
        from pertouch.memory.factory import open_memory

        inp = sample["input"]
        case = self.cases.get(inp["case"])
        if case is None:
            return {"error": f"InputError: no memory case {inp['case']!r} in the case file", "output": {}}
        spec = cfg.get("memory") or "memory:"
        if spec == "chroma:":  # a persistent store of its own per sample, under the run folder
            spec = f"chroma:{out / 'memory' / re.sub(r'[^A-Za-z0-9]+', '_', sample['id'])}-e{epoch}"
        mem = open_memory(spec)
        try:
            mem.remember_many([record_from_step(case["user"], s) for s in case["history"]])
            rec = recall_for(mem, inp["user"], case["queries"][inp["query"]])
        finally:
            mem.close()
        prefs = {k: dict(v) for k, v in rec.preferences.items()}
        shown = "; ".join(f"{k}: " + ", ".join(f"{a} {x:+.2f}" for a, x in v.items()) for k, v in prefs.items())
        return {"answer": shown or "no preference recalled", "output": {"preferences": prefs}}

    def score(self, inp: dict[str, Any], output: dict[str, Any]) -> dict[str, dict[str, Any]]:
        from pertouch.memory.base import Recall
        from pertouch.memory.cases import check

        rec = Recall(user=inp["user"], preferences=output.get("preferences") or {})
        out = {}
        for key, rule in inp["expect"].items():
            failed = check(rec, {key: rule})
            value = rec.preferences.get(key.split(".", 1)[0], {}).get(key.split(".", 1)[1])
            out[key] = {"value": 0.0 if failed else 1.0,
                        "explanation": failed[0] if failed else f"expected {rule}, got {value}"}
        return out
