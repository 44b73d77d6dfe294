"""The agent eval suite: case loading, scorers on synthetic runs, one real run."""

from __future__ import annotations

import json

import numpy as np
import pytest
from typer.testing import CliRunner

from pertouch.cli import app
from pertouch.core.errors import InputError
from pertouch.evals.cases import Case, load_cases
from pertouch.evals.scorers import changes, honest_outcome, instruction_class, passed, score, unchanged
from pertouch.evals.solver import Run


def _case(**expect) -> Case:
    return Case.model_validate({"id": "c", "photo": "skimage:rocket", "instruction": "x", "expect": expect})


def test_bundled_cases_load():
    cases = load_cases()
    assert len(cases) >= 10
    assert {c.expect.class_ for c in cases} >= {"strong", "weak-style", "weak-optimize", "out-of-scope"}


@pytest.mark.parametrize("line, needle", [
    ("{not json", "not valid JSON"),
    ('{"id": "a", "photo": "skimage:rocket"}', "instruction"),
    ('{"id": "a", "photo": "p", "instruction": "i", "expect": {"changes": [{"region": "sky", "attribute": "brightness", "direction": "sideways"}]}}', "direction"),
])
def test_bad_case_files_name_the_line(tmp_path, line, needle):
    p = tmp_path / "cases.jsonl"
    p.write_text(line + "\n")
    with pytest.raises(InputError) as err:
        load_cases(p)
    assert f"{p}:1" in str(err.value) and needle in str(err.value)


def test_changes_scorer_reads_measured_levels():
    case = _case(changes=[{"region": "sky", "attribute": "brightness", "direction": "up"}])
    up = Run("c", before={"sky": {"brightness": 0.1}}, after={"sky": {"brightness": 0.2}}, recipe={})
    down = Run("c", before={"sky": {"brightness": 0.1}}, after={"sky": {"brightness": 0.0}}, recipe={})
    tiny = Run("c", before={"sky": {"brightness": 0.1}}, after={"sky": {"brightness": 0.11}}, recipe={})
    assert changes(case, up).value == 1.0
    assert changes(case, down).value == 0.0
    assert changes(case, tiny).value == 0.0
    assert changes(case, Run("c")).value == 0.0  # nothing rendered


def test_unchanged_and_class_scorers():
    case = _case(unchanged=["vegetation"], **{"class": "strong"})
    kept = Run("c", instruction_class="strong", recipe={},
               before={"vegetation": {"brightness": 0.1, "temperature": 0.0}},
               after={"vegetation": {"brightness": 0.11, "temperature": 0.0}})
    moved = Run("c", instruction_class="weak-style", recipe={},
                before={"vegetation": {"brightness": 0.1}}, after={"vegetation": {"brightness": 0.3}})
    assert unchanged(case, kept).value == 1.0 and instruction_class(case, kept).value == 1.0
    assert unchanged(case, moved).value == 0.0 and instruction_class(case, moved).value == 0.0


def test_honest_outcome_needs_no_result_and_the_error_kind():
    case = _case(no_edit=True, error="not-found")
    right = Run("c", answer="There is no sky in this photo.", errors=[{"kind": "not-found"}])
    silent = Run("c", answer="Done.", recipe={"regions": {}})
    crashed = Run("c", crashed="ValueError: boom")
    assert honest_outcome(case, right).value == 1.0
    assert honest_outcome(case, silent).value == 0.0
    assert honest_outcome(case, crashed).value == 0.0
    assert not passed(score(case, silent))


