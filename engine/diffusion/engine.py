"""The diffusion engine: the PerTouch model (SD 2.1 + a parameter-map ControlNet).

Chosen by the spec ``diffusion:PATH``; ``PATH`` is a local folder (nothing downloads)::

    PATH/
      unet/  vae/  scheduler/            an SD-2.1-style diffusers pipeline folder
      text_encoder/  tokenizer/          (or empty_prompt.safetensors: the precomputed
                                          empty-prompt embedding, key "embedding")
      controlnet/config.json + diffusion_pytorch_model.safetensors   PerTouch ControlNet
      controlnet/unet_conv_out.safetensors (or unet_conv_out.pth)   trained UNet conv_out, if any
      levels.json                        optional level table the weights were trained with

Inference follows the reference: the photo resized to 512², the recipe rasterised
into a 4×512×512 parameter map of absolute levels, the photo's VAE latent, an empty
prompt, 50 steps, no guidance. Then, unlike the reference (which only resizes the
512² output back up), the edit is carried to full resolution by
:func:`pertouch.engine.diffusion.detail.transfer_detail`, so the photo keeps its own detail.
torch and diffusers are imported only when a model is loaded.

>>> DiffusionSettings().steps, DiffusionSettings().size
(50, 512)
"""

from __future__ import annotations

import time
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Mapping

import numpy as np

from pertouch.engine.base import Achieved, RenderResult
from pertouch.engine.schema.recipe import GLOBAL, Recipe
from pertouch.engine.schema.regions import Region
from pertouch.core.errors import ModelError

SPEC_PREFIX = "diffusion"
EMPTY_PROMPT_FILE = "empty_prompt.safetensors"
LEVELS_FILE = "levels.json"
EXPECTED_LAYOUT = (
    "expected an SD-2.1-style diffusers folder with unet/, vae/, scheduler/, controlnet/ "
    "(config.json + weights) and text_encoder/ + tokenizer/ or empty_prompt.safetensors"
)
_WEIGHT_SUFFIXES = (".safetensors", ".bin")


@dataclass(frozen=True)
class DiffusionSettings:
    """How to run the model. ``device``: ``auto``, ``cpu``, ``cuda``, ``cuda:1``…;
    ``dtype``: ``auto`` (float16 on CUDA, else float32), ``float32``, ``float16``,
    ``bfloat16``; ``scheduler``: ``None`` (the folder's) or ``ddim``/``unipc``/``dpm``/….
    ``detail``: carry the edit to full resolution (else resize the output, as the reference)."""

    steps: int = 50
    size: int = 512
    seed: int = 42
    device: str = "auto"
    dtype: str = "auto"
    scheduler: str | None = None
    conditioning_scale: float = 1.0
    detail: bool = True


@dataclass(frozen=True)
class ModelLayout:
    """A checked model folder: where the optional pieces are (``None`` when absent)."""

    root: Path
    empty_prompt: Path | None
    conv_out: Path | None
    level_table: Path | None


def _has_weights(folder: Path) -> bool:
    """A diffusers (``diffusion_pytorch_model*``) or transformers (``model*``, ``pytorch_model*``) weights file."""
    if not folder.is_dir():
        return False
    return any(p.suffix in _WEIGHT_SUFFIXES and p.name.startswith(("diffusion_pytorch_model", "model", "pytorch_model"))
               for p in folder.iterdir())


