"""The ``conversation`` suite: multi-turn scripts on a checkpointed thread, scored per turn.

A script is one JSON line (``evals/cases/conversation.jsonl``)::

    {"id": "refine-undo", "photo": "skimage:rocket", "turns": [
      {"say": "make the sky brighter", "expect": {"turn": "instruction", "status": "ok",
        "changes": [{"region": "sky", "attribute": "brightness", "direction": "up"}]}},
      {"say": "a bit more", "expect": {"turn": "more", "changes": [...]}},
      {"say": "undo", "expect": {"turn": "undo", "same_as": 1}},
      {"say": "looks good", "expect": {"turn": "accept"}}]}

Each turn is sent on one thread (``build_graph(InMemorySaver())``, a ``thread_id``), as a
client would. Per turn ``tN`` the scorers check, when asked: ``tN.turn`` (the session
command the graph took it for), ``tN.status``, ``tN.changes`` (measured levels of the
turn's result against the previous turn's — or the original's with ``"vs":
"original"`` — moved the right way, by at least ``min``), ``tN.same_as`` (the result's
result measures the same as turn M's, as after an undo; 0 = the original photo).
"""

from __future__ import annotations

import json
import time
import uuid
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from pertouch.core.errors import InputError
from pertouch.evals.cases import Change


class TurnExpect(BaseModel):
    model_config = ConfigDict(extra="forbid")

    turn: str | None = None
    status: str | None = None
    changes: list[Change] = Field(default_factory=list)
    vs: Literal["previous", "original"] = "previous"
    same_as: int | None = None


class Turn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    say: str
    expect: TurnExpect = Field(default_factory=TurnExpect)


