"""The agent's state: references and recipes, never pixel arrays.

Everything here is JSON-serialisable so a session checkpoints cheaply (SQLite) and
resumes in another process: the photo is a path plus its content hash, regions are
summaries whose masks live in the runtime cache under ``mask_key``, recipes are
recipe JSON (:meth:`Recipe.to_json`), and intent/plan/critique are plain dicts of
the VLM schemas. Errors are structured entries (:class:`ErrorEntry`), never prose
hidden in a string.

Nodes return partial updates; every key is overwritten by the update (no
reducers), so a node that extends a list returns the whole new list.
"""

from __future__ import annotations

from typing import Any, Literal

# typing_extensions' TypedDict: pydantic (LangGraph's server, Studio) builds the schemas
# only from it on Python < 3.12
from typing_extensions import TypedDict

InstructionClass = Literal["strong", "weak-optimize", "weak-style", "out-of-scope", "no-op", "question", "undo",
                           "follow-up"]
Status = Literal["ok", "partial", "nothing-done", "failed"]


class ImageRef(TypedDict):
    """A photo on disk: ``path`` and the hash of its decoded pixels."""

    path: str
    hash: str
    width: int
    height: int


class RegionInfo(TypedDict, total=False):
    """A region's summary; its mask lives in the runtime cache under ``mask_key``."""

    name: str
    label: str
    confidence: float
    area: float
    levels: dict[str, float]
    mask_key: str


class ErrorEntry(TypedDict, total=False):
    """A failure that the answer must mention.

    ``kind``: ``vlm`` (model call failed), ``not-found`` (a named region is not in
    the photo), ``out-of-scope`` (not a retouching request), ``impossible`` (asks
    beyond the attribute ranges), ``memory`` (store unavailable), ``render``.
    ``fatal``: nothing could be done because of it.
    """

    node: str
    kind: str
    message: str
    fatal: bool


class RoundRecord(TypedDict, total=False):
    """One render of the rethinking loop."""

    round: int
    recipe: dict[str, Any]
    preview: str
    achieved: list[dict[str, Any]]
    clipping: dict[str, float]
    critique: dict[str, Any]
    score: float


class TurnRecord(TypedDict, total=False):
    """One instruction of a session and what came of it."""

    instruction: str
    kind: str
    recipe: dict[str, Any]
    #: The preview the user saw ("" when the turn rendered nothing).
    result: str
    #: The engine's report for that preview (what accepting it remembers).
    achieved: list[dict[str, Any]]
    answer: str
    status: str


class RetouchState(TypedDict, total=False):
    """The graph state (internal). What a client sends and gets back are
    :class:`pertouch.graph.schemas.RetouchInput` / :class:`~pertouch.graph.schemas.RetouchOutput`."""

    # inputs (see RetouchInput)
    image_path: str
    instruction: str
    user: str
    save_to: str | None
    overwrite: bool
    #: Boxes/points the user drew (:meth:`pertouch.tools.pointing.Pointer.to_json`
    #: dicts, each with ``photo``: the hash of the photo they belong to); perceive adds
    #: them as regions named by the user. Kept across turns (not a turn key).
    pointers: list[dict[str, Any]]
    #: The current result's recipe a new instruction builds on (set by converse).
    base_recipe: dict[str, Any] | None
    accept: bool
    #: The session (= thread id on a checkpointed thread; previews go to its folder).
    session: str
    # perception
    image: ImageRef
    regions: list[RegionInfo]
    global_levels: dict[str, float]
    scene: dict[str, Any]
    # understanding
    instruction_class: InstructionClass
    intent: dict[str, Any]
    preferences: dict[str, Any]
    # the loop
    plan: dict[str, Any]
    recipe: dict[str, Any]
    round: int
    rounds: list[RoundRecord]
    best_round: int
    critique: dict[str, Any]
    stop_reason: str
    before: str
    # outcome
    result: dict[str, Any]
    answer: str
    status: Status
    errors: list[ErrorEntry]
    remembered: bool
    timings_ms: dict[str, float]
    #: What went wrong before anything could be tried (bad photo, bad settings): kind, message, hint.
    problem: dict[str, Any] | None
    #: The session command this turn was (``{"kind": "undo", …}``; ``instruction`` for a new edit).
    turn: dict[str, Any] | None
    #: The full-resolution file written this turn (``{"path", "sidecar"}``).
    saved: dict[str, Any] | None
    # session
    history: list[TurnRecord]
    #: Recipes of the turns that changed the photo, oldest first (top = current).
    stack: list[dict[str, Any]]
    #: Recipes undone, most recent last ("redo" puts the last one back).
    redo: list[dict[str, Any]]


def error(node: str, kind: str, message: str, *, fatal: bool = False) -> ErrorEntry:
    """Build one structured error entry."""
    return {"node": node, "kind": kind, "message": message, "fatal": fatal}


def add_error(state: RetouchState, entry: ErrorEntry) -> list[ErrorEntry]:
    """The state's error list with ``entry`` appended (for a partial update)."""
    return [*state.get("errors", []), entry]


def add_timing(state: RetouchState, node: str, ms: float) -> dict[str, float]:
    """The state's timings with ``ms`` added to ``node`` (rounds accumulate)."""
    out = dict(state.get("timings_ms", {}))
    out[node] = round(out.get(node, 0.0) + ms, 1)
    return out


#: Keys reset at the start of every turn (perceive writes them fresh).
TURN_KEYS = (
    "instruction_class", "intent", "preferences", "plan", "recipe", "round", "rounds",
    "best_round", "critique", "stop_reason", "result", "answer", "status", "errors",
    "remembered", "timings_ms", "problem", "turn", "saved",
)
#: Inputs that hold for one turn only: cleared when the turn ends, so a checkpointed
#: thread never carries them into the next turn.
ONE_TURN_INPUTS = {"accept": False, "save_to": None, "overwrite": False, "base_recipe": None}
