"""`pertouch retouch` through the CLI runner: JSON output, files written, exit codes."""

from __future__ import annotations

import pytest

import json

from typer.testing import CliRunner

from pertouch.cli import app

runner = CliRunner()


def _run(*args):
    return runner.invoke(app, ["retouch", *map(str, args)])


def test_json_summary_and_files(rocket_png, tmp_path):
    out = tmp_path / "out.jpg"
    res = _run(rocket_png, "make the sky a lot warmer", "-o", out, "--json")
    assert res.exit_code == 0, res.output
    s = json.loads(res.stdout)
    assert s["status"] in ("ok", "partial")
    assert s["instruction_class"] == "strong"
    assert any(r["label"] == "sky" for r in s["regions"])
    assert 1 <= s["rounds"] <= 3 and s["stop_reason"]
    assert out.is_file() and (tmp_path / "out.jpg.pertouch.json").is_file()
    side = json.loads((tmp_path / "out.jpg.pertouch.json").read_text())
    assert side["regions"] and all("mask" in r for r in side["regions"].values())
    assert {"perceive", "classify", "plan", "render", "critique", "total"} <= set(s["timings_ms"])


def test_out_of_scope_exits_3_without_output(astronaut_png, tmp_path):
    out = tmp_path / "out.jpg"
    res = _run(astronaut_png, "add a unicorn next to her", "-o", out, "--json")
    assert res.exit_code == 3, res.output
    s = json.loads(res.stdout)
    assert s["status"] == "nothing-done" and s["output"] is None
    assert s["errors"] and s["errors"][0]["kind"] == "out-of-scope"
    assert not out.exists()


def test_region_not_found_is_said(coffee_png, tmp_path):
    out = tmp_path / "o.jpg"
    res = _run(coffee_png, "brighter sky", "-o", out, "--json")
    assert res.exit_code == 3, res.output
    s = json.loads(res.stdout)
    assert any(e["kind"] == "not-found" and "sky" in e["message"] for e in s["errors"])
    assert "no sky" in s["answer"] and not out.exists()


def test_output_matches_its_sidecar(rocket_png, tmp_path):
    """OUT.pertouch.json reproduces OUT through `pertouch apply`."""
    import numpy as np
    from PIL import Image

    out = tmp_path / "out.png"
    assert _run(rocket_png, "brighten the sky a little", "-o", out).exit_code == 0
    again = tmp_path / "again.png"
    res = runner.invoke(app, ["apply", str(rocket_png), "--recipe", f"{out}.pertouch.json", "-o", str(again)])
    assert res.exit_code == 0, res.output
    a, b = (np.asarray(Image.open(p).convert("RGB"), np.float32) for p in (out, again))
    assert np.abs(a - b).mean() < 0.5 and np.abs(a - np.asarray(Image.open(rocket_png), np.float32)).mean() > 1


def test_bad_input_exits_2(tmp_path):
    bad = tmp_path / "bad.jpg"
    bad.write_bytes(b"not a jpeg")
    res = _run(bad, "brighter", "-o", tmp_path / "o.jpg")
    assert res.exit_code == 2
    assert res.stderr.startswith("error:") and "Traceback" not in res.output


def test_human_output_says_what_it_understood(astronaut_png, tmp_path):
    res = _run(astronaut_png, "a bit warmer", "-o", tmp_path / "o.png")
    assert res.exit_code == 0, res.output
    assert "Understood: strong" in res.stdout and "Recipe:" in res.stdout and "stopped:" in res.stdout


def test_a_missing_model_folder_is_bad_input(rocket_png, tmp_path):
    out = tmp_path / "out.jpg"
    res = _run(rocket_png, "brighter sky", "-o", out, "--vlm", f"hf:{tmp_path / 'no-model'}")
    assert res.exit_code == 2 and not out.exists()
    assert res.stderr.startswith("error: ") and res.stderr.count("\n") == 1, res.stderr  # before any work
    assert "no model folder" in res.stderr and "Traceback" not in res.output


def test_a_dead_model_server_is_the_model_failing_not_out_of_scope(rocket_png, tmp_path, monkeypatch):
    monkeypatch.setenv("OPENAI_BASE_URL", "http://127.0.0.1:9/v1")
    monkeypatch.setenv("OPENAI_API_KEY", "k")
    out = tmp_path / "out.jpg"
    spec = "openai:m"
    from pertouch.graph import runtime as rt
    from pertouch.graph.vlm.registry import get_vlm

    monkeypatch.setattr(rt, "vlm", lambda s, cache=None: get_vlm(spec, max_retries=0))
    res = _run(rocket_png, "brighter sky", "-o", out, "--vlm", spec, "--json")
    assert res.exit_code == 3 and not out.exists()
    s = json.loads(res.stdout)
    assert s["status"] == "nothing-done" and "the model failed" in s["answer"] and "out-of-scope" not in s["answer"]


def test_apply_of_the_sidecar_reproduces_the_retouch(tmp_path):
    """A guessed mask (a segmenter's, confidence < 1) is feathered by the engine; the sidecar keeps its
    confidence so `pertouch apply` renders the same pixels."""
    import numpy as np
    from PIL import Image
    from sklearn.datasets import load_sample_image

    src = tmp_path / "flower.png"
    Image.fromarray(load_sample_image("flower.jpg")).save(src)
    out, again = tmp_path / "r.png", tmp_path / "a.png"
    assert _run(src, "make the vegetation more colourful", "-o", out).exit_code == 0
    side = json.loads((tmp_path / "r.png.pertouch.json").read_text())
    assert any(0 < r.get("confidence", 1) < 1 for r in side["regions"].values())
    res = runner.invoke(app, ["apply", str(src), "--recipe", f"{out}.pertouch.json", "-o", str(again)])
    assert res.exit_code == 0, res.output
    a, b = (np.asarray(Image.open(p), np.int16) for p in (out, again))
    assert np.abs(a - b).max() <= 1
