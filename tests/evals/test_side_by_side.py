"""Side by side: the builtin brain and an OpenAI-compatible model (a scripted local server)
on the same cases; the report has a column for each, with the second one's model calls."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from pertouch.cli import app

sys.path.insert(0, str(Path(__file__).parent))
from scripted_vlm import ScriptedVLMServer  # noqa: E402


@pytest.fixture()
def server():
    s = ScriptedVLMServer()
    yield s
    s.close()


@pytest.mark.slow
def test_builtin_and_an_openai_model_side_by_side(tmp_path, server):
    cases = tmp_path / "cases.jsonl"
    cases.write_text("\n".join(json.dumps(c) for c in [
        {"id": "darker", "photo": "skimage:coffee", "instruction": "make it a bit darker", "long_side": 160,
         "expect": {"changes": [{"region": "global", "attribute": "brightness", "direction": "down"}]}},
        {"id": "sky", "photo": "skimage:rocket", "instruction": "brighten the sky, leave the rest", "long_side": 160,
         "regions": {"rest": {"box": [0, 0.3, 1, 1]}},
         "expect": {"changes": [{"region": "global", "attribute": "brightness", "direction": "up"}], "unchanged": ["rest"]}},
        {"id": "unicorn", "photo": "skimage:coffee", "instruction": "add a unicorn", "long_side": 160,
         "expect": {"no_edit": True, "error": "out-of-scope"}}]) + "\n")
    model = f"openai:scripted?base_url={server.base_url}&max_retries=0"
    out = tmp_path / "run"
    res = CliRunner().invoke(app, ["eval", str(cases), "--vlm", "builtin", "--vlm", model, "-o", str(out), "--json"])
    assert res.exit_code == 0, res.output
    summary = json.loads(res.stdout.strip().splitlines()[-1])
    b, m = summary["configs"]["builtin"], summary["configs"][model]
    assert b["n"] == m["n"] == 3 and b["errors"] == m["errors"] == 0
    # the naive model brightens the whole photo for "brighten the sky, leave the rest"; the builtin the sky
    rows = {(r["config"], r["id"]): r for r in map(json.loads, (out / "log.jsonl").read_text().splitlines())}
    naive = rows[(model, "sky")]["recipe"]
    assert naive["regions"] == {} and naive["global"]["attributes"]["brightness"]["by"] > 0
    assert rows[(model, "sky")]["scores"]["unchanged"]["value"] == 0.0
    assert "sky" in rows[("builtin", "sky")]["recipe"]["regions"]
    calls = rows[(model, "darker")]["calls"]
    assert {c["role"] for c in calls} >= {"classify", "plan"} and all(c["tokens"]["total"] > 0 for c in calls)
    assert server.requests == sum(len(r["calls"]) for (cfg, _), r in rows.items() if cfg == model)
    assert m["calls"]["tokens"] > 0 and b["calls"]["tokens"] is None
    page = (out / "report.html").read_text()
    head = page[page.index("<table id=summary>"):page.index("</tr>", page.index("<table id=summary>"))]
    assert "<th>builtin</th>" in head and f"<th>{model.replace('&', '&amp;')}</th>" in head
    cases_head = page[page.index("<table id=cases>"):]
    assert cases_head.count("<tr class=case") == 3 and cases_head.count("<span class='badge") == 6
