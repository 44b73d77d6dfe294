"""Model-call records: a recorder in the run context sees every role call with its prompt,
raw reply, tokens, latency and error (openai: against the scripted server; builtin by inputs)."""

from __future__ import annotations

import json

import pytest

from pertouch.graph.context import load_context
from pertouch.graph.vlm.base import VLMError
from pertouch.graph.vlm.calls import CallRecorder, RecordedVLM
from pertouch.graph.vlm.registry import get_vlm

INTENT = {"kind": "strong", "targets": [{"region": "sky", "attribute": "brightness", "direction": "up", "shift": 0.3}],
          "explanation": "brighter sky"}


@pytest.fixture()
def vlm(chat_server):
    return get_vlm("openai:test-model", base_url=chat_server.base_url, api_key="sk-test-0123456789abcdefXYZ",
                   sleep=lambda s: None, timeout=2, max_retries=0)


def test_each_request_is_kept_with_its_raw_reply_and_tokens(vlm, chat_server, scene):
    rec = CallRecorder()
    chat_server.script = [{"text": "Sure! The sky should be brighter."}, {"text": json.dumps(INTENT)}]
    got = RecordedVLM(vlm, rec).classify("make the sky brighter", scene)
    assert got.targets[0].region == "sky"
    (call,) = rec.entries()
    assert call["role"] == "classify" and call["provider"] == "openai:test-model" and call["error"] is None
    first, second = call["attempts"]
    assert first["reply"] == "Sure! The sky should be brighter." and first["error"].startswith("invalid answer")
    assert second["reply"] == json.dumps(INTENT) and second["error"] is None
    assert "make the sky brighter" in call["prompt"] and "[system] (digest " in call["prompt"]
    assert "That answer was invalid" in call["prompt"]  # the retry's prompt: what the model saw last
    assert first["tokens"] == {"prompt": 1, "completion": 1, "total": 2}
    assert call["tokens"] == {"prompt": 2, "completion": 2, "total": 4}
    assert call["ms"] >= first["ms"] + second["ms"] - 1
    assert "sk-test" not in json.dumps(call)


def test_a_failed_call_is_kept_with_its_error(vlm, chat_server, scene):
    rec = CallRecorder()
    chat_server.script = [{"status": 503, "body": {"error": {"message": "overloaded"}}}]
    with pytest.raises(VLMError):
        RecordedVLM(vlm, rec).classify("warmer", scene)
    (call,) = rec.entries()
    assert "HTTP 503" in call["error"] and call["reply"] is None and call["tokens"] is None
    assert "HTTP 503" in call["attempts"][0]["error"]


def test_builtin_is_recorded_by_its_inputs_and_answer(scene):
    rec = CallRecorder()
    vlm = RecordedVLM(get_vlm("builtin"), rec)
    intent = vlm.classify("much brighter sky", scene)
    vlm.plan(intent, scene)
    classify, plan = rec.entries()
    assert classify["prompt"] == "much brighter sky" and json.loads(classify["reply"])["targets"][0]["region"] == "sky"
    assert plan["role"] == "plan" and '"kind": "strong"' in plan["prompt"] and json.loads(plan["reply"])["edits"]
    assert classify["tokens"] is None and classify["attempts"] == []


def test_without_a_recorder_nothing_is_wrapped_and_the_context_stays_settings():
    from pertouch.graph import runtime as rt

    plain = load_context(vlm="builtin")
    assert rt.model(plain, "planner") is rt.vlm("builtin")
    rec = CallRecorder()
    ctx = load_context(vlm="builtin", calls=rec)
    assert isinstance(rt.model(ctx, "critic"), RecordedVLM)
    assert "calls" not in ctx.to_json() and ctx.problems() == []
    assert load_context(calls=object()).problems() == ["calls must be a call recorder (with a record method), got object"]
