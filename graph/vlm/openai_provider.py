"""``openai:MODEL`` — any OpenAI-compatible chat-completions endpoint.

OpenAI, vLLM, Ollama, LM Studio, llama.cpp's server… through LangChain's OpenAI chat
model (``langchain-openai``; its base class, which sends ``max_tokens`` as local servers
expect, not OpenAI's newer ``max_completion_tokens``) over the ``openai`` client, with
LangChain's message types. LangChain's own retries are off: the policy below is ours.
Images go as data URLs (JPEG, longest side ≤ 768 px). Answers are asked
for with ``response_format`` ``json_schema`` (the role's pydantic schema); a server
that rejects that (HTTP 400/422) is asked again, and from then on, for JSON in the
text — the schema is in the system prompt either way.

Transport failures — 429, 5xx, timeouts, refused connections — are retried with
exponential backoff, honouring ``Retry-After``; each wait is capped at
:attr:`OpenAIVLM.max_wait_s`, and one call — requests and waits together, wall
clock — at :attr:`OpenAIVLM.max_total_s` (default 120 s; each request's timeout is
cut to what is left of it). A server that stayed unreachable or failing through a
call is marked down for :attr:`OpenAIVLM.down_for_s` (default 60 s): the provider's
next calls — the other roles of the same turn — fail at once, saying so, instead of
each waiting out its own retries.
``sleep`` is injectable for tests. Other errors (401, 404…) fail at once. Failures
raise :class:`VLMError`; the API key never appears in messages or logs.
"""

from __future__ import annotations

import base64
import email.utils
import io
import logging
import os
import re
import time
from typing import Any, Callable

from pydantic import BaseModel

from pertouch.graph.vlm.base import VLMError
from pertouch.graph.vlm.calls import Reply, usage_tokens
from pertouch.graph.vlm.chat_base import ChatVLM

log = logging.getLogger(__name__)

_KEYLIKE = re.compile(r"\b(sk|pk|rk|hf|gsk|xai)[-_][A-Za-z0-9_\-]{12,}\b")


def env_api_key() -> str | None:
    return os.environ.get("PERTOUCH_API_KEY") or os.environ.get("OPENAI_API_KEY") or None


def env_base_url() -> str | None:
    return os.environ.get("PERTOUCH_OPENAI_BASE_URL") or os.environ.get("OPENAI_BASE_URL") or None


def image_data_url(img: Any, quality: int = 85) -> str:
    """A PIL image as a ``data:image/jpeg;base64,…`` URL."""
    buf = io.BytesIO()
    img.convert("RGB").save(buf, format="JPEG", quality=quality)
    return "data:image/jpeg;base64," + base64.b64encode(buf.getvalue()).decode("ascii")


def retry_after_seconds(headers: Any) -> float | None:
    """Seconds from a ``Retry-After`` (or ``retry-after-ms``) header, or None."""
    if headers is None:
        return None
    ms = headers.get("retry-after-ms")
    if ms:
        try:
            return max(0.0, float(ms) / 1000.0)
        except ValueError:
            pass
    value = headers.get("retry-after")
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        when = email.utils.parsedate_to_datetime(value)
        return max(0.0, when.timestamp() - time.time()) if when else None


