"""The HTTP side of the web app: Starlette routes over :class:`~pertouch.web.service.WebService`.

Routes (JSON unless said otherwise; every error is ``{"error", "hint"}`` with a 4xx
status — a bug is a 500 naming only the exception's type, never a traceback):

====================================  ==========================================
``GET /``                             the page (sets the browser's token cookie)
``GET /api/config``                   demo photos, attributes + slider ranges, model choices, limits
``POST /api/open/demo``               ``{"name", "user", "settings"}`` → a new session
``POST /api/open/upload``             raw photo bytes (query ``user``) → a new session
``POST /api/open/session``            ``{"session", "settings"}`` → resume a session (yours or a CLI one)
``POST /api/settings``                ``{"vlm", "segmenter", "engine"}`` → other models for the open photo
``GET /api/state``                    the open session: regions, recipe rows, messages
``POST /api/turn``                    ``{"text"}`` → the graph's answer (chat line or command)
``POST /api/turn/stream``             the same as Server-Sent Events: a ``step`` event per graph
                                      step as it finishes, then ``done`` (the answer) or ``error``
``POST /api/point``                   ``{"name", "box"|"point"}`` → a named region
``POST /api/sliders/preview``         ``{"rows"}`` → JPEG preview (header ``X-Render-Ms``)
``POST /api/sliders/apply``           ``{"rows"}`` → the sliders' recipe becomes the result
``GET /api/image/{kind}``             before / after / overlay / turn (JPEG, PNG)
``POST /api/download``                zip: full-resolution result + recipe sidecar + masks
====================================  ==========================================
"""

from __future__ import annotations

import asyncio
import json
import time
from pathlib import Path
from typing import Any, Awaitable, Callable, Mapping, Sequence

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, Response, StreamingResponse
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from pertouch.core.errors import NotFoundError, PertouchError
from pertouch.graph.context import RunContext
from pertouch.web import recipes, uploads
from pertouch.web.service import WebService
from pertouch.web.workspace import Workspace, new_token, valid_token

STATIC = Path(__file__).parent / "static"
COOKIE = "pertouch_token"
#: Largest JSON body accepted (bytes).
MAX_JSON = 64 * 1024


def _error_body(exc: BaseException) -> tuple[dict[str, str], int]:
    if isinstance(exc, NotFoundError):
        return {"error": exc.message, "hint": exc.hint or ""}, 404
    if isinstance(exc, PertouchError):
        code = 413 if "MB" in exc.message and "more than" in exc.message else 400
        return {"error": exc.message, "hint": exc.hint or ""}, code
    return {"error": f"an internal error ({type(exc).__name__}) stopped this request",
            "hint": "please report it with the photo and what you did"}, 500


def _error(exc: BaseException) -> JSONResponse:
    body, code = _error_body(exc)
    return JSONResponse(body, code)


def _sse(event: str, data: Any) -> str:
    return f"event: {event}\ndata: {json.dumps(data)}\n\n"


