"""A scripted OpenAI-compatible chat server that plays the four VLM roles with keyword rules.

Not a model: a stand-in with predictable, deliberately naive answers (brighter/darker,
warmer/cooler/bluer on the whole photo, everything else out of scope; the critic is
always satisfied), so a side-by-side report shows a second column that differs from
the builtin brain. It answers POST /v1/chat/completions, tells the role by the
``response_format`` name the ``openai:`` provider sends (``pertouch_<role>``) and
reports token usage (words) like a real server.

    python tests/evals/scripted_vlm.py --port 8765 [--delay 0.3]
    # then --vlm "openai:scripted?base_url=http://127.0.0.1:8765/v1"
"""

from __future__ import annotations

import argparse
import json
import re
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

RULES = ((r"\b(brighten|brighter|lighter)\b", "brightness", "up"), (r"\b(darken|darker)\b", "brightness", "down"),
         (r"\b(warm|warmer|warmth)\b", "temperature", "up"), (r"\b(cool|cooler|bluer|colder)\b", "temperature", "down"),
         (r"\b(saturat\w*|vivid|pop)\b", "colorfulness", "up"))


def answer(role: str, user: str) -> dict[str, Any]:
    if role == "describe":
        return {"tags": ["photo"], "description": "a photo", "regions": []}
    if role == "classify":
        said = re.search(r'Instruction: (".*")', user)
        text = json.loads(said.group(1)).lower() if said else user.lower()
        targets = [{"region": "global", "attribute": a, "direction": d, "shift": 0.25 if d == "up" else -0.25}
                   for rx, a, d in RULES if re.search(rx, text)]
        if not targets:
            return {"kind": "out-of-scope", "explanation": "I only brighten, darken, warm, cool or saturate."}
        return {"kind": "strong", "targets": targets, "explanation": "global change"}
    if role == "plan":
        intent = json.loads(re.search(r"Intent: (\{.*\})", user).group(1))
        return {"edits": [{"region": "global", "attribute": t["attribute"], "by": t.get("shift") or 0.2}
                          for t in intent.get("targets", [])], "notes": "the whole photo"}
    return {"satisfied": True, "explanation": "looks done"}


class ScriptedVLMServer:
    """The server on 127.0.0.1 (``port`` 0: any free port); ``requests`` counts what it answered."""

    def __init__(self, port: int = 0, delay: float = 0.0) -> None:
        owner = self
        self.requests, self.delay = 0, delay

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def do_POST(self) -> None:  # noqa: N802
                body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))) or b"{}")
                owner.requests += 1
                if owner.delay:  # a model's think time, so concurrency can be measured
                    time.sleep(owner.delay)
                role = ((body.get("response_format") or {}).get("json_schema") or {}).get("name", "")[len("pertouch_"):]
                user = body["messages"][-1]["content"]
                if isinstance(user, list):
                    user = " ".join(p.get("text", "") for p in user if p.get("type") == "text")
                text = json.dumps(answer(role or "classify", user))
                prompt_words = sum(len(str(m.get("content", "")).split()) for m in body["messages"])
                data = json.dumps({"id": "scripted", "object": "chat.completion", "created": 0, "model": body.get("model"),
                                   "choices": [{"index": 0, "message": {"role": "assistant", "content": text},
                                                "finish_reason": "stop"}],
                                   "usage": {"prompt_tokens": prompt_words, "completion_tokens": len(text.split()),
                                             "total_tokens": prompt_words + len(text.split())}}).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    @property
    def base_url(self) -> str:
        host, port = self.httpd.server_address[:2]
        return f"http://{host}:{port}/v1"

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--port", type=int, default=8765)
    ap.add_argument("--delay", type=float, default=0.0, help="seconds each answer waits (a model's think time)")
    args = ap.parse_args()
    server = ScriptedVLMServer(args.port, args.delay)
    print(f"scripted VLM at {server.base_url} (Ctrl-C stops it)", flush=True)
    try:
        server.thread.join()
    except KeyboardInterrupt:
        server.close()
