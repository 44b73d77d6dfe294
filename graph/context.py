"""Run settings: one typed context, resolved in one loader.

A model string per role (``planner``, ``critic``, ``describer``, ``classifier``)
falls back to ``vlm`` (default ``builtin``). Every field can come from an explicit
argument, else an environment variable, else its default:

=====================  ===========================  ==============
field                  environment variable         default
=====================  ===========================  ==============
vlm                    PERTOUCH_VLM                 builtin
planner/critic/…       PERTOUCH_PLANNER_VLM, …      (vlm)
segmenter              PERTOUCH_SEGMENTER           builtin
engine                 PERTOUCH_ENGINE              parametric
max_rounds             PERTOUCH_MAX_ROUNDS          3
user                   PERTOUCH_USER                default
working_resolution     PERTOUCH_WORKING_RES         1024
memory                 PERTOUCH_MEMORY              (memory default)
output_dir             PERTOUCH_OUTPUT_DIR          app_home()/outputs
=====================  ===========================  ==============

``output_dir``: where a run's full-resolution files go when it names a bare file
("save as out.jpg", input ``save_to``). A graph built for remote clients (the API
server) writes only there; the CLI may write anywhere the user names.

A context that arrives from a client (LangGraph's API passes ``context`` straight
to :class:`RunContext`) is checked by :meth:`RunContext.problems` at the start of a
run, so ``max_rounds: 0`` is an answer saying what is wrong, not a silent run.

>>> ctx = load_context(vlm="fake:x.json", max_rounds=2)
>>> ctx.model_for("critic"), ctx.max_rounds
('fake:x.json', 2)
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field, fields
from typing import Any, Literal

from pertouch.core.errors import PertouchError

Role = Literal["planner", "critic", "describer", "classifier"]
ROLES: tuple[str, ...] = ("planner", "critic", "describer", "classifier")
MAX_ROUNDS_LIMIT = 10
#: Fields that are objects of this process, not settings: no environment variable, not in ``to_json``.
_OBJECTS = ("calls", "cache")


def _process_cache() -> Any:
    from pertouch.graph.runtime import process_cache

    return process_cache()


@dataclass(frozen=True)
class RunContext:
    """Settings of one agent run (not checkpointed; rebuilt per process)."""

    vlm: str = "builtin"
    planner: str | None = None
    critic: str | None = None
    describer: str | None = None
    classifier: str | None = None
    segmenter: str = "builtin"
    engine: str = "parametric"
    max_rounds: int = 3
    user: str = "default"
    working_resolution: int = 1024
    memory: str | None = None
    use_memory: bool = True
    output_dir: str | None = None
    #: A :class:`pertouch.graph.vlm.calls.CallRecorder` that keeps every model call of the
    #: run (evaluation); not a setting: no environment variable, not in :meth:`to_json`.
    calls: Any = field(default=None, compare=False, repr=False)
    #: The :class:`pertouch.graph.runtime.RuntimeCache` the run's nodes load photos, scenes,
    #: regions, models and memory through (default: the process's one); not a setting either.
    cache: Any = field(default_factory=_process_cache, compare=False, repr=False)

    def problems(self) -> list[str]:
        """What is wrong with these settings (empty when they are valid)."""
        out = []
        for name, lo, hi in (("max_rounds", 1, MAX_ROUNDS_LIMIT), ("working_resolution", 64, 8192)):
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, int) or not lo <= v <= hi:
                out.append(f"{name} must be a whole number between {lo} and {hi}, got {v!r}")
        for name in ("vlm", "segmenter", "engine", "user"):
            v = getattr(self, name)
            if not isinstance(v, str) or not v.strip() or len(v) > 4096:
                out.append(f"{name} must be a non-empty string, got {v!r}")
        for name in ROLES:
            v = getattr(self, name)
            if v is not None and (not isinstance(v, str) or not v.strip()):
                out.append(f"{name} must be a model string or left out, got {v!r}")
        if self.calls is not None and not callable(getattr(self.calls, "record", None)):
            out.append(f"calls must be a call recorder (with a record method), got {type(self.calls).__name__}")
        if not callable(getattr(self.cache, "clear", None)):
            out.append(f"cache must be a runtime cache, got {type(self.cache).__name__}")
        if not isinstance(self.use_memory, bool):
            out.append(f"use_memory must be true or false, got {self.use_memory!r}")
        return out

    def model_for(self, role: str) -> str:
        """The model string of ``role`` (falls back to :attr:`vlm`)."""
        if role not in ROLES:
            raise ValueError(f"unknown role {role!r}; roles are {', '.join(ROLES)}")
        return getattr(self, role) or self.vlm

    def to_json(self) -> dict[str, Any]:
        return {f.name: getattr(self, f.name) for f in fields(self) if f.name not in _OBJECTS}


_ENV = {
    "vlm": "PERTOUCH_VLM",
    "planner": "PERTOUCH_PLANNER_VLM",
    "critic": "PERTOUCH_CRITIC_VLM",
    "describer": "PERTOUCH_DESCRIBER_VLM",
    "classifier": "PERTOUCH_CLASSIFIER_VLM",
    "segmenter": "PERTOUCH_SEGMENTER",
    "engine": "PERTOUCH_ENGINE",
    "max_rounds": "PERTOUCH_MAX_ROUNDS",
    "user": "PERTOUCH_USER",
    "working_resolution": "PERTOUCH_WORKING_RES",
    "memory": "PERTOUCH_MEMORY",
    "output_dir": "PERTOUCH_OUTPUT_DIR",
}


def _as_int(name: str, value: Any, lo: int, hi: int) -> int:
    try:
        out = int(value)
    except (TypeError, ValueError):
        raise PertouchError(f"{name} must be a whole number, got {value!r}") from None
    if not lo <= out <= hi:
        raise PertouchError(f"{name} must be between {lo} and {hi}, got {out}")
    return out


def load_context(**overrides: Any) -> RunContext:
    """Resolve settings: explicit ``overrides`` (None = not given) > env vars > defaults."""
    known = {f.name for f in fields(RunContext)}
    unknown = set(overrides) - known
    if unknown:
        raise TypeError(f"unknown settings: {', '.join(sorted(unknown))}")
    values: dict[str, Any] = {}
    for name in known:
        value = overrides.get(name)
        if value is None and name in _ENV:
            value = os.environ.get(_ENV[name]) or None
        if value is not None:
            values[name] = value
    if "max_rounds" in values:
        values["max_rounds"] = _as_int("max rounds", values["max_rounds"], 1, MAX_ROUNDS_LIMIT)
    if "working_resolution" in values:
        values["working_resolution"] = _as_int("working resolution", values["working_resolution"], 64, 8192)
    if "user" in values:
        user = str(values["user"]).strip()
        if not user or len(user) > 100:
            raise PertouchError("user name must be 1–100 characters")
        values["user"] = user
    return RunContext(**values)
