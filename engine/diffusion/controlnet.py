"""The PerTouch ControlNet: a diffusers ControlNet conditioned on a 4-channel parameter
map AND the input photo's VAE latent.

Import this module only where torch and diffusers are needed (the diffusion engine
imports it lazily). What differs from diffusers' ``ControlNetModel``:

- the conditioning embedding encodes the parameter map ``(B, 4, H, W)`` (levels in
  [−1, 1]) down to latent size as usual, encodes the photo's scaled VAE latent
  ``(B, C_latent, H/f, W/f)`` with one 3×3 conv (``conv_img``), concatenates the two
  (latent features first) and projects them with a zero-initialised 3×3 conv
  (``conv_out``). Parameter names follow the public PerTouch checkpoints
  (``controlnet_cond_embedding.{conv_in, blocks.N, conv_img, conv_out}``), so their
  ``controlnet/`` folder loads into this class;
- ``forward`` takes ``image_latent`` next to ``controlnet_cond``.

PerTouch also trains a copy of the UNet's output convolution; :func:`load_conv_out`
reads it (safetensors or the reference's ``unet_conv_out.pth``) into a UNet.

>>> from diffusers import UNet2DConditionModel
>>> unet = UNet2DConditionModel(block_out_channels=(8, 16), down_block_types=("CrossAttnDownBlock2D", "DownBlock2D"),
...     up_block_types=("UpBlock2D", "CrossAttnUpBlock2D"), layers_per_block=1, cross_attention_dim=8,
...     attention_head_dim=2, norm_num_groups=4, sample_size=8)
>>> net = PerTouchControlNetModel.from_unet(unet, conditioning_embedding_out_channels=(4, 8))
>>> net.controlnet_cond_embedding.downscale
2
"""

from __future__ import annotations

import inspect
import json
from dataclasses import dataclass
from pathlib import Path

import torch
from diffusers.models.controlnets.controlnet import ControlNetConditioningEmbedding, ControlNetModel
from torch import nn
from torch.nn import functional as F

#: Channels of the PerTouch parameter map, in reference order
#: (colorfulness, contrast, temperature, brightness).
MAP_CHANNELS = 4

#: File names tried, in order, for the trained copy of the UNet output conv.
CONV_OUT_FILES = ("unet_conv_out.safetensors", "unet_conv_out.pth", "unet_conv_out.bin")


class LatentConditioningEmbedding(ControlNetConditioningEmbedding):
    """Parameter map → latent-sized features, fused with the photo's VAE latent.

    ``forward(conditioning, latent)``: ``conditioning`` ``(B, conditioning_channels,
    H, W)``; ``latent`` ``(B, latent_channels, H/downscale, W/downscale)``; returns
    ``(B, conditioning_embedding_channels, H/downscale, W/downscale)``, zero at init.
    """

    def __init__(
        self,
        conditioning_embedding_channels: int,
        conditioning_channels: int = MAP_CHANNELS,
        block_out_channels: tuple[int, ...] = (16, 32, 96, 256),
        latent_channels: int = 4,
    ):
        super().__init__(conditioning_embedding_channels, conditioning_channels, tuple(block_out_channels))
        last = block_out_channels[-1]
        self.conv_img = nn.Conv2d(latent_channels, last, kernel_size=3, padding=1)
        self.conv_out = nn.Conv2d(2 * last, conditioning_embedding_channels, kernel_size=3, padding=1)
        nn.init.zeros_(self.conv_out.weight)
        nn.init.zeros_(self.conv_out.bias)
        self.downscale = 2 ** (len(block_out_channels) - 1)
        self._pending_latent: torch.Tensor | None = None

    def forward(self, conditioning: torch.Tensor, latent: torch.Tensor | None = None) -> torch.Tensor:
        if latent is None:
            latent = self._pending_latent
        if latent is None:
            raise ValueError("the PerTouch conditioning needs the input photo's VAE latent (image_latent)")
        x = F.silu(self.conv_in(conditioning))
        for block in self.blocks:
            x = F.silu(block(x))
        if x.shape[-2:] != latent.shape[-2:]:
            raise ValueError(
                f"parameter map features {tuple(x.shape[-2:])} and latent {tuple(latent.shape[-2:])} differ in size; "
                f"the map must be {self.downscale}× the latent size"
            )
        return self.conv_out(torch.cat((self.conv_img(latent.to(x.dtype)), x), dim=1))


