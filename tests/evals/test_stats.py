"""Intervals and summaries of a run log."""

from __future__ import annotations

import pytest

from pertouch.evals.stats import mean_ci, summarise, wilson


def test_wilson_interval():
    assert wilson(0, 0) is None
    lo, hi = wilson(8, 10)
    assert lo == pytest.approx(0.4902, abs=1e-3) and hi == pytest.approx(0.9433, abs=1e-3)
    assert wilson(10, 10)[1] == 1.0 and wilson(0, 10)[0] == 0.0


def test_mean_ci_over_epochs():
    assert mean_ci([0.5])["ci"] is None
    r = mean_ci([0.6, 0.8, 0.7])
    assert r["mean"] == pytest.approx(0.7) and r["ci"][0] < 0.7 < r["ci"][1]


def test_scorer_means_skip_errors_and_not_asked():
    rows = [{"config": "a", "id": "1", "epoch": 1, "status": "pass", "ms": 5,
             "scores": {"x": {"value": 1.0, "explanation": ""}, "y": {"value": None, "explanation": "not asked"}}},
            {"config": "a", "id": "2", "epoch": 1, "status": "fail", "ms": 7,
             "scores": {"x": {"value": 0.0, "explanation": ""}, "y": {"value": 0.5, "explanation": ""}}},
            {"config": "a", "id": "3", "epoch": 1, "status": "error", "error": "model: down", "ms": 1, "scores": {}}]
    a = summarise(rows, ["a"])["configs"]["a"]
    assert a["scores"] == {"x": 0.5, "y": 0.5}
    assert (a["passed"], a["failed"], a["errors"], a["pass_rate"]) == (1, 1, 1, 0.5)
    assert a["median_ms"] == 6.0 and a["error_messages"] == ["model: down"]