def check_model_folder(path: str | Path) -> ModelLayout:
    """Check the layout of a model folder without loading anything; ModelError names what is missing."""
    root = Path(path).expanduser()
    if not root.is_dir():
        raise ModelError(f"diffusion model folder not found: {root}", hint=EXPECTED_LAYOUT)
    missing = []
    for sub, config in (("unet", "config.json"), ("vae", "config.json"), ("controlnet", "config.json"),
                        ("scheduler", "scheduler_config.json")):
        if not (root / sub / config).is_file():
            missing.append(f"{sub}/{config}")
        elif sub != "scheduler" and not _has_weights(root / sub):
            missing.append(f"{sub}/ weights (*.safetensors)")
    empty_prompt = root / EMPTY_PROMPT_FILE
    if not empty_prompt.is_file():
        empty_prompt = None
        if not (root / "text_encoder" / "config.json").is_file() or not _has_weights(root / "text_encoder"):
            missing.append(f"text_encoder/ (or {EMPTY_PROMPT_FILE})")
        if not (root / "tokenizer").is_dir():
            missing.append(f"tokenizer/ (or {EMPTY_PROMPT_FILE})")
    if missing:
        raise ModelError(f"diffusion model folder {root} lacks {', '.join(missing)}", hint=EXPECTED_LAYOUT)
    conv_out = next((p for base in (root / "controlnet", root)
                     for p in (base / "unet_conv_out.safetensors", base / "unet_conv_out.pth", base / "unet_conv_out.bin")
                     if p.is_file()), None)
    levels = root / LEVELS_FILE
    return ModelLayout(root, empty_prompt, conv_out, levels if levels.is_file() else None)


def parse_spec(spec: str) -> Path:
    """``diffusion:PATH`` → PATH. A bare ``diffusion`` means ``$PERTOUCH_HOME/models/pertouch``."""
    head, _, rest = spec.partition(":")
    if head != SPEC_PREFIX:
        raise ModelError(f"not a diffusion engine spec: {spec!r}", hint="use diffusion:PATH")
    if rest.strip():
        return Path(rest.strip()).expanduser()
    from pertouch.core.home import app_home

    return app_home(create=False) / "models" / "pertouch"


# --- images and maps ---------------------------------------------------------------


def to_unit(image: np.ndarray) -> np.ndarray:
    """uint8/uint16 ``(H, W, 3)`` → float32 in [0, 1]."""
    if image.ndim != 3 or image.shape[2] != 3:
        raise ValueError(f"image must be (H, W, 3) RGB, got shape {image.shape}")
    if image.dtype == np.uint8:
        return image.astype(np.float32) / 255.0
    if image.dtype == np.uint16:
        return image.astype(np.float32) / 65535.0
    raise ValueError(f"image must be uint8 or uint16, got {image.dtype}")


def from_unit(x: np.ndarray, dtype: np.dtype) -> np.ndarray:
    top = 255.0 if dtype == np.uint8 else 65535.0
    return np.round(np.clip(x, 0.0, 1.0) * top).astype(dtype)