def _signature_with_default(func, **defaults):
    sig = inspect.signature(func)
    params = [p.replace(default=defaults[p.name]) if p.name in defaults else p for p in sig.parameters.values()]
    return sig.replace(parameters=params)


class PerTouchControlNetModel(ControlNetModel):
    """diffusers' ``ControlNetModel`` with :class:`LatentConditioningEmbedding`.

    Same config keys as ``ControlNetModel`` (``conditioning_channels`` defaults to 4
    here); the latent has ``in_channels`` channels. ``save_pretrained`` /
    ``from_pretrained`` / ``from_unet`` work as for the parent class.
    """

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("conditioning_channels", MAP_CHANNELS)
        super().__init__(*args, **kwargs)
        cfg = self.config
        self.controlnet_cond_embedding = LatentConditioningEmbedding(
            conditioning_embedding_channels=cfg.block_out_channels[0],
            conditioning_channels=cfg.conditioning_channels,
            block_out_channels=tuple(cfg.conditioning_embedding_out_channels),
            latent_channels=cfg.in_channels,
        )

    # ConfigMixin reads the accepted config keys from the signature of __init__.
    __init__.__signature__ = _signature_with_default(ControlNetModel.__init__, conditioning_channels=MAP_CHANNELS)

    @classmethod
    def from_unet(cls, unet, conditioning_channels: int = MAP_CHANNELS, **kwargs) -> "PerTouchControlNetModel":
        """A PerTouch ControlNet initialised from a UNet (the start of training)."""
        return super().from_unet(unet, conditioning_channels=conditioning_channels, **kwargs)

    def forward(
        self,
        sample: torch.Tensor,
        timestep,
        encoder_hidden_states: torch.Tensor,
        controlnet_cond: torch.Tensor,
        image_latent: torch.Tensor | None = None,
        conditioning_scale: float = 1.0,
        **kwargs,
    ):
        """As ``ControlNetModel.forward``, plus ``image_latent``: the input photo's VAE
        latent (already multiplied by the VAE's scaling factor), ``(B, C, h, w)``."""
        if image_latent is None:
            raise ValueError("PerTouchControlNetModel.forward needs image_latent (the input photo's VAE latent)")
        embedding = self.controlnet_cond_embedding
        embedding._pending_latent = image_latent
        try:
            return super().forward(
                sample, timestep, encoder_hidden_states, controlnet_cond, conditioning_scale=conditioning_scale, **kwargs
            )
        finally:
            embedding._pending_latent = None


def _conv_state(path: Path) -> dict[str, torch.Tensor]:
    if path.suffix == ".safetensors":
        from safetensors.torch import load_file

        state = load_file(str(path))
    else:
        state = torch.load(str(path), map_location="cpu", weights_only=True)
        if not isinstance(state, dict):
            raise ValueError("expected a state dict of tensors")
    out = {}
    for key, value in state.items():
        name = key.split(".")[-1]
        if name in ("weight", "bias"):
            out[name] = value
    if set(out) != {"weight", "bias"}:
        raise ValueError(f"expected conv_out weight and bias, found keys {sorted(state)}")
    return out


def find_conv_out(folder: Path) -> Path | None:
    """The trained UNet output conv in ``folder`` (or ``folder/controlnet``), if any."""
    for base in (folder / "controlnet", folder):
        for name in CONV_OUT_FILES:
            if (base / name).is_file():
                return base / name
    return None


def load_conv_out(unet, path: Path) -> None:
    """Replace ``unet.conv_out``'s weights with the ones in ``path`` (shapes must match)."""
    state = _conv_state(path)
    conv = unet.conv_out
    if tuple(state["weight"].shape) != tuple(conv.weight.shape):
        raise ValueError(f"conv_out weight {tuple(state['weight'].shape)} does not fit the UNet's {tuple(conv.weight.shape)}")
    with torch.no_grad():
        conv.weight.copy_(state["weight"].to(conv.weight.dtype))
        conv.bias.copy_(state["bias"].to(conv.bias.dtype))


def save_conv_out(conv: nn.Conv2d, path: Path) -> None:
    """Write a UNet output conv as safetensors (``weight``, ``bias``)."""
    from safetensors.torch import save_file

    save_file({"weight": conv.weight.detach().contiguous().cpu(), "bias": conv.bias.detach().contiguous().cpu()}, str(path))


