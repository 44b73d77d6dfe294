"""openai: provider against a real chat-completions server on 127.0.0.1 (scripted answers)."""

from __future__ import annotations

import base64
import io
import json

import pytest
from PIL import Image

from pertouch.graph.vlm.base import VLMError
from pertouch.graph.vlm.registry import get_vlm
from pertouch.graph.vlm.schemas import Intent

INTENT = {"kind": "strong", "targets": [{"region": "sky", "attribute": "brightness", "direction": "up", "shift": 0.3}],
          "explanation": "brighter sky"}
CRITIQUE = {"satisfied": False, "targets": [{"region": "sky", "attribute": "brightness", "verdict": "not_enough",
                                              "size_fits_wording": False}],
            "advice": [{"region": "sky", "attribute": "brightness", "by": 0.1}]}


@pytest.fixture()
def sleeps():
    return []


@pytest.fixture()
def vlm(chat_server, sleeps):
    return get_vlm("openai:test-model", base_url=chat_server.base_url, api_key="sk-test-0123456789abcdefXYZ",
                   sleep=sleeps.append, timeout=2)


def _images(request):
    user = request["body"]["messages"][1]["content"]
    urls = [c["image_url"]["url"] for c in user if isinstance(c, dict) and c.get("type") == "image_url"]
    return [Image.open(io.BytesIO(base64.b64decode(u.split(",", 1)[1]))) for u in urls]


def test_structured_output_and_request_shape(vlm, chat_server, scene):
    chat_server.script = [{"text": json.dumps(INTENT)}]
    intent = vlm.classify("much brighter sky", scene)
    assert isinstance(intent, Intent) and intent.targets[0].shift == 0.3
    req = chat_server.requests[0]
    assert req["path"] == "/v1/chat/completions"
    assert req["headers"]["authorization"] == "Bearer sk-test-0123456789abcdefXYZ"
    body = req["body"]
    assert body["model"] == "test-model"
    assert body["response_format"]["type"] == "json_schema"
    assert "kind" in body["response_format"]["json_schema"]["schema"]["properties"]
    system = body["messages"][0]["content"]
    assert "ABSOLUTE" in system and "colorfulness" in system  # prompts built from the registry
    assert "much brighter sky" in body["messages"][1]["content"]


def test_images_reach_the_server_as_jpeg_data_urls(vlm, chat_server, scene, astronaut, tmp_path):
    path = tmp_path / "after.png"
    Image.fromarray(astronaut).save(path)
    chat_server.script = [{"text": json.dumps({"tags": ["portrait"], "description": "an astronaut"})},
                          {"text": json.dumps(CRITIQUE)}]
    desc = vlm.describe(Image.fromarray(astronaut), scene)
    assert desc.tags == ["portrait"]
    (img,) = _images(chat_server.requests[0])
    assert img.format == "JPEG" and max(img.size) <= 768 and img.size[0] == img.size[1]
    crit = vlm.critique(Image.fromarray(astronaut[::2, ::2]), path, "brighter sky", Intent(**INTENT),
                        [{"region": "sky", "attribute": "brightness", "before": 0.5, "target": 0.8, "achieved": 0.6}])
    assert crit.satisfied is False and crit.advice[0].by == 0.1
    before, after = _images(chat_server.requests[1])
    assert before.size == (256, 256) and after.size == (512, 512)
    assert "achieved +0.60" in chat_server.requests[1]["body"]["messages"][1]["content"][0]["text"]


def test_malformed_json_is_retried_once_with_the_error(vlm, chat_server):
    chat_server.script = [{"text": "Sure! The sky should be brighter."}, {"text": "```json\n" + json.dumps(INTENT) + "\n```"}]
    assert vlm.classify("brighter sky").kind == "strong"
    retry = chat_server.requests[1]["body"]["messages"]
    assert retry[-2] == {"role": "assistant", "content": "Sure! The sky should be brighter."}
    assert "invalid" in retry[-1]["content"] and "no JSON object" in retry[-1]["content"]


def test_invalid_twice_raises_vlm_error(vlm, chat_server):
    bad = dict(INTENT, targets=[{"region": "sky", "attribute": "sparkle", "direction": "up", "shift": 0.3}])
    chat_server.script = [{"text": json.dumps(bad)}, {"text": json.dumps(bad)}]
    with pytest.raises(VLMError, match="sparkle") as err:
        vlm.classify("sparkly sky")
    assert err.value.role == "classify" and len(chat_server.requests) == 2


def test_429_honours_retry_after(vlm, chat_server, sleeps):
    chat_server.script = [{"status": 429, "body": {"error": {"message": "slow down"}}, "headers": {"Retry-After": "3"}},
                          {"text": json.dumps(INTENT)}]
    assert vlm.classify("brighter sky").kind == "strong"
    assert sleeps == [3.0] and len(chat_server.requests) == 2


