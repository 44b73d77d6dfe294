"""The solver: run the agent graph on one case and measure what it did.

The photo is written to the work folder at ``case.long_side`` (small photos keep a
suite fast), the graph runs with the given VLM spec, the accepted recipe is rendered
at that size, and the levels of every region label present in the photo are
measured before and after — so scorers judge measured pixels, not the agent's
own account of them.
"""

from __future__ import annotations

import time
import traceback
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from pertouch.core.errors import InputError
from pertouch.evals.cases import Case

GLOBAL = "global"


@dataclass
class Run:
    """What happened on one case (JSON-serialisable through :meth:`to_json`)."""

    case_id: str
    instruction_class: str | None = None
    status: str | None = None
    answer: str = ""
    errors: list[dict[str, Any]] = field(default_factory=list)
    recipe: dict[str, Any] | None = None
    rounds: int = 0
    stop_reason: str | None = None
    before: dict[str, dict[str, float]] = field(default_factory=dict)
    after: dict[str, dict[str, float]] = field(default_factory=dict)
    ms: float = 0.0
    crashed: str | None = None
    artefacts: dict[str, Any] | None = None
    problem: dict[str, Any] | None = None
    timings_ms: dict[str, float] = field(default_factory=dict)
    image: str | None = None
    #: The region masks drawn on the photo (the scored and the edited regions) and their legend.
    mask_image: str | None = None
    mask_legend: list[dict[str, Any]] = field(default_factory=list)
    #: Every model call of the run (:mod:`pertouch.graph.vlm.calls` entries).
    calls: list[dict[str, Any]] = field(default_factory=list)

    @property
    def model_error(self) -> str | None:
        """Why this run cannot be scored: the model failed or could not be loaded (a
        ``model`` / ``settings`` problem, or a ``vlm`` error entry), or the harness crashed."""
        if self.problem and self.problem.get("kind") in ("model", "settings"):
            return f"{self.problem['kind']}: {self.problem.get('message', '')}"
        for e in self.errors:
            if e.get("kind") == "vlm":
                return f"vlm ({e.get('node')}): {e.get('message', '')}"
        if self.crashed:
            return f"crash: {self.crashed}"
        return None

    def to_json(self) -> dict[str, Any]:
        return dict(self.__dict__)


def photo_pixels(spec: str, base: Path | None = None) -> np.ndarray:
    """RGB uint8 pixels for a photo source (``skimage:NAME``, ``sklearn:FILE``,
    ``matplotlib:FILE``, ``wheel:DIST==VER:MEMBER``, see :mod:`pertouch.evals.photos`)
    or a path (relative to ``base``)."""
    kind, _, name = spec.partition(":")
    if kind in ("skimage", "sklearn", "matplotlib", "wheel") and name:
        from pertouch.evals.photos import load_photo

        return load_photo(spec)
    from pertouch.engine.io.read import load_image

    path = Path(spec) if base is None or Path(spec).is_absolute() else base / spec
    img = load_image(path).pixels
    if img.dtype != np.uint8:
        img = (img.astype(np.float32) / 257.0 + 0.5).astype(np.uint8)
    if img.ndim == 2:
        img = np.repeat(img[..., None], 3, axis=2)
    return np.ascontiguousarray(img[..., :3])


def materialise(case: Case, workdir: Path, base: Path | None = None) -> Path:
    """Write the case's photo, resized to ``long_side``, as a PNG in ``workdir``."""
    import cv2

    from pertouch.engine.io.read import save_image

    img = photo_pixels(case.photo, base)
    h, w = img.shape[:2]
    scale = case.long_side / max(h, w)
    if scale < 1:
        img = cv2.resize(img, (max(1, round(w * scale)), max(1, round(h * scale))), interpolation=cv2.INTER_AREA)
    path = workdir / f"{case.id}.png"
    if not path.exists():
        save_image(path, img)
    return path


def _to_uint8(img: np.ndarray) -> np.ndarray:
    if img.dtype == np.uint8:
        return img
    if img.dtype == np.uint16:
        return (img.astype(np.float32) / 257.0 + 0.5).astype(np.uint8)
    return (np.clip(img.astype(np.float32), 0.0, 1.0) * 255.0 + 0.5).astype(np.uint8)


def label_levels(pixels: np.ndarray, scene: Any, extra: Any = (),
                 given: dict[str, np.ndarray] | None = None) -> dict[str, dict[str, float]]:
    """Measured levels per region label (regions of one label merged) and ``global``.

    ``extra``: regions found on request (``find("face")``) that the scene lacks;
    people and faces are also measured one by one (``person_1``, ``face_2`` …).
    ``given``: masks the case gives (label → bool mask), measured instead of the agent's.
    """
    from pertouch.engine.measure.stats import measure_image_levels, measure_levels
    from pertouch.engine.schema.regions import Region

    merged = label_masks(scene, extra)
    for name, m in (given or {}).items():
        merged[name] = m.astype(np.float32)
    regions = {lab: Region(lab, m, label=lab) for lab, m in merged.items()}
    out = {k: dict(v) for k, v in measure_levels(pixels, regions).items()} if regions else {}
    out[GLOBAL] = dict(measure_image_levels(pixels))
    return out