# --- loading a model folder and sampling ----------------------------------------------


@dataclass
class PerTouchModels:
    """Everything one render needs, on one device. ``prompt_embeds``: ``(1, T, D)``."""

    unet: object
    vae: object
    controlnet: PerTouchControlNetModel
    scheduler: object
    prompt_embeds: torch.Tensor
    device: torch.device
    dtype: torch.dtype
    conv_out: Path | None = None

    @property
    def vae_downscale(self) -> int:
        return 2 ** (len(self.vae.config.block_out_channels) - 1)


#: Short scheduler names accepted in settings → diffusers class names.
SCHEDULERS = {
    "ddim": "DDIMScheduler",
    "ddpm": "DDPMScheduler",
    "unipc": "UniPCMultistepScheduler",
    "dpm": "DPMSolverMultistepScheduler",
    "euler": "EulerDiscreteScheduler",
    "pndm": "PNDMScheduler",
}

#: Key of the precomputed empty-prompt embedding in ``empty_prompt.safetensors``.
EMPTY_PROMPT_KEY = "embedding"


def load_scheduler(folder: Path, name: str | None = None):
    """The scheduler saved in ``folder`` (its ``_class_name``), or ``name`` built from that config."""
    import diffusers

    config_path = folder / "scheduler_config.json"
    config = json.loads(config_path.read_text())
    cls_name = SCHEDULERS.get(name.lower(), name) if name else config.get("_class_name", "DDIMScheduler")
    cls = getattr(diffusers, cls_name, None)
    if cls is None or not hasattr(cls, "from_config"):
        raise ValueError(f"unknown scheduler {name or cls_name!r} (known: {', '.join(SCHEDULERS)})")
    return cls.from_config(config)


def encode_empty_prompt(text_encoder_dir: Path, tokenizer_dir: Path) -> torch.Tensor:
    """CLIP embedding of the empty prompt, ``(1, max_length, D)`` float32, as SD pipelines make it."""
    from transformers import AutoTokenizer, CLIPTextModel

    tokenizer = AutoTokenizer.from_pretrained(str(tokenizer_dir), local_files_only=True)
    encoder = CLIPTextModel.from_pretrained(str(text_encoder_dir), local_files_only=True).eval()
    ids = tokenizer([""], padding="max_length", max_length=tokenizer.model_max_length, truncation=True,
                    return_tensors="pt").input_ids
    with torch.no_grad():
        return encoder(ids)[0].float()


def load_empty_prompt(path: Path) -> torch.Tensor:
    """A saved empty-prompt embedding (``(1, T, D)`` or ``(T, D)`` under key ``embedding``)."""
    from safetensors.torch import load_file

    state = load_file(str(path))
    if EMPTY_PROMPT_KEY not in state:
        raise ValueError(f"expected a tensor named {EMPTY_PROMPT_KEY!r}, found {sorted(state)}")
    emb = state[EMPTY_PROMPT_KEY].float()
    return emb[None] if emb.ndim == 2 else emb


def save_empty_prompt(embedding: torch.Tensor, path: Path) -> None:
    from safetensors.torch import save_file

    save_file({EMPTY_PROMPT_KEY: embedding.detach().float().contiguous().cpu()}, str(path))