def test_5xx_backoff_then_success(vlm, chat_server, sleeps):
    chat_server.script = [{"status": 500, "body": {"error": {"message": "boom"}}},
                          {"status": 503, "body": {"error": {"message": "busy"}}},
                          {"text": json.dumps(INTENT)}]
    assert vlm.classify("brighter sky").kind == "strong"
    assert sleeps == [1.0, 2.0]


def test_persistent_500_raises_after_retries(vlm, chat_server, sleeps):
    chat_server.script = [{"status": 500, "body": {"error": {"message": "boom"}}}] * 10
    with pytest.raises(VLMError, match="HTTP 500 after 5 attempts"):
        vlm.classify("brighter sky")
    assert len(chat_server.requests) == 5 and sleeps == [1.0, 2.0, 4.0, 8.0]


def test_retry_budget_is_capped(chat_server, sleeps):
    v = get_vlm("openai:m", base_url=chat_server.base_url, api_key="k", sleep=sleeps.append, max_total_s=10)
    chat_server.script = [{"status": 429, "body": {}, "headers": {"Retry-After": "25"}}] * 3
    with pytest.raises(VLMError, match="budget"):
        v.classify("x")
    assert sleeps == [] and len(chat_server.requests) == 1


def test_timeouts_are_retried_then_fail(chat_server, sleeps):
    v = get_vlm("openai:m", base_url=chat_server.base_url, api_key="k", sleep=sleeps.append, timeout=0.3,
                max_retries=1)
    chat_server.script = [{"delay": 1.0, "text": json.dumps(INTENT)}, {"text": json.dumps(INTENT)}]
    assert v.classify("brighter sky").kind == "strong" and sleeps == [1.0]
    chat_server.script = [{"delay": 1.0, "text": "{}"}] * 2
    with pytest.raises(VLMError, match="(?i)timeout"):
        v.classify("brighter sky")


def test_server_without_json_schema_falls_back_to_json_in_text(vlm, chat_server):
    chat_server.script = [{"reject_schema": True, "text": json.dumps(INTENT)}, {"text": json.dumps(INTENT)},
                          {"reject_schema": True, "text": json.dumps(INTENT)}]
    assert vlm.classify("brighter sky").kind == "strong"
    assert "response_format" in chat_server.requests[0]["body"]
    assert "response_format" not in chat_server.requests[1]["body"]
    assert "JSON schema" in chat_server.requests[1]["body"]["messages"][0]["content"]
    assert vlm.classify("brighter sky").kind == "strong"  # remembered: no second rejection
    assert "response_format" not in chat_server.requests[2]["body"]


def test_auth_error_fails_at_once_with_a_hint(vlm, chat_server, sleeps):
    chat_server.script = [{"status": 401, "body": {"error": {"message": "bad key"}}}]
    with pytest.raises(VLMError) as err:
        vlm.plan(Intent(**INTENT), __import__("pertouch.graph.vlm.schemas", fromlist=["SceneInfo"]).SceneInfo())
    assert "HTTP 401" in str(err.value) and "PERTOUCH_API_KEY" in str(err.value) and sleeps == []


def test_unreachable_server_is_a_vlm_error(sleeps):
    v = get_vlm("openai:m", base_url="http://127.0.0.1:9/v1", api_key="k", sleep=sleeps.append, max_retries=1)
    with pytest.raises(VLMError, match="(?i)connection"):
        v.classify("brighter")
    assert sleeps == [1.0]


def test_a_server_found_down_fails_the_next_calls_at_once(chat_server, sleeps):
    v = get_vlm("openai:m", base_url=chat_server.base_url, api_key="k", sleep=sleeps.append, max_retries=2)
    chat_server.script = [{"status": 503, "body": {}}] * 3 + [{"text": json.dumps(INTENT)}]
    with pytest.raises(VLMError, match="HTTP 503 after 3 attempts"):
        v.classify("brighter sky")
    asked = len(chat_server.requests)
    with pytest.raises(VLMError, match="found down .* not asked again"):
        v.classify("brighter sky")  # another role of the same turn: no request, no waiting
    assert len(chat_server.requests) == asked and sleeps == [1.0, 2.0]
    v.down_for_s = 0.0  # later: the server is asked again
    assert v.classify("brighter sky").kind == "strong"


def test_the_time_budget_counts_slow_answers_too(chat_server, sleeps):
    import time

    v = get_vlm("openai:m", base_url=chat_server.base_url, api_key="k", sleep=sleeps.append, timeout=5,
                max_total_s=1.0, max_retries=5)
    chat_server.script = [{"delay": 3.0, "text": json.dumps(INTENT)}] * 6
    t0 = time.monotonic()
    with pytest.raises(VLMError, match="(?i)timeout|budget"):
        v.classify("brighter sky")
    assert time.monotonic() - t0 < 2.5  # the request's timeout was cut to the budget