def create_app(home: Path | None = None, ctx: RunContext | None = None,
               offer: Mapping[str, Sequence[str]] | None = None) -> Starlette:
    """The web app over the workspace ``home`` (default ``app_home()/web``). ``ctx``: the default
    models; ``offer``: more a browser may pick (``{"vlm": [...], "segmenter": [...], "engine": [...]}``)."""
    if home is None:
        from pertouch.core.home import app_home

        home = app_home() / "web"
    service = WebService(Workspace(home), ctx, offer)
    running: set[asyncio.Future] = set()  # turns in progress (kept until they end)

    def token_of(request: Request) -> str:
        tok = request.cookies.get(COOKIE)
        if not valid_token(tok):
            raise NotFoundError("this browser has no session token", hint="reload the page")
        return tok  # type: ignore[return-value]

    async def body_json(request: Request) -> dict[str, Any]:
        raw = await request.body()
        if len(raw) > MAX_JSON:
            raise PertouchError("the request is too large")
        try:
            data = json.loads(raw or b"{}")
        except ValueError:
            raise PertouchError("the request is not valid JSON") from None
        if not isinstance(data, dict):
            raise PertouchError("the request must be a JSON object")
        return data

    def api(fn: Callable[[Request], Awaitable[Response]]) -> Callable[[Request], Awaitable[Response]]:
        async def wrapped(request: Request) -> Response:
            try:
                return await fn(request)
            except Exception as exc:  # every failure is a message, never a broken page
                return _error(exc)
        return wrapped

    async def index(request: Request) -> Response:
        resp = FileResponse(STATIC / "index.html", headers={"Cache-Control": "no-store"})
        if not valid_token(request.cookies.get(COOKIE)):
            resp.set_cookie(COOKIE, new_token(), httponly=True, samesite="strict")
        return resp

    @api
    async def config(request: Request) -> Response:
        return JSONResponse({"demos": list(uploads.DEMO_PHOTOS), "attributes": recipes.attribute_table(),
                             "choices": service.choices(), "max_upload_mb": uploads.MAX_UPLOAD_BYTES // 2**20,
                             "formats": ["JPEG", "PNG", "TIFF", "WebP"]})

    @api
    async def open_demo(request: Request) -> Response:
        tok, data = token_of(request), await body_json(request)
        path = await run_in_threadpool(uploads.demo_photo, service.ws, data.get("name"))
        return JSONResponse(await run_in_threadpool(service.open_photo, tok, path, data.get("user"),
                                                    data.get("settings")))

    @api
    async def open_upload(request: Request) -> Response:
        tok = token_of(request)
        settings = {k: request.query_params.get(k) for k in ("vlm", "segmenter", "engine")}
        service.check_open(request.query_params.get("user"), settings)  # before anything is stored
        declared = int(request.headers.get("content-length") or 0)
        if declared > uploads.MAX_UPLOAD_BYTES:
            raise PertouchError(f"the file is {declared / 2**20:.1f} MB, more than the "
                                f"{uploads.MAX_UPLOAD_BYTES // 2**20} MB the web app accepts")
        data = bytearray()
        async for chunk in request.stream():
            data += chunk
            if len(data) > uploads.MAX_UPLOAD_BYTES:
                raise PertouchError(f"the file is more than {uploads.MAX_UPLOAD_BYTES // 2**20} MB "
                                    "the web app accepts", hint="resize it or use the CLI")
        path = await run_in_threadpool(uploads.store_upload, service.ws, bytes(data))
        return JSONResponse(await run_in_threadpool(service.open_photo, tok, path, request.query_params.get("user"),
                                                    settings))

    @api
    async def open_session(request: Request) -> Response:
        tok, data = token_of(request), await body_json(request)
        return JSONResponse(await run_in_threadpool(service.resume, tok, data.get("session"), data.get("settings")))

    @api
    async def change_settings(request: Request) -> Response:
        tok, data = token_of(request), await body_json(request)
        return JSONResponse(await run_in_threadpool(service.change_settings, tok, data))

    @api
    async def state(request: Request) -> Response:
        return JSONResponse(await run_in_threadpool(service.view_state, token_of(request)))

    @api
    async def turn(request: Request) -> Response:
        tok, data = token_of(request), await body_json(request)
        return JSONResponse(await run_in_threadpool(service.turn, tok, data.get("text")))

    @api
    async def turn_stream(request: Request) -> Response:
        tok, data = token_of(request), await body_json(request)
        text = data.get("text")
        service.check_turn(tok, text)  # a bad line is a plain 4xx answer, before any event
        loop, queue = asyncio.get_running_loop(), asyncio.Queue()

        def push(event: str, payload: Any) -> None:
            loop.call_soon_threadsafe(queue.put_nowait, (event, payload))

        def work() -> None:
            try:
                push("done", service.turn(tok, text, on_step=lambda step: push("step", step)))
            except Exception as exc:  # an error is the stream's last event, never a broken page
                push("error", _error_body(exc)[0])

        # the turn runs to its end even when the browser goes away (the session stays consistent)
        task = asyncio.ensure_future(run_in_threadpool(work))
        running.add(task)
        task.add_done_callback(running.discard)

        async def events() -> Any:
            yield ": turn started\n\n"
            while True:
                event, payload = await queue.get()
                yield _sse(event, payload)
                if event != "step":
                    break
            await task

        return StreamingResponse(events(), media_type="text/event-stream",
                                 headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"})

    @api
    async def point(request: Request) -> Response:
        tok, data = token_of(request), await body_json(request)
        return JSONResponse(await run_in_threadpool(service.point, tok, data.get("name"), data.get("box"),
                                                    data.get("point")))

    @api
    async def slider_preview(request: Request) -> Response:
        tok, data = token_of(request), await body_json(request)
        t0 = time.perf_counter()
        jpg = await run_in_threadpool(service.slider_preview, tok, data.get("rows"))
        ms = (time.perf_counter() - t0) * 1000
        return Response(jpg, media_type="image/jpeg", headers={"X-Render-Ms": f"{ms:.1f}",
                                                               "Cache-Control": "no-store"})

    @api
    async def slider_apply(request: Request) -> Response:
        tok, data = token_of(request), await body_json(request)
        return JSONResponse(await run_in_threadpool(service.apply_sliders, tok, data.get("rows")))

    @api
    async def image(request: Request) -> Response:
        data, media = await run_in_threadpool(service.image, token_of(request), request.path_params["kind"])
        return Response(data, media_type=media, headers={"Cache-Control": "no-store"})

    @api
    async def download(request: Request) -> Response:
        data, name = await run_in_threadpool(service.download, token_of(request))
        return Response(data, media_type="application/zip",
                        headers={"Content-Disposition": f'attachment; filename="{name}"'})

    routes = [
        Route("/", index),
        Route("/api/config", config),
        Route("/api/open/demo", open_demo, methods=["POST"]),
        Route("/api/open/upload", open_upload, methods=["POST"]),
        Route("/api/open/session", open_session, methods=["POST"]),
        Route("/api/settings", change_settings, methods=["POST"]),
        Route("/api/state", state),
        Route("/api/turn", turn, methods=["POST"]),
        Route("/api/turn/stream", turn_stream, methods=["POST"]),
        Route("/api/point", point, methods=["POST"]),
        Route("/api/sliders/preview", slider_preview, methods=["POST"]),
        Route("/api/sliders/apply", slider_apply, methods=["POST"]),
        Route("/api/image/{kind}", image),
        Route("/api/download", download, methods=["POST"]),
        Mount("/static", StaticFiles(directory=STATIC), name="static"),
    ]
    app = Starlette(routes=routes)
    app.state.service = service
    return app
