"""What a client sends a run and gets back: the graph's public input and output schemas.

The internal :class:`~pertouch.graph.state.RetouchState` has some 35 keys; a client
(the CLI, LangGraph's API server and Studio, the web app) sees only these. LangGraph
filters a run's input to :class:`RetouchInput` and its output to
:class:`RetouchOutput`, and publishes both as JSON schemas
(``graph.get_input_jsonschema()``, the server's ``/assistants/{id}/schemas``).

A run on a thread (a conversation) sends ``image_path`` once; later turns send only
``instruction``: a new edit, or a session command ("a bit more", "less on the face",
"only the sky", "undo", "redo", "start over", "compare", "history", "save as
out.jpg", "looks good").
"""

from __future__ import annotations

from typing import Any, Literal

from typing_extensions import NotRequired, Required, TypedDict

ProblemKind = Literal["input", "settings", "model", "not-found", "busy", "internal"]


class Problem(TypedDict):
    """Why a turn could not be tried: ``kind``, a one-line ``message`` and ``hint`` (how to fix it).

    ``input``: the photo, a path or a field is wrong; ``settings``: the run's context
    (``max_rounds``…) is invalid; ``model``: a model could not be loaded or failed;
    ``not-found``: a session or region that does not exist; ``busy``: another turn of
    the same session is running; ``internal``: a bug (reported by type, never a traceback).
    """

    kind: ProblemKind
    message: str
    hint: str


class RetouchInput(TypedDict, total=False):
    """A run's input. ``instruction`` always; ``image_path`` on a conversation's first turn."""

    #: The photo (a path the server can read); optional on later turns of a thread.
    image_path: str
    #: What to do, in words, or a session command.
    instruction: Required[str]
    #: Whose taste to recall and remember (kept by the thread once given).
    user: str
    #: Remember this turn's result as accepted (like saying "looks good").
    accept: bool
    #: Also write the full-resolution result (+ ``.pertouch.json`` sidecar) to this file;
    #: a bare name goes to the run's output folder (``output_dir`` in the context).
    save_to: str
    #: ``save_to`` may replace an existing file.
    overwrite: bool
    #: Boxes/points the user drew: ``{"kind": "box"|"point", "name", "box"|"point"}`` dicts.
    pointers: list[dict[str, Any]]


class RoundResult(TypedDict, total=False):
    """The result a turn shows: its recipe, preview file and achieved levels."""

    round: int
    recipe: dict[str, Any]
    preview: str
    achieved: list[dict[str, Any]]
    critique: dict[str, Any]


class RetouchOutput(TypedDict, total=False):
    """A run's output."""

    #: What was understood, done, and why it stopped — in words.
    answer: Required[str]
    #: ``ok`` | ``partial`` (done, something missing) | ``nothing-done`` | ``failed`` (see ``problem``).
    status: Required[str]
    instruction: str
    #: strong / weak-optimize / weak-style / no-op / question / undo / follow-up / out-of-scope.
    instruction_class: str
    #: The session command this turn was (``kind``: instruction, more, only, undo, redo,
    #: reset, accept, save, compare, history).
    turn: dict[str, Any] | None
    intent: dict[str, Any]
    #: The regions found (name, label, confidence, area, levels).
    regions: list[dict[str, Any]]
    #: The result shown: recipe, preview (working resolution), achieved levels, verdict.
    result: RoundResult | None
    #: Every render of the rethinking loop.
    rounds: list[dict[str, Any]]
    stop_reason: str | None
    #: The full-resolution file written this turn: ``{"path", "sidecar"}``.
    saved: dict[str, Any] | None
    #: Why nothing could be tried (bad input, invalid settings, a model that failed).
    problem: NotRequired[Problem | None]
    #: Notes and failures the answer mentions (``kind``, ``message``).
    errors: list[dict[str, Any]]
    remembered: bool
    timings_ms: dict[str, float]


#: Input keys (LangGraph filters a run's input to these).
INPUT_KEYS = frozenset(RetouchInput.__annotations__)


def problem(kind: ProblemKind, message: str, hint: str = "") -> Problem:
    """A :class:`Problem` dict."""
    return {"kind": kind, "message": message.strip().replace("\n", " "), "hint": hint.strip().replace("\n", " ")}


def problem_from(exc: BaseException) -> Problem:
    """The :class:`Problem` an exception stands for: a bad photo or path → ``input``; a model
    that cannot be loaded (a missing folder, a bad spec) → ``settings``; a model that
    failed while answering → ``model``; anything else → ``internal`` (its type only)."""
    from pertouch.core.errors import InputError, ModelError, NotFoundError, PertouchError, RecipeError
    from pertouch.graph.vlm.base import VLMError

    if isinstance(exc, VLMError):
        return problem("model", f"the model failed: {exc.message}", exc.hint or "check that the model's server is "
                       "running, or use --vlm builtin")
    if isinstance(exc, ModelError):
        return problem("settings", exc.message, exc.hint or "")
    if isinstance(exc, NotFoundError):
        return problem("not-found", exc.message, exc.hint or "")
    if isinstance(exc, (InputError, RecipeError, PertouchError)):
        return problem("input", exc.message, exc.hint or "")
    if isinstance(exc, OSError):
        return problem("input", f"{exc.strerror or exc}" + (f": {exc.filename}" if exc.filename else ""))
    return problem("internal", f"an internal error ({type(exc).__name__}) stopped this turn",
                   "please report it with the photo and the instruction")
