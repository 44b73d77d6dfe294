"""A server that answers something other than JSON is said in words (issue 15 §2 wording)."""

from __future__ import annotations

import http.server
import threading

import pytest

from pertouch.graph.vlm.base import VLMError
from pertouch.graph.vlm.registry import get_vlm


@pytest.fixture()
def server():
    replies = {}

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_POST(self):  # noqa: N802 - http.server's name
            self.rfile.read(int(self.headers.get("content-length", 0)))
            body, ctype = replies["body"], replies["type"]
            self.send_response(200)
            self.send_header("content-type", ctype)
            self.send_header("content-length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *a):
            pass

    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    yield srv, replies
    srv.shutdown()


@pytest.mark.parametrize("body, ctype, words", [
    (b"<html>502 Bad Gateway</html>", "application/json", "is not JSON, so it is not an OpenAI-compatible answer"),
    (b"<html>502 Bad Gateway</html>", "text/html", "is not an OpenAI chat completion"),
    (b"", "application/json", "reply was empty"),
])
def test_reply_that_is_not_json_is_said_in_words(server, body, ctype, words):
    srv, replies = server
    replies.update(body=body, type=ctype)
    vlm = get_vlm("openai:m", base_url=f"http://127.0.0.1:{srv.server_port}/v1", api_key="sk-test-0123456789")
    with pytest.raises(VLMError) as err:
        vlm.classify("brighter sky")
    msg = str(err.value)
    assert words in msg and "Expecting value" not in msg and "/v1" in msg
