"""Fixtures for VLM tests: a real OpenAI-compatible HTTP server on 127.0.0.1 with scripted answers."""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest


def completion(text: str) -> dict[str, Any]:
    return {"id": "chatcmpl-test", "object": "chat.completion", "created": 0, "model": "test-model",
            "choices": [{"index": 0, "message": {"role": "assistant", "content": text}, "finish_reason": "stop"}],
            "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2}}


class ChatServer:
    """Speaks POST /v1/chat/completions. ``script`` holds replies in order, each a dict:
    ``{"text": str}`` (200 with that content), ``{"status": int, "body": {...}, "headers": {...}}``,
    ``{"delay": seconds, ...}`` (sleep before answering), ``{"reject_schema": True, "text": ...}``
    (400 if the request has response_format, else the text). Requests are kept in ``requests``."""

    def __init__(self) -> None:
        self.script: list[dict[str, Any]] = []
        self.requests: list[dict[str, Any]] = []
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:  # keep test output clean
                pass

            def do_POST(self) -> None:  # noqa: N802
                body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))) or b"{}")
                server.requests.append({"path": self.path, "headers": {k.lower(): v for k, v in self.headers.items()}, "body": body})
                step = server.script.pop(0) if server.script else {"status": 500, "body": {"error": {"message": "script empty"}}}
                if step.get("delay"):
                    time.sleep(step["delay"])
                if step.get("reject_schema") and "response_format" in body:
                    step = {"status": 400, "body": {"error": {"message": "response_format json_schema is not supported",
                                                              "type": "invalid_request_error"}}}
                status = step.get("status", 200)
                payload = step.get("body") if "body" in step else completion(step.get("text", ""))
                data = json.dumps(payload).encode()
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(data)))
                    for k, v in (step.get("headers") or {}).items():
                        self.send_header(k, v)
                    self.end_headers()
                    self.wfile.write(data)
                except (BrokenPipeError, ConnectionResetError):  # the client gave up (timeout test)
                    pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    @property
    def base_url(self) -> str:
        host, port = self.httpd.server_address[:2]
        return f"http://{host}:{port}/v1"

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture()
def chat_server():
    server = ChatServer()
    yield server
    server.close()


@pytest.fixture()
def scene():
    from pertouch.graph.vlm.schemas import SceneInfo

    return SceneInfo.from_regions(
        [{"name": "sky", "label": "sky", "confidence": 0.9, "area": 0.4,
          "levels": {"brightness": 0.5, "temperature": -0.2, "colorfulness": 0.1, "contrast": -0.6}},
         {"name": "person", "label": "person", "confidence": 0.8, "area": 0.2,
          "levels": {"brightness": -0.7, "temperature": 0.1, "colorfulness": 0.0, "contrast": 0.0}},
         {"name": "vegetation", "label": "vegetation", "confidence": 0.7, "area": 0.3,
          "levels": {"brightness": -0.1, "temperature": 0.0, "colorfulness": -0.4, "contrast": 0.2}}],
        {"brightness": 0.0, "temperature": 0.0, "colorfulness": -0.1, "contrast": -0.3})