def label_masks(scene: Any, extra: Any = ()) -> dict[str, np.ndarray]:
    """The agent's mask per region label (one label's regions merged), found regions and
    each person / face by name (see :func:`label_levels`)."""
    merged: dict[str, np.ndarray] = {}
    for r in scene.regions:
        m = scene.full_mask(r) if hasattr(scene, "full_mask") else r.mask
        merged[r.label] = np.maximum(merged[r.label], m) if r.label in merged else m
    for r in extra:
        merged.setdefault(r.label, r.mask)
    for label in ("person", "face"):  # each instance by name too: "the man on the left" and not the other
        for r in scene.instances(label) if hasattr(scene, "instances") else ():
            merged.setdefault(r.name, r.mask)
    return merged


def shown_masks(case: Case, scene: Any, found: Any, given: dict[str, np.ndarray],
                recipe: dict[str, Any] | None) -> dict[str, tuple[np.ndarray, str]]:
    """The masks the report draws for a case: the regions it scores (given by the case,
    else the agent's) and the regions the agent's recipe edited."""
    agent = label_masks(scene, found)
    names = [c.region for c in case.expect.changes] + list(case.expect.unchanged) + list(given)
    labels = {n: (r or {}).get("label") or n for n, r in ((recipe or {}).get("regions") or {}).items()}
    names += [n for n in labels if n != GLOBAL]
    out: dict[str, tuple[np.ndarray, str]] = {}
    for n in dict.fromkeys(names):
        if n == GLOBAL:
            continue
        if n in given:
            out[n] = (given[n], "case")
        elif n in agent or labels.get(n) in agent:
            out[n] = (np.asarray(agent.get(n, agent.get(labels.get(n)))) > 0.5, "agent")
    return out


def solve(case: Case, *, vlm: str = "builtin", workdir: Path, base: Path | None = None,
          segmenter: str = "builtin", engine: str = "parametric", save_to: Path | None = None) -> Run:
    """Run the agent on ``case``; a crash of the agent is recorded, never raised.
    ``save_to``: write the render (the accepted recipe at the case's size) there as a PNG."""
    from pertouch.graph import runtime as rt
    from pertouch.graph.builder import build_graph
    from pertouch.graph.context import load_context
    from pertouch.graph.vlm.calls import CallRecorder

    run = Run(case_id=case.id)
    recorder = CallRecorder()
    t0 = time.perf_counter()
    try:
        path = materialise(case, workdir, base)
        ctx = load_context(vlm=vlm, user=case.user, segmenter=segmenter, engine=engine,
                           use_memory=bool(case.user), calls=recorder)
        ref = rt.open_photo(path)
        state = build_graph(internal=True).invoke({"image_path": ref["path"], "instruction": case.instruction,
                                      "accept": False}, context=ctx)
        run.instruction_class = state.get("instruction_class")
        run.status = state.get("status")
        run.answer = state.get("answer") or ""
        run.errors = list(state.get("errors") or [])
        run.rounds = len(state.get("rounds") or [])
        run.stop_reason = state.get("stop_reason")
        run.problem = state.get("problem")
        run.timings_ms = dict(state.get("timings_ms") or {})
        result = state.get("result")
        scene = rt.scene(ref, segmenter)
        before = rt.photo(ref).pixels
        from pertouch.evals.case_regions import given_masks

        given = given_masks(case.regions, case.photo, before.shape[:2], base)
        found = []
        if result:
            run.recipe = result.get("recipe")
            found = list(rt.regions_by_name(ref, segmenter, list(run.recipe.get("regions") or {})).values())
        run.before = label_levels(before, scene, found, given)
        if save_to is not None:
            from pertouch.engine.io.read import save_image
            from pertouch.evals.overlay import draw_masks

            shown = shown_masks(case, scene, found, given, run.recipe)
            if shown:
                pic, run.mask_legend = draw_masks(_to_uint8(before), shown)
                mask_path = save_to.with_name(save_to.stem + "-masks.png")
                mask_path.parent.mkdir(parents=True, exist_ok=True)
                save_image(mask_path, pic)
                run.mask_image = str(mask_path)
        if result:
            rendered = rt.render(ref, run.recipe, segmenter=segmenter, engine=engine, long_side=None)
            run.after = label_levels(rendered.image, scene, found, given)
            from pertouch.engine.measure.artefacts import measure_artefacts

            run.artefacts = measure_artefacts(before, rendered.image).to_json()
            if save_to is not None:
                from pertouch.engine.io.read import save_image

                save_to.parent.mkdir(parents=True, exist_ok=True)
                save_image(save_to, _to_uint8(rendered.image))
                run.image = str(save_to)
    except Exception as exc:  # the suite goes on; the log shows what broke
        run.crashed = f"{type(exc).__name__}: {exc}"
        run.errors.append({"node": "solver", "kind": "crash", "message": run.crashed,
                           "trace": traceback.format_exc(limit=6)})
    run.calls = recorder.entries()
    run.ms = round((time.perf_counter() - t0) * 1000.0, 1)
    return run
