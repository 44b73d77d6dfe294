"""benchmarks/gpu_train_check.py runs end to end on CPU with --tiny (the GPU run is the same path, bigger)."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest

pytest.importorskip("torch")
pytest.importorskip("diffusers")

SCRIPT = Path(__file__).parents[2] / "benchmarks" / "gpu_train_check.py"


def _script():
    spec = importlib.util.spec_from_file_location("_pertouch_gpu_train_check", SCRIPT)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


@pytest.mark.slow
def test_tiny_cpu_run_reports_speed_loss_and_conditioning(tmp_path, capsys):
    mod = _script()
    report = mod.main(["--tiny", "--steps", "20", "--out", str(tmp_path), "--device", "cpu"])
    assert json.loads((tmp_path / "report.json").read_text()) == report
    t = report["train"]
    assert report["steps"] == 20 and report["device"] == "cpu" and report["gpu"] is None
    assert t["steps_per_s"] > 0 and t["peak_memory_GiB"] is None and t["skipped_steps"] == 0
    assert len(t["loss_curve"]) == 10 and all(b["loss"] > 0 for b in t["loss_curve"])
    c = report["conditioning"]
    assert set(c["attributes"]) == {"brightness", "contrast", "colorfulness", "temperature"}
    assert c["works"] in ("yes", "partly", "no")
    assert all(v["ok"] == (v["delta"] >= mod.MIN_DELTA) for v in c["attributes"].values())
    assert Path(report["samples_png"]).is_file()
    assert "no SD weights" in report["weights"]
    out = capsys.readouterr().out
    assert "conditioning works:" in out and "steps/s" in out

