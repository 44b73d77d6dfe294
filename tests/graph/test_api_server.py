"""The graph behind LangGraph's API server (``langgraph dev``, in-memory runtime), driven by
the ``langgraph-sdk`` client as any remote client would: schemas, a one-shot run, a
conversation with undo and accept, bad input as an answer, concurrent runs on two threads."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.slow


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    exe = shutil.which("langgraph", path=str(Path(sys.executable).parent)) or shutil.which("langgraph")
    if exe is None:
        pytest.fail("langgraph-cli is not installed: pip install -e '.[dev]'")
    home = tmp_path_factory.mktemp("api-home")
    port = _free_port()
    env = {**os.environ, "PERTOUCH_HOME": str(home), "PERTOUCH_OUTPUT_DIR": str(home / "outputs"),
           "PERTOUCH_WARMUP": "0", "LANGGRAPH_CLI_NO_ANALYTICS": "1"}
    log = open(home / "server.log", "w")
    proc = subprocess.Popen([exe, "dev", "--config", str(ROOT / "langgraph.json"), "--port", str(port), "--host", "127.0.0.1", "--no-browser", "--no-reload"],
                            cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    deadline = time.time() + 90
    while time.time() < deadline:
        try:
            with urllib.request.urlopen(url + "/ok", timeout=1) as r:
                if r.status == 200:
                    break
        except OSError:
            time.sleep(0.5)
        if proc.poll() is not None:
            pytest.fail("langgraph dev exited: " + (home / "server.log").read_text()[-2000:])
    else:
        os.killpg(proc.pid, signal.SIGTERM)
        pytest.fail("langgraph dev did not start in 90 s: " + (home / "server.log").read_text()[-2000:])
    yield url, home
    os.killpg(proc.pid, signal.SIGTERM)
    proc.wait(20)
    log.close()


@pytest.fixture(scope="module")
def client(server):
    from langgraph_sdk import get_sync_client

    return get_sync_client(url=server[0])


@pytest.fixture(scope="module")
def photo(tmp_path_factory):
    from PIL import Image
    from skimage import data

    path = tmp_path_factory.mktemp("api-photo") / "rocket.png"
    im = Image.fromarray(data.rocket())
    im.thumbnail((256, 256))
    im.save(path)
    return str(path)


NO_MEMORY = {"use_memory": False}


def test_the_server_publishes_the_public_schemas(client):
    (assistant,) = client.assistants.search(graph_id="pertouch")
    schemas = client.assistants.get_schemas(assistant["assistant_id"])
    assert schemas["input_schema"]["required"] == ["instruction"]
    assert {"image_path", "save_to", "user"} <= set(schemas["input_schema"]["properties"])
    assert {"answer", "status", "result", "problem"} <= set(schemas["output_schema"]["properties"])
    assert "stack" not in schemas["output_schema"]["properties"]


def test_one_shot_run_with_a_full_resolution_result(client, photo, server):
    out = client.runs.wait(None, "pertouch", input={"image_path": photo, "instruction": "make the sky brighter",
                                                     "save_to": "sky.png"}, context=NO_MEMORY)
    assert out["status"] == "ok" and out["result"]["recipe"]["regions"], out["answer"]
    saved = Path(out["saved"]["path"])
    assert saved == server[1] / "outputs" / "sky.png" and saved.is_file() and Path(out["saved"]["sidecar"]).is_file()
    assert set(out) <= {"answer", "status", "instruction", "instruction_class", "turn", "intent", "regions", "result",
                        "rounds", "stop_reason", "saved", "problem", "errors", "remembered", "timings_ms"}


def test_a_conversation_with_undo_and_accept(client, photo):
    thread = client.threads.create()["thread_id"]

    def say(text, **extra):
        return client.runs.wait(thread, "pertouch", input={"instruction": text, **extra}, context=NO_MEMORY)

    first = say("make the sky brighter", image_path=photo, user="ana")
    more = say("a bit more")
    undo = say("undo")
    accepted = say("looks good")
    assert [o["turn"]["kind"] for o in (first, more, undo, accepted)] == ["instruction", "more", "undo", "accept"]
    assert undo["result"]["recipe"] == first["result"]["recipe"] != more["result"]["recipe"]
    assert accepted["result"]["recipe"] == first["result"]["recipe"] and accepted["rounds"] == []
    assert accepted["answer"].startswith("Accepted, but not remembered")  # memory is off in this test
    state = client.threads.get_state(thread)["values"]
    assert len(state["history"]) == 4 and len(state["stack"]) == 1 and state["user"] == "ana"


def test_bad_input_is_an_answer_not_an_internal_error(client, photo):
    out = client.runs.wait(None, "pertouch", input={"image_path": "/nope/missing.jpg", "instruction": "x"},
                           context=NO_MEMORY)
    assert out["status"] == "failed" and out["problem"]["kind"] == "input"
    assert "missing.jpg" in out["answer"] and "internal" not in out["answer"].lower()
    out = client.runs.wait(None, "pertouch", input={"image_path": photo, "instruction": "x"},
                           context={"max_rounds": 0})
    assert out["problem"]["kind"] == "settings" and "max_rounds" in out["problem"]["message"]
    out = client.runs.wait(None, "pertouch", input={"image_path": photo, "instruction": "brighter",
                                                     "save_to": "/etc/evil.jpg"}, context=NO_MEMORY)
    assert out["saved"] is None and "outside the output folder" in out["answer"]


def test_concurrent_runs_on_two_threads(client, photo):
    threads = [client.threads.create()["thread_id"] for _ in range(2)]
    runs = [client.runs.create(t, "pertouch", input={"image_path": photo, "instruction": text}, context=NO_MEMORY)
            for t, text in zip(threads, ("make the sky brighter", "make it warmer"))]
    outs = [client.runs.join(t, r["run_id"]) for t, r in zip(threads, runs)]
    assert all(o["status"] == "ok" for o in outs), [o["answer"] for o in outs]
    assert outs[0]["result"]["preview"] != outs[1]["result"]["preview"]