class Script(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: str
    photo: str
    category: str | None = None
    long_side: int = 256
    turns: list[Turn]


def builtin_scripts_path() -> Path:
    return Path(__file__).with_name("cases") / "conversation.jsonl"


def load_scripts(path: Path | None = None) -> list[Script]:
    p = path or builtin_scripts_path()
    if not p.is_file():
        raise InputError(f"case file not found: {p}")
    out = []
    for n, line in enumerate(p.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        try:
            out.append(Script.model_validate(json.loads(line)))
        except (json.JSONDecodeError, ValidationError) as exc:
            raise InputError(f"{p}:{n}: not a conversation script ({str(exc).splitlines()[0]})") from None
    if not out:
        raise InputError(f"{p} holds no scripts")
    return out


class ConversationTask:
    name = "conversation"

    def __init__(self, cases_path: Path | None = None):
        self.cases_path = Path(cases_path).resolve() if cases_path else None
        self.scripts = load_scripts(self.cases_path)

    def samples(self) -> list[dict[str, Any]]:
        return [{"id": s.id, "category": s.category or "conversation", "input": s.model_dump()} for s in self.scripts]

    def solve(self, sample: dict[str, Any], cfg: dict[str, str], out: Path, epoch: int) -> dict[str, Any]:
        from langgraph.checkpoint.memory import InMemorySaver

        from pertouch.evals.cases import Case
        from pertouch.evals.solver import _to_uint8, label_levels, materialise
        from pertouch.graph import runtime as rt
        from pertouch.graph.builder import build_graph
        from pertouch.graph.context import load_context

        script = Script.model_validate(sample["input"])
        seg, eng = cfg.get("segmenter", "builtin"), cfg.get("engine", "parametric")
        inputs = out / "images" / "input"
        inputs.mkdir(parents=True, exist_ok=True)
        path = materialise(Case(id=script.id, photo=script.photo, instruction="-", long_side=script.long_side),
                           inputs, self.cases_path.parent if self.cases_path else None)
        from pertouch.graph.vlm.calls import CallRecorder

        recorder = CallRecorder()
        ctx = load_context(vlm=cfg.get("vlm", "builtin"), segmenter=seg, engine=eng, use_memory=False, calls=recorder)
        graph = build_graph(InMemorySaver())
        thread = {"configurable": {"thread_id": f"eval-{uuid.uuid4().hex[:10]}"}}
        ref = rt.open_photo(path)
        scene = rt.scene(ref, seg)
        original = label_levels(rt.photo(ref).pixels, scene)
        turns, timings, answers, last_image = [], {}, [], None
        t0 = time.perf_counter()
        for i, turn in enumerate(script.turns, 1):
            payload = {"instruction": turn.say, **({"image_path": str(path)} if i == 1 else {})}
            state = graph.invoke(payload, thread, context=ctx)
            prob = state.get("problem")
            vlm_err = next((e for e in state.get("errors") or [] if e.get("kind") == "vlm"), None)
            if prob and prob.get("kind") in ("model", "settings") or vlm_err:
                why = f"{prob['kind']}: {prob['message']}" if prob else f"vlm: {vlm_err['message']}"
                return {"error": f"turn {i}: {why}", "output": {"turns": turns}, "calls": recorder.entries()}
            recipe = (state.get("result") or {}).get("recipe")
            levels = original
            if recipe:
                rendered = rt.render(ref, recipe, segmenter=seg, engine=eng, long_side=None)
                levels = label_levels(rendered.image, scene)
                from pertouch.engine.io.read import save_image

                img = out / "images" / _slug(cfg.get("name") or "builtin") / f"{script.id}-e{epoch}-t{i}.png"
                img.parent.mkdir(parents=True, exist_ok=True)
                save_image(img, _to_uint8(rendered.image))
                last_image = str(img.relative_to(out))
            for k, v in (state.get("timings_ms") or {}).items():
                timings[f"t{i}.{k}"] = v
            answers.append(f"{i}. {turn.say} → {state.get('answer', '')}")
            turns.append({"turn": (state.get("turn") or {}).get("kind"), "status": state.get("status"),
                          "recipe": recipe, "levels": levels, "answer": state.get("answer", "")})
        return {"answer": "\n".join(answers), "recipe": turns[-1]["recipe"] if turns else None,
                "image": last_image, "before_image": str(path.relative_to(out)), "timings_ms": timings,
                "ms": round((time.perf_counter() - t0) * 1000.0, 1), "output": {"turns": turns, "original": original},
                "calls": recorder.entries()}

    def score(self, inp: dict[str, Any], output: dict[str, Any]) -> dict[str, dict[str, Any]]:
        script = Script.model_validate(inp)
        got = output.get("turns") or []
        original = output.get("original") or {}
        scores: dict[str, dict[str, Any]] = {}
        for i, turn in enumerate(script.turns, 1):
            t = got[i - 1] if i <= len(got) else None
            x = turn.expect
            if t is None:
                scores[f"t{i}.ran"] = {"value": 0.0, "explanation": "the turn did not run"}
                continue
            if x.turn:
                scores[f"t{i}.turn"] = _eq(x.turn, t["turn"])
            if x.status:
                scores[f"t{i}.status"] = _eq(x.status, t["status"])
            if x.changes:
                ref = original if x.vs == "original" or i == 1 else got[i - 2]["levels"]
                scores[f"t{i}.changes"] = _changes(x.changes, ref, t["levels"], x.vs if i > 1 else "original")
            if x.same_as is not None:
                want = original if x.same_as == 0 else got[x.same_as - 1]["levels"]
                ok = _same_levels(want, t["levels"])
                scores[f"t{i}.same_as"] = {"value": float(ok), "explanation": f"result {'is' if ok else 'is NOT'} "
                                           + ("the original photo" if x.same_as == 0 else f"turn {x.same_as}'s")}
        return scores


def _same_levels(a: dict, b: dict, tol: float = 1e-4) -> bool:
    """Every measured level of every region equal within ``tol`` (the same picture)."""
    if set(a) != set(b):
        return False
    return all(abs(a[r].get(k, 0.0) - b[r].get(k, 0.0)) <= tol for r in a for k in set(a[r]) | set(b[r]))


def _eq(want: str, got: Any) -> dict[str, Any]:
    return {"value": float(want == got), "explanation": f"expected {want}, got {got}"}


def _changes(wanted: list[Change], before: dict, after: dict, vs: str) -> dict[str, Any]:
    good, notes = 0, []
    for ch in wanted:
        b, a = before.get(ch.region, {}).get(ch.attribute), after.get(ch.region, {}).get(ch.attribute)
        if a is None or b is None:
            notes.append(f"{ch.region}.{ch.attribute}: region not in the photo")
            continue
        d = a - b
        ok = d >= ch.min if ch.direction == "up" else d <= -ch.min
        good += ok
        notes.append(f"{ch.region}.{ch.attribute} {d:+.3f} vs {vs} ({'ok' if ok else 'want ' + ch.direction})")
    return {"value": good / len(wanted), "explanation": "; ".join(notes)}


def _slug(text: str) -> str:
    import re

    return re.sub(r"[^A-Za-z0-9._-]+", "_", text).strip("_") or "config"
