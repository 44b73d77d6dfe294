"""API keys never appear in logs, errors, reprs, pickles, intents, plans or recipes."""

from __future__ import annotations

import json
import logging
import pickle

import pytest

from pertouch.core.errors import ModelError
from pertouch.graph.vlm.base import VLMError, plan_to_recipe
from pertouch.graph.vlm.registry import get_vlm
from pertouch.graph.vlm.schemas import Intent

KEY = "sk-live-SECRETsecret0123456789abcdefGHIJ"


@pytest.fixture()
def keyed(monkeypatch, chat_server):
    monkeypatch.setenv("PERTOUCH_API_KEY", KEY)
    return get_vlm("openai:test-model", base_url=chat_server.base_url, sleep=lambda s: None, max_retries=1)


def test_key_from_env_is_used_but_never_shown(keyed, chat_server, scene, caplog):
    caplog.set_level(logging.DEBUG)
    intent = {"kind": "strong", "targets": [{"region": "sky", "attribute": "brightness", "direction": "up",
                                             "shift": 0.2}]}
    plan = {"edits": [{"region": "sky", "attribute": "brightness", "by": 0.2, "reason": "asked"}]}
    chat_server.script = [{"text": json.dumps(intent)}, {"text": json.dumps(plan)}]
    got = keyed.classify("brighter sky", scene)
    p = keyed.plan(got, scene, {"sky": {"brightness": 0.1}}, None)
    recipe = plan_to_recipe(p, scene)
    assert chat_server.requests[0]["headers"]["authorization"] == f"Bearer {KEY}"
    for text in (got.model_dump_json(), p.model_dump_json(), recipe.dumps(), repr(keyed), str(keyed.__dict__.get("name")),
                 caplog.text, json.dumps(chat_server.requests[0]["body"])):
        assert KEY not in text
    assert KEY not in pickle.dumps(keyed).decode("latin-1")


def test_key_echoed_by_the_server_is_redacted(keyed, chat_server, caplog):
    caplog.set_level(logging.DEBUG)
    echo = {"error": {"message": f"Incorrect API key provided: {KEY}. Find yours at example.com"}}
    chat_server.script = [{"status": 401, "body": echo}]
    with pytest.raises(VLMError) as err:
        keyed.classify("brighter")
    assert "***" in str(err.value) and KEY not in str(err.value) and KEY not in repr(err.value)
    chat_server.script = [{"status": 500, "body": echo}] * 2
    with pytest.raises(VLMError) as err:
        keyed.classify("brighter")
    assert KEY not in str(err.value) and KEY not in caplog.text


def test_key_in_the_model_string_is_refused_without_echo():
    with pytest.raises(ModelError) as err:
        get_vlm(f"openai:gpt?base_url=http://x&api_key={KEY}")
    assert KEY not in str(err.value)


def test_invalid_answer_error_is_redacted(keyed, chat_server):
    bad = json.dumps({"kind": f"{KEY}"})
    chat_server.script = [{"text": bad}, {"text": bad}]
    with pytest.raises(VLMError) as err:
        keyed.classify("brighter")
    assert KEY not in str(err.value)


def test_no_key_and_no_server_is_a_clear_error(monkeypatch):
    monkeypatch.delenv("PERTOUCH_API_KEY", raising=False)
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    monkeypatch.delenv("OPENAI_BASE_URL", raising=False)
    monkeypatch.delenv("PERTOUCH_OPENAI_BASE_URL", raising=False)
    with pytest.raises(ModelError, match="no API key"):
        get_vlm("openai:gpt-4o-mini")


def test_intent_model_never_carries_provider_settings(keyed):
    assert "api" not in json.dumps(Intent.model_json_schema()).lower()
