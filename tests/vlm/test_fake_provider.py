"""fake: scripted replies per role, in order; errors are VLMErrors; optional fallback."""

from __future__ import annotations

import json

import pytest

from pertouch.core.errors import ModelError
from pertouch.graph.vlm.base import VLMError
from pertouch.graph.vlm.registry import get_vlm, vlm_for_context
from pertouch.graph.vlm.schemas import Intent


def test_json_script_in_order_then_exhausted(tmp_path, scene):
    f = tmp_path / "s.json"
    f.write_text(json.dumps({"classify": [{"kind": "weak-optimize"}, {"kind": "weak-style", "style": "moody"}],
                             "critique": [{"satisfied": True}, {"error": "server said 500"}, "not json"]}))
    v = get_vlm(f"fake:{f}")
    assert v.classify("a").kind == "weak-optimize" and v.classify("b").style == "moody"
    with pytest.raises(VLMError, match="no more classify"):
        v.classify("c")
    assert v.critique(None, None, "x", Intent(kind="weak-optimize"), []).satisfied
    with pytest.raises(VLMError, match="server said 500"):
        v.critique(None, None, "x", Intent(kind="weak-optimize"), [])
    with pytest.raises(VLMError, match="invalid scripted answer"):
        v.critique(None, None, "x", Intent(kind="weak-optimize"), [])
    assert [c[0] for c in v.calls] == ["classify"] * 3 + ["critique"] * 3


def test_jsonl_script_with_builtin_fallback(tmp_path, scene):
    f = tmp_path / "s.jsonl"
    f.write_text("\n".join(json.dumps(r) for r in [
        {"fallback": "builtin"},
        {"role": "plan", "reply": {"edits": [{"region": "sky", "attribute": "brightness", "by": 0.4}]}}]))
    v = get_vlm(f"fake:{f}")
    intent = v.classify("much brighter sky")  # not scripted: the builtin parser answers
    assert intent.targets[0].shift == 0.3
    assert v.plan(intent, scene).edits[0].by == 0.4
    assert v.plan(intent, scene).edits[0].by == 0.3  # script used up: builtin plans


def test_bad_scripts_are_clear_errors(tmp_path):
    with pytest.raises(ModelError, match="cannot read"):
        get_vlm(f"fake:{tmp_path / 'missing.json'}")
    bad = tmp_path / "bad.json"
    bad.write_text('{"clasify": []}')
    with pytest.raises(ModelError, match="clasify"):
        get_vlm(f"fake:{bad}")


def test_registry_errors_and_per_role_routing(tmp_path):
    with pytest.raises(ModelError, match="unknown VLM kind"):
        get_vlm("gpt5")
    with pytest.raises(ModelError, match="needs a"):
        get_vlm("hf:")
    f = tmp_path / "c.json"
    f.write_text(json.dumps({"critique": [{"satisfied": True}]}))
    from pertouch.graph.context import load_context

    routed = vlm_for_context(load_context(vlm="builtin", critic=f"fake:{f}"))
    assert routed.roles["classify"].name == "builtin" and routed.roles["critique"].name == "fake:c.json"
    assert routed.roles["plan"] is routed.roles["classify"]
    assert routed.critique(None, None, "x", Intent(kind="weak-optimize"), []).satisfied