def _resize(x: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """Resize to ``size = (h, w)``: area when shrinking, linear when growing."""
    import cv2

    h, w = size
    shrink = x.shape[0] >= h and x.shape[1] >= w
    return cv2.resize(x, (w, h), interpolation=cv2.INTER_AREA if shrink else cv2.INTER_LINEAR)


def _measure(measurer, mask: np.ndarray, table) -> dict[str, float]:
    """Core-attribute levels over a ``(512, 512)`` bool mask (see :mod:`pertouch.engine.measure.stats`)."""
    from pertouch.engine.schema.attributes import CORE_NAMES
    from pertouch.engine.measure.stats import to_levels

    return to_levels(measurer.raw(mask, CORE_NAMES), table)


@dataclass
class MapPlan:
    """The parameter map and the levels behind it, per recipe entry (``global`` + regions)."""

    param_map: np.ndarray  # (4, S, S) float32 in [-1, 1]
    before: dict[str, dict[str, float]]
    targets: dict[str, dict[str, float]]
    masks: dict[str, np.ndarray]  # entry → bool mask at the measuring size


def plan_map(image: np.ndarray, recipe: Recipe, regions: Mapping[str, Region], size: int, table) -> MapPlan:
    """The PerTouch map of ``recipe`` at ``size``² (:func:`pertouch.engine.diffusion.paramap.rasterize`),
    with levels measured on ``image`` (``(H, W, 3)`` uint8/uint16/float) the reference way.

    Raises RecipeError for what the model cannot render: extended attributes (only the
    four core ones are model inputs) and recipe regions without a mask.
    """
    from pertouch.engine.schema.attributes import CORE_NAMES, get_attribute
    from pertouch.engine.measure.estimators import MEASURE_SIZE
    from pertouch.engine.measure.stats import Measurer, measure_mask
    from pertouch.engine.diffusion.paramap import rasterize
    from pertouch.core.errors import RecipeError

    for name, entry in recipe.entries():
        extra = [a for a in entry.attributes if get_attribute(a).channel is None]
        if extra:
            raise RecipeError(
                f"the diffusion engine renders only {', '.join(CORE_NAMES)}; {name} edits {', '.join(extra)}",
                hint="use the parametric engine for extended attributes",
            )
        if name != GLOBAL and name not in regions:
            raise RecipeError(f"region {name!r} of the recipe has no mask", hint="give a mask or segment the photo first")
    measurer = Measurer(image)
    masks = {GLOBAL: np.ones(MEASURE_SIZE[::-1], bool), **{n: measure_mask(regions[n].mask) for n in recipe.regions}}
    before = {n: _measure(measurer, m, table) for n, m in masks.items()}
    pmap = rasterize(recipe, {n: regions[n] for n in recipe.regions}, shape=(size, size), measured=before, table=table)
    targets = {}
    for name, entry in recipe.entries():
        targets[name] = {a: float(e.target(before[name][a])) for a, e in entry.attributes.items()}
    return MapPlan(np.clip(pmap, -1.0, 1.0).astype(np.float32), before, targets, masks)


# --- the engine --------------------------------------------------------------------

_MODEL_CACHE: dict[tuple, object] = {}


def _resolve_device(settings: DiffusionSettings):
    import torch

    device = settings.device
    if device == "auto":
        device = "cuda" if torch.cuda.is_available() else "cpu"
    name = settings.dtype
    if name == "auto":
        name = "float16" if device.startswith("cuda") else "float32"
    dtype = getattr(torch, name, None)
    if not isinstance(dtype, torch.dtype):
        raise ModelError(f"unknown dtype {settings.dtype!r}", hint="use auto, float32, float16 or bfloat16")
    return device, dtype


class DiffusionEngine:
    """``render(image, recipe, regions)`` with the PerTouch diffusion model.

    Construction only checks the folder; the models load on first use and are kept
    (one model set per process). Deterministic for a given ``settings.seed``.
    """

    name = SPEC_PREFIX

    def __init__(self, path: str | Path, settings: DiffusionSettings | None = None, *, level_table=None, table=None,
                 **overrides):
        self.layout = check_model_folder(path)
        try:
            self.settings = replace(settings or DiffusionSettings(), **overrides)
        except TypeError:
            known = ", ".join(DiffusionSettings.__dataclass_fields__)
            raise ModelError(f"unknown diffusion setting(s): {', '.join(overrides)}", hint=f"known: {known}") from None
        if self.settings.steps < 1 or self.settings.size < 8:
            raise ModelError(f"bad diffusion settings: steps={self.settings.steps}, size={self.settings.size}")
        self._table = level_table if level_table is not None else table

    @classmethod
    def from_spec(cls, spec: str, **settings) -> "DiffusionEngine":
        return cls(parse_spec(spec), **settings)

    @property
    def level_table(self):
        if self._table is None:
            from pertouch.engine.schema.levels import default_table, load_table

            self._table = load_table(self.layout.level_table) if self.layout.level_table else default_table()
        return self._table

    def models(self):
        """The loaded models (cached per folder, device, dtype and scheduler)."""
        from pertouch.engine.diffusion import controlnet as pc

        device, dtype = _resolve_device(self.settings)
        key = (str(self.layout.root.resolve()), device, str(dtype), self.settings.scheduler)
        if key not in _MODEL_CACHE:
            _MODEL_CACHE.clear()
            try:
                _MODEL_CACHE[key] = pc.load_models(
                    self.layout.root, device=device, dtype=dtype,
                    scheduler=self.settings.scheduler, empty_prompt=self.layout.empty_prompt,
                )
            except (OSError, ValueError, RuntimeError, KeyError) as exc:
                first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
                raise ModelError(f"cannot load the diffusion model from {self.layout.root}: {first}",
                                 hint=EXPECTED_LAYOUT) from None
        return _MODEL_CACHE[key]

    def generate(self, small_in: np.ndarray, param_map: np.ndarray) -> np.ndarray:
        """Run the model: ``small_in`` float32 ``(S, S, 3)`` in [0, 1], ``param_map``
        ``(4, S, S)`` → edited float32 ``(S, S, 3)`` in [0, 1]."""
        import torch

        from pertouch.engine.diffusion import controlnet as pc

        models = self.models()
        s = self.settings
        down = models.vae_downscale
        if s.size % down or models.controlnet.controlnet_cond_embedding.downscale != down:
            raise ModelError(
                f"model size {s.size} does not fit the model: VAE downscale {down}, "
                f"ControlNet map downscale {models.controlnet.controlnet_cond_embedding.downscale}"
            )
        image = torch.from_numpy(np.ascontiguousarray(small_in.transpose(2, 0, 1)))[None]
        cond = torch.from_numpy(np.ascontiguousarray(param_map))[None]
        out = pc.sample(models, image, cond, steps=s.steps, seed=s.seed, conditioning_scale=s.conditioning_scale)
        return out[0].permute(1, 2, 0).numpy().astype(np.float32)

    def render(self, image: np.ndarray, recipe: Recipe, regions: Mapping[str, Region]) -> RenderResult:
        from pertouch.engine.diffusion.detail import naive_upsample, transfer_detail
        from pertouch.engine.measure.stats import Measurer

        t0 = time.perf_counter()
        timings: dict[str, float] = {}
        if recipe.is_identity:
            return RenderResult(image=image.copy(), engine=self.name, timings_ms={"total": 0.0})
        full = to_unit(image)
        s = self.settings.size
        plan = plan_map(image, recipe, regions, s, self.level_table)  # measured in its own dtype, like measure_levels
        small_in = _resize(full, (s, s))
        t1 = time.perf_counter()
        timings["map"] = (t1 - t0) * 1e3
        small_out = self.generate(small_in, plan.param_map)
        t2 = time.perf_counter()
        timings["diffusion"] = (t2 - t1) * 1e3
        if self.settings.detail:
            out = transfer_detail(full, small_in, small_out)
        else:
            out = naive_upsample(small_out, full.shape[:2])
        t3 = time.perf_counter()
        timings["detail"] = (t3 - t2) * 1e3
        result = from_unit(out, image.dtype)
        measurer = Measurer(result)
        report = []
        for name, entry in recipe.entries():
            if not entry.attributes:
                continue
            after = _measure(measurer, plan.masks[name], self.level_table)
            for attr in entry.attributes:
                report.append(Achieved(name, attr, plan.before[name][attr], plan.targets[name][attr], after[attr]))
        timings["total"] = (time.perf_counter() - t0) * 1e3
        return RenderResult(image=result, report=report, engine=self.name, timings_ms=timings)


def make_engine(spec: str, **settings) -> DiffusionEngine:
    """``make_engine("diffusion:/models/pertouch", steps=20)``."""
    return DiffusionEngine.from_spec(spec, **settings)


def engine_factory(arg: str | None = None, **kw) -> DiffusionEngine:
    """The factory :mod:`pertouch.engine.engines` registers for ``diffusion[:PATH]``."""
    return DiffusionEngine.from_spec(f"{SPEC_PREFIX}:{arg or ''}", **kw)