def load_models(
    folder: Path,
    *,
    device: str,
    dtype: torch.dtype,
    scheduler: str | None = None,
    empty_prompt: Path | None = None,
) -> PerTouchModels:
    """Load a checked model folder (see ``pertouch.engine.diffusion.engine.check_model_folder``).

    Only local files are read. The VAE stays in float32 (cheap at 512², and SD VAEs
    overflow in float16); UNet and ControlNet use ``dtype``.
    """
    from diffusers import AutoencoderKL, UNet2DConditionModel

    dev = torch.device(device)
    if empty_prompt is not None:
        prompt = load_empty_prompt(empty_prompt)
    else:
        prompt = encode_empty_prompt(folder / "text_encoder", folder / "tokenizer")
    unet = UNet2DConditionModel.from_pretrained(str(folder / "unet"), local_files_only=True, torch_dtype=dtype)
    conv_out = find_conv_out(folder)
    if conv_out is not None:
        load_conv_out(unet, conv_out)
    try:
        controlnet, info = PerTouchControlNetModel.from_pretrained(
            str(folder / "controlnet"), local_files_only=True, conditioning_channels=MAP_CHANNELS,
            output_loading_info=True, torch_dtype=dtype,
        )
    except RuntimeError as exc:  # shape mismatches: a ControlNet of another kind or size
        lines = [ln.strip() for ln in str(exc).splitlines() if "size mismatch" in ln] or [str(exc).splitlines()[0]]
        raise ValueError(f"controlnet/ is not a PerTouch ControlNet for this UNet: {lines[0]}") from None
    if info.get("missing_keys"):
        keys = sorted(info["missing_keys"])
        raise ValueError(f"controlnet/ is not a PerTouch ControlNet: no weights for {', '.join(keys[:3])}"
                         + (f" and {len(keys) - 3} more" if len(keys) > 3 else ""))
    vae = AutoencoderKL.from_pretrained(str(folder / "vae"), local_files_only=True, torch_dtype=torch.float32)
    return PerTouchModels(
        unet=unet.to(dev).eval(),
        vae=vae.to(dev).eval(),
        controlnet=controlnet.to(dev).eval(),
        scheduler=load_scheduler(folder / "scheduler", scheduler),
        prompt_embeds=prompt.to(dev, dtype),
        device=dev,
        dtype=dtype,
        conv_out=conv_out,
    )


@torch.no_grad()
def encode_image(models: PerTouchModels, image: torch.Tensor) -> torch.Tensor:
    """``(1, 3, S, S)`` in [0, 1] → scaled VAE latent (mean of the posterior, deterministic)."""
    vae = models.vae
    x = image.to(models.device, torch.float32) * 2.0 - 1.0
    latent = vae.encode(x).latent_dist.mode()
    return latent * vae.config.scaling_factor


@torch.no_grad()
def decode_latent(models: PerTouchModels, latent: torch.Tensor) -> torch.Tensor:
    """Scaled latent → image ``(1, 3, S, S)`` float32 in [0, 1] on the CPU."""
    vae = models.vae
    x = vae.decode(latent.to(torch.float32) / vae.config.scaling_factor).sample
    return ((x + 1.0) / 2.0).clamp(0.0, 1.0).float().cpu()


@torch.no_grad()
def sample(
    models: PerTouchModels,
    image: torch.Tensor,
    param_map: torch.Tensor,
    *,
    steps: int = 50,
    seed: int = 42,
    conditioning_scale: float = 1.0,
) -> torch.Tensor:
    """The PerTouch inference: empty prompt, no guidance, ``steps`` denoising steps.

    ``image``: ``(1, 3, S, S)`` float32 in [0, 1] (the photo resized to the model
    size); ``param_map``: ``(1, 4, S, S)`` float32 levels in [−1, 1]. Returns the
    edited image ``(1, 3, S, S)`` float32 in [0, 1] on the CPU. The starting noise
    is drawn on the CPU from ``seed``, so results agree across devices.
    """
    dev, dtype = models.device, models.dtype
    image_latent = encode_image(models, image)
    cond = param_map.to(dev, dtype)
    scheduler = models.scheduler
    scheduler.set_timesteps(steps, device=dev)
    gen = torch.Generator(device="cpu").manual_seed(int(seed))
    noise = torch.randn(image_latent.shape, generator=gen, dtype=torch.float32)
    latents = (noise * scheduler.init_noise_sigma).to(dev, dtype)
    image_latent = image_latent.to(dtype)
    emb = models.prompt_embeds
    # stochastic schedulers (DDPM, DDIM with eta > 0) draw their noise from the same seed
    step_kw = {"generator": gen} if "generator" in inspect.signature(scheduler.step).parameters else {}
    for t in scheduler.timesteps:
        model_in = scheduler.scale_model_input(latents, t)
        down, mid = models.controlnet(
            model_in, t, emb, cond, image_latent=image_latent, conditioning_scale=conditioning_scale, return_dict=False
        )
        pred = models.unet(
            model_in, t, encoder_hidden_states=emb,
            down_block_additional_residuals=down, mid_block_additional_residual=mid, return_dict=False,
        )[0]
        latents = scheduler.step(pred, t, latents, return_dict=False, **step_kw)[0]
    return decode_latent(models, latents)