def test_eval_command_runs_a_real_case(tmp_path):
    cases = tmp_path / "cases.jsonl"
    cases.write_text(json.dumps({"id": "darker", "photo": "skimage:coffee", "instruction": "make it a bit darker",
                                 "long_side": 192, "expect": {"class": "strong", "changes": [
                                     {"region": "global", "attribute": "brightness", "direction": "down"}]}}) + "\n"
                     + json.dumps({"id": "unicorn", "photo": "skimage:coffee", "instruction": "add a unicorn",
                                   "long_side": 192, "expect": {"no_edit": True, "error": "out-of-scope"}}) + "\n")
    out = tmp_path / "report"
    res = CliRunner().invoke(app, ["eval", str(cases), "-o", str(out), "--json"])
    assert res.exit_code == 0, res.output
    summary = json.loads(res.stdout.strip().splitlines()[-1])
    b = summary["configs"]["builtin"]
    assert (b["n"], b["passed"], b["errors"]) == (2, 2, 0)
    rows = [json.loads(line) for line in (out / "log.jsonl").read_text().splitlines()]
    darker = next(r for r in rows if r["id"] == "darker")
    run = darker["output"]
    assert run["after"]["global"]["brightness"] < run["before"]["global"]["brightness"]
    assert darker["timings_ms"] and darker["recipe"]
    assert [c["role"] for c in darker["calls"]] == ["describe", "classify", "plan", "critique"]  # every model call
    classify = darker["calls"][1]
    assert classify["prompt"] == "make it a bit darker" and '"kind": "strong"' in classify["reply"]
    assert all(c["ms"] >= 0 and c["error"] is None for c in darker["calls"])
    assert "4 model call(s)" in (out / "report.html").read_text()
    from PIL import Image

    after = np.asarray(Image.open(out / darker["image"]).convert("L"), np.float32)  # the render is saved
    before = np.asarray(Image.open(out / darker["before_image"]).convert("L"), np.float32)
    assert after.shape == before.shape and after.mean() < before.mean() - 2
    unicorn = next(r for r in rows if r["id"] == "unicorn")
    assert unicorn["image"] is None and unicorn["status"] == "pass"
    assert "darker" in (out / "report.md").read_text() and "darker" in (out / "report.html").read_text()


def test_eval_command_bad_case_file_is_one_line(tmp_path):
    res = CliRunner().invoke(app, ["eval", str(tmp_path / "missing.jsonl")])
    assert res.exit_code == 2
    assert "case file not found" in res.stderr and "Traceback" not in res.output


def test_the_bundled_suite_covers_every_kind_on_many_photos():
    from pertouch.evals.case_regions import given_mask

    cases = load_cases()
    assert len(cases) >= 80 and len({c.photo for c in cases}) >= 12
    cats = {c.category for c in cases}
    assert cats >= {"strong", "weak-optimize", "weak-style", "no-op", "negation", "multi-region", "not-found",
                    "out-of-scope", "prompt-injection"}
    given = [(c, name, r) for c in cases for name, r in c.regions.items()]
    assert len({c.id for c, _, _ in given}) >= 25  # scored in hand-labelled masks, not the agent's regions
    for c, name, r in given:
        m = given_mask(r, c.photo, (48, 64))
        assert 0 < m.mean() < 1, f"{c.id}: region {name} is empty or everything"
        scored = {ch.region for ch in c.expect.changes} | set(c.expect.unchanged)
        assert name in scored, f"{c.id}: region {name} is given but not scored"


@pytest.mark.slow
def test_a_subset_of_the_bundled_suite_runs_without_errors(tmp_path):
    """CI runs a few bundled cases end to end (the CLI runs all of them: ``pertouch eval retouch``)."""
    out = tmp_path / "run"
    res = CliRunner().invoke(app, ["eval", "retouch", "--filter", "^(multi-glass|nf-lake-people|inj-shell)$",
                                   "-o", str(out), "--json"])
    assert res.exit_code == 0, res.output
    rows = [json.loads(line) for line in (out / "log.jsonl").read_text().splitlines()]
    assert sorted(r["id"] for r in rows) == ["inj-shell", "multi-glass", "nf-lake-people"]
    assert all(r["status"] != "error" for r in rows), [r["error"] for r in rows]
    glass = next(r for r in rows if r["id"] == "multi-glass")
    legend = {m["name"]: m["source"] for m in glass["masks"]["legend"]}
    assert legend["face"] == legend["background"] == "case" and (out / glass["masks"]["image"]).is_file()
    assert set(glass["output"]["before"]) >= {"face", "background"}
