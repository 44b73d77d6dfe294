"""The memory suite: the personalisation scenario as runner samples, one score per expectation."""

from __future__ import annotations

import json

from pertouch.evals import runner
from pertouch.evals.memory_task import MemoryTask
from pertouch.evals.runlog import FAIL


def test_the_bundled_scenario_passes_per_query_with_explanations(tmp_path):
    task = MemoryTask()
    ids = [s["id"] for s in task.samples()]
    assert "warm-landscapes/portrait-same-user" in ids and len(ids) == len(set(ids))
    summary = runner.run(task, configs=[{"vlm": "builtin"}], out=tmp_path)
    b = summary["configs"]["builtin"]
    assert (b["passed"], b["failed"], b["errors"]) == (len(ids), 0, 0)
    rows = [json.loads(line) for line in (tmp_path / "log.jsonl").read_text().splitlines()]
    same = next(r for r in rows if r["id"].endswith("unseen-landscape-same-user"))
    assert same["output"]["preferences"]["global"]["temperature"] > 0.2
    assert same["scores"]["global.temperature"]["explanation"].startswith("expected >0.2, got 0.")


def test_a_wrong_expectation_fails_and_says_what_was_recalled(tmp_path):
    case = next(iter(MemoryTask().cases.values()))
    case["queries"] = [dict(case["queries"][0], expect={"global.temperature": "<0"})]
    path = tmp_path / "cases.jsonl"
    path.write_text(json.dumps(case) + "\n")
    summary = runner.run(MemoryTask(path), configs=[{"vlm": "builtin"}], out=tmp_path / "run")
    assert summary["configs"]["builtin"]["failed"] == 1
    row = json.loads((tmp_path / "run" / "log.jsonl").read_text().splitlines()[0])
    assert row["status"] == FAIL and "expected <0, got 0." in row["scores"]["global.temperature"]["explanation"]
