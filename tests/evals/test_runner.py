"""The suite runner on a scripted task: configs × epochs, errors apart, resume, retry, rescore."""

from __future__ import annotations

import json

import pytest

from pertouch.core.errors import InputError
from pertouch.evals import runner
from pertouch.evals.runlog import RunLog


class Scripted:
    """A task whose answers are given: ``answers[config][id]`` is a number or an exception."""

    name = "scripted"
    cases_path = None

    def __init__(self, answers, threshold=0.5):
        self.answers, self.threshold, self.calls = answers, threshold, []

    def samples(self):
        ids = sorted({i for a in self.answers.values() for i in a})
        return [{"id": i, "category": "even" if int(i[1:]) % 2 == 0 else "odd", "input": {"instruction": i}} for i in ids]

    def solve(self, sample, cfg, out, epoch):
        self.calls.append((cfg["vlm"], sample["id"], epoch))
        got = self.answers[cfg["vlm"]][sample["id"]]
        if isinstance(got, Exception):
            return {"error": f"model: {got}", "output": {}}
        return {"answer": f"value {got}", "output": {"value": got}}

    def score(self, inp, output):
        ok = output["value"] >= self.threshold
        return {"big": {"value": float(ok), "explanation": f"{output['value']} vs {self.threshold}"}}


def test_errors_are_counted_apart_and_never_in_a_rate(tmp_path):
    task = Scripted({"good": {"c1": 1, "c2": 0, "c3": 1, "c4": 1},
                     "dead": {"c1": RuntimeError("down"), "c2": RuntimeError("down"),
                              "c3": RuntimeError("down"), "c4": RuntimeError("down")}})
    summary = runner.run(task, configs=[{"vlm": "good"}, {"vlm": "dead"}], out=tmp_path)
    good, dead = summary["configs"]["good"], summary["configs"]["dead"]
    assert (good["passed"], good["failed"], good["errors"], good["pass_rate"]) == (3, 1, 0, 0.75)
    assert (dead["passed"], dead["failed"], dead["errors"]) == (0, 0, 4)
    assert dead["pass_rate"] is None and dead["ci"] is None and dead["scores"] == {}
    assert good["ci"][0] < 0.75 < good["ci"][1]
    html = (tmp_path / "report.html").read_text()
    assert "Every sample errored" in html and "model: down" in html
    assert "EVERY sample errored" in (tmp_path / "report.md").read_text()


def test_a_killed_run_continues_and_retry_failed_reruns_errors(tmp_path):
    flaky = {"m": {"c1": 1, "c2": RuntimeError("timeout"), "c3": 1}}
    task = Scripted(flaky)
    runner.run(task, configs=[{"vlm": "m"}], out=tmp_path, limit=2)
    assert task.calls == [("m", "c1", 1), ("m", "c2", 1)]
    with (tmp_path / "log.jsonl").open("a") as f:
        f.write('{"config": "m", "id": "c3", "ep')  # a line cut by a kill
    task.calls.clear()
    summary = runner.run(task, configs=[{"vlm": "m"}], out=tmp_path)
    assert task.calls == [("m", "c3", 1)]  # only what was missing
    assert summary["configs"]["m"]["errors"] == 1
    flaky["m"]["c2"] = 1
    task.calls.clear()
    summary = runner.run(task, configs=[{"vlm": "m"}], out=tmp_path, retry_failed=True)
    assert task.calls == [("m", "c2", 1)]
    assert summary["configs"]["m"]["errors"] == 0 and summary["configs"]["m"]["passed"] == 3


def test_epochs_filter_and_limit(tmp_path):
    task = Scripted({"m": {"c1": 1, "c2": 0, "c3": 1, "c4": 0}})
    summary = runner.run(task, configs=[{"vlm": "m"}], out=tmp_path, epochs=3, filter_expr="^even$")
    assert sorted(task.calls) == [("m", i, e) for i in ("c2", "c4") for e in (1, 2, 3)]
    m = summary["configs"]["m"]
    assert m["n"] == 6 and m["epochs"]["n"] == 3 and m["epochs"]["mean"] == 0.0
    assert runner.select(task.samples(), "c[13]", 1)[0]["id"] == "c1"
    with pytest.raises(InputError):
        runner.select(task.samples(), "nothing-matches")