class OpenAIVLM(ChatVLM):
    """A chat-completions model as a VLM (see the module docstring)."""

    def __init__(self, model: str, *, base_url: str | None = None, api_key: str | None = None,
                 timeout: float | str = 60.0, max_retries: int | str = 4, max_wait_s: float | str = 30.0,
                 max_total_s: float | str = 120.0, backoff_s: float | str = 1.0, temperature: float | str = 0.0,
                 structured: bool | str = True, sleep: Callable[[float], None] | None = None,
                 max_tokens: int | str = 1500, down_for_s: float | str = 60.0) -> None:
        self.model = model
        self.name = f"openai:{model}"
        self.base_url = base_url or env_base_url()
        self._api_key = api_key or env_api_key()
        self.timeout, self.max_retries = float(timeout), int(max_retries)
        self.max_wait_s, self.max_total_s, self.backoff_s = float(max_wait_s), float(max_total_s), float(backoff_s)
        self.temperature, self.max_tokens = float(temperature), int(max_tokens)
        self.structured = str(structured).lower() not in ("0", "false", "no")
        self.sleep = sleep or time.sleep
        self.down_for_s = float(down_for_s)
        #: (monotonic time, what failed) of the last call that found the server down.
        self._down: tuple[float, str] | None = None
        self._client = None
        if not self._api_key and not self.base_url:
            from pertouch.core.errors import ModelError

            raise ModelError(f"{self.name}: no API key", hint="set PERTOUCH_API_KEY or OPENAI_API_KEY, or give "
                             "base_url=… for a local server that needs none")

    # --- secrets ------------------------------------------------------------------
    def redact(self, text: str) -> str:
        text = str(text)
        if self._api_key:
            text = text.replace(self._api_key, "***")
        return _KEYLIKE.sub("***", text)

    def __getstate__(self) -> dict[str, Any]:  # never pickle the key or the client
        state = dict(self.__dict__)
        state["_api_key"], state["_client"], state["sleep"] = None, None, None
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self.sleep = time.sleep
        self._api_key = env_api_key()

    @property
    def client(self) -> Any:
        """The LangChain chat model for this endpoint (made on first use, never pickled)."""
        if self._client is None:
            from langchain_openai.chat_models.base import BaseChatOpenAI

            self._client = BaseChatOpenAI(model=self.model, api_key=self._api_key or "not-needed",
                                          base_url=self.base_url, timeout=self.timeout, max_retries=0,
                                          temperature=self.temperature, max_tokens=self.max_tokens)
        return self._client

    # --- one turn -----------------------------------------------------------------
    @staticmethod
    def to_langchain(messages: list[dict[str, Any]]) -> list[Any]:
        """Our ``{"role", "text", "images"}`` messages as LangChain messages (images as data URLs)."""
        from langchain_core.messages import AIMessage, HumanMessage, SystemMessage

        kinds = {"system": SystemMessage, "assistant": AIMessage}
        out = []
        for m in messages:
            if m["images"]:
                content: Any = [{"type": "text", "text": m["text"]}] + [
                    {"type": "image_url", "image_url": {"url": image_data_url(img)}} for img in m["images"]]
            else:
                content = m["text"]
            out.append(kinds.get(m["role"], HumanMessage)(content=content))
        return out

    def complete(self, messages: list[dict[str, Any]], schema: type[BaseModel], role: str) -> str:
        import openai

        payload = self.to_langchain(messages)
        if self._down is not None:
            since = time.monotonic() - self._down[0]
            if since < self.down_for_s:
                raise VLMError(f"{self._down[1]} — the server was found down {since:.0f} s ago in this run; not asked "
                               f"again", role=role, provider=self.name,
                               hint=f"is the server at {self.base_url or 'api.openai.com'} up and serving "
                                    f"{self.model!r}?")
            self._down = None
        start, attempt = time.monotonic(), 0
        while True:
            left = self.max_total_s - (time.monotonic() - start)
            kwargs: dict[str, Any] = {"timeout": max(0.05, min(self.timeout, left))}
            if self.structured:
                kwargs["response_format"] = {"type": "json_schema", "json_schema": {
                    "name": f"pertouch_{role}", "schema": schema.model_json_schema(), "strict": False}}
            try:
                resp = self.client.invoke(payload, **kwargs)
                text = resp.content
                if isinstance(text, list):  # content blocks: their text, in order
                    text = "".join(b.get("text", "") if isinstance(b, dict) else str(b) for b in text)
                if not text:
                    raise VLMError("the server returned an empty answer", role=role, provider=self.name)
                return Reply(text, usage_tokens(resp.response_metadata.get("token_usage")))
            except (openai.BadRequestError, openai.UnprocessableEntityError) as exc:
                if self.structured:
                    log.info("%s rejected structured output (%s); asking for JSON in text", self.name,
                             getattr(exc, "status_code", "?"))
                    self.structured = False
                    continue
                raise self._error(role, exc) from None
            except (openai.RateLimitError, openai.InternalServerError, openai.APITimeoutError,
                    openai.APIConnectionError, openai.APIStatusError) as exc:
                status = getattr(exc, "status_code", None)
                retryable = status is None or status == 429 or status >= 500 or status == 408
                if not retryable:
                    raise self._error(role, exc, attempts=attempt + 1) from None
                hinted = retry_after_seconds(getattr(getattr(exc, "response", None), "headers", None))
                delay = min(self.max_wait_s, hinted if hinted is not None else self.backoff_s * 2 ** attempt)
                note = ("" if attempt >= self.max_retries else "retry time budget spent"
                        if time.monotonic() - start + delay > self.max_total_s else None)
                if note is not None:
                    err = self._error(role, exc, attempts=attempt + 1, note=note)
                    self._down = (time.monotonic(), f"{role} failed: " + err.message.split(": ", 1)[-1])
                    raise err from None
                log.warning("%s %s failed (%s); retrying in %.1fs", self.name, role, status or type(exc).__name__, delay)
                self.sleep(delay)
                attempt += 1

    def _error(self, role: str, exc: Exception, attempts: int = 1, note: str = "") -> VLMError:
        status = getattr(exc, "status_code", None)
        what = f"HTTP {status}" if status else type(exc).__name__.replace("API", "").replace("Error", " error").strip()
        detail = self.redact(str(getattr(exc, "message", "") or exc))[:200]
        tries = f" after {attempts} attempts" if attempts > 1 else ""
        extra = f" ({note})" if note else ""
        hint = ("check the API key (PERTOUCH_API_KEY / OPENAI_API_KEY)" if status in (401, 403)
                else f"is the server at {self.base_url or 'api.openai.com'} up and serving {self.model!r}?")
        return VLMError(f"{what}{tries}{extra}: {detail}", role=role, provider=self.name, hint=hint)
