"""``pertouch eval``: suites into a run folder, errors apart, rescore and view."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from pertouch.cli import app


def _parser_cases(tmp_path):
    p = tmp_path / "parser.jsonl"
    p.write_text("\n".join(json.dumps(c) for c in [
        {"id": "p1", "split": "dev", "category": "global", "text": "make it brighter",
         "expect": {"kind": "strong", "targets": [{"region": "global", "attribute": "brightness",
                                                   "direction": "up", "shift": 0.2}]}},
        {"id": "p2", "split": "heldout", "category": "global", "text": "add a unicorn",
         "expect": {"kind": "out-of-scope"}},
        {"id": "p3", "split": "heldout", "category": "odd", "text": "make it brighter",
         "expect": {"kind": "question"}},
    ]) + "\n")
    return p


def test_parser_suite_honours_the_cases_file_and_out(tmp_path):
    out = tmp_path / "run"
    res = CliRunner().invoke(app, ["eval", "parser", str(_parser_cases(tmp_path)), "-o", str(out), "--json"])
    assert res.exit_code == 0, res.output
    summary = json.loads(res.stdout.strip().splitlines()[-1])
    b = summary["configs"]["builtin"]
    assert (b["n"], b["passed"], b["failed"], b["errors"]) == (3, 2, 1, 0)
    assert set(b["by_split"]) == {"dev", "heldout"} and b["by_split"]["heldout"]["failed"] == 1
    assert {r["id"] for r in map(json.loads, (out / "log.jsonl").read_text().splitlines())} == {"p1", "p2", "p3"}
    assert (out / "report.html").is_file()


def test_a_model_that_fails_everywhere_shows_errors_not_rates(tmp_path):
    out = tmp_path / "run"
    res = CliRunner().invoke(app, ["eval", "parser", str(_parser_cases(tmp_path)), "--vlm", "builtin",
                                   "--vlm", f"hf:{tmp_path / 'no-model'}", "-o", str(out)])
    assert res.exit_code == 1  # a config scored nothing
    assert "0 pass, 0 fail, 3 error of 3" in res.stdout and "EVERY sample errored" in res.stdout
    assert "nothing was scored" in res.stderr
    summary = json.loads((out / "summary.json").read_text())
    dead = summary["configs"][f"hf:{tmp_path / 'no-model'}"]
    assert dead["pass_rate"] is None and dead["scores"] == {}
    assert summary["configs"]["builtin"]["passed"] == 2


def test_retouch_limit_filter_rescore_and_view(tmp_path):
    out = tmp_path / "run"
    res = CliRunner().invoke(app, ["eval", "retouch", "--filter", "^sky-(brighter|warmer)$", "--limit", "1",
                                   "-o", str(out), "--json"])
    assert res.exit_code == 0, res.output
    rows = [json.loads(x) for x in (out / "log.jsonl").read_text().splitlines()]
    assert [r["id"] for r in rows] == ["sky-brighter"] and (out / rows[0]["image"]).is_file()
    (out / "report.html").unlink()
    res = CliRunner().invoke(app, ["eval", "rescore", str(out)])
    assert res.exit_code == 0, res.output
    assert "1 pass, 0 fail, 0 error of 1" in res.stdout and (out / "report.html").is_file()
    res = CliRunner().invoke(app, ["eval", "view", str(out), "--no-open"])
    assert res.exit_code == 0 and res.stdout.strip() == str((out / "report.html").resolve())


def test_view_of_a_folder_without_a_run_is_one_line(tmp_path):
    res = CliRunner().invoke(app, ["eval", "view", str(tmp_path), "--no-open"])
    assert res.exit_code == 2 and "no report in" in res.stderr and "Traceback" not in res.output
    res = CliRunner().invoke(app, ["eval", "nonsense-suite-or-file"])
    assert res.exit_code == 2 and "case file not found" in res.stderr


def test_segmentation_suite_one_split_prints_its_summary(tmp_path):
    out = tmp_path / "run"
    res = CliRunner().invoke(app, ["eval", "segmentation", "--split", "tune", "--filter", "^flower$", "-o", str(out)])
    assert res.exit_code == 0, res.output
    assert "builtin tune split (1 photos)" in res.stdout and "vegetation" in res.stdout
    summary = json.loads((out / "summary.json").read_text())
    assert summary["suite_summary"]["builtin"]["tune"]["summary"]["kinds"]["vegetation"]["present"] == 1
    row = json.loads((out / "log.jsonl").read_text().splitlines()[0])
    assert row["split"] == "tune" and "vegetation.iou" in row["scores"]
    bad = CliRunner().invoke(app, ["eval", "parser", "--split", "tune", "-o", str(tmp_path / "p")])
    assert bad.exit_code != 0 and "--split applies to the segmentation suite" in bad.output


def test_memory_suite_runs_the_scenario(tmp_path):
    out = tmp_path / "run"
    res = CliRunner().invoke(app, ["eval", "memory", "-o", str(out), "--json"])
    assert res.exit_code == 0, res.output
    b = json.loads(res.stdout.strip().splitlines()[-1])["configs"]["builtin"]
    assert b["n"] == 3 and b["passed"] == 3 and b["errors"] == 0


def test_progress_lines_survive_a_library_silencing_stderr():
    """A native library that points descriptor 2 at /dev/null (and leaves it there) does not
    swallow the eval progress: it is written to a copy of the descriptor."""
    import subprocess
    import sys

    code = ("import os\nfrom pertouch.commands.eval import _own_stderr\ns = _own_stderr()\n"
            "os.dup2(os.open(os.devnull, os.O_WRONLY), 2)\ns.write('[2/9] pass\\n')\n")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert "[2/9] pass" in done.stderr