def test_rescore_reapplies_scorers_without_solving(tmp_path):
    task = Scripted({"m": {"c1": 0.6, "c2": 0.2}})
    assert runner.run(task, configs=[{"vlm": "m"}], out=tmp_path)["configs"]["m"]["passed"] == 1
    stricter = Scripted({"m": {"c1": 0.6, "c2": 0.2}}, threshold=0.9)
    summary = runner.rescore(tmp_path, lambda spec: stricter)
    assert stricter.calls == [] and summary["configs"]["m"]["passed"] == 0
    rows = RunLog(tmp_path).samples()
    assert {r["scores"]["big"]["explanation"] for r in rows} == {"0.6 vs 0.9", "0.2 vs 0.9"}
    assert json.loads((tmp_path / "summary.json").read_text())["configs"]["m"]["failed"] == 2


def test_a_folder_of_another_suite_is_refused(tmp_path):
    runner.run(Scripted({"m": {"c1": 1}}), configs=[{"vlm": "m"}], out=tmp_path)
    other = Scripted({"m": {"c1": 1}})
    other.name = "other"
    with pytest.raises(InputError, match="holds a 'scripted' run"):
        runner.run(other, configs=[{"vlm": "m"}], out=tmp_path)


def test_a_score_s_own_verdict_decides_and_none_is_information():
    from pertouch.evals.runlog import FAIL, PASS, status_of, verdict

    info = {"value": 0.4, "pass": None, "explanation": "IoU 0.4"}
    assert verdict(info) is None and status_of({"iou": info}, None) == PASS
    assert status_of({"iou": dict(info, **{"pass": False})}, None) == FAIL
    assert status_of({"iou": dict(info, **{"pass": True}), "x": {"value": 0.0, "explanation": ""}}, None) == FAIL


class Slow(Scripted):
    """Scripted, with each solve waiting like a remote model call (and noting the overlap)."""

    def __init__(self, answers, wait=0.05):
        super().__init__(answers)
        import threading

        self.wait, self.running, self.most, self._lock = wait, 0, 0, threading.Lock()

    def solve(self, sample, cfg, out, epoch):
        import time

        with self._lock:
            self.running += 1
            self.most = max(self.most, self.running)
        time.sleep(self.wait)
        with self._lock:
            self.running -= 1
        return super().solve(sample, cfg, out, epoch)


def test_concurrency_solves_samples_at_once_and_the_log_stays_whole(tmp_path):
    answers = {"m": {f"c{i}": i % 3 for i in range(1, 13)}, "n": {f"c{i}": RuntimeError("down") if i == 5 else 1
                                                                   for i in range(1, 13)}}
    serial = runner.run(Scripted(answers), configs=[{"vlm": "m"}, {"vlm": "n"}], out=tmp_path / "serial", epochs=2)
    task = Slow(answers)
    par = runner.run(task, configs=[{"vlm": "m"}, {"vlm": "n"}], out=tmp_path / "par", epochs=2, concurrency=4)
    assert task.most == 4 and len(task.calls) == 48
    lines = (tmp_path / "par" / "log.jsonl").read_text().splitlines()
    assert len(lines) == 48 and all(json.loads(line)["id"] for line in lines)  # one whole sample per line
    for name in ("m", "n"):
        a, b = serial["configs"][name], par["configs"][name]
        assert (a["passed"], a["failed"], a["errors"]) == (b["passed"], b["failed"], b["errors"])
    task.calls.clear()  # resumable: nothing left to do, and --retry-failed reruns only the errored
    runner.run(task, configs=[{"vlm": "m"}, {"vlm": "n"}], out=tmp_path / "par", epochs=2, concurrency=4)
    assert task.calls == []
    runner.run(task, configs=[{"vlm": "m"}, {"vlm": "n"}], out=tmp_path / "par", epochs=2, concurrency=4,
               retry_failed=True)
    assert sorted(task.calls) == [("n", "c5", 1), ("n", "c5", 2)]
    with pytest.raises(InputError, match="concurrency"):
        runner.run(task, configs=[{"vlm": "m"}], out=tmp_path / "x", concurrency=0)
