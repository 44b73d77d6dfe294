"""Device check for the diffusion engine (run by hand on a GPU machine; not part of CI).

Builds an SD-2.1-sized UNet (865 M parameters), VAE and PerTouch ControlNet with
random weights from configs (nothing downloads), runs the PerTouch sampling loop
(empty prompt, no guidance) at 512² for 50 steps, then the full-resolution detail
transfer on a 12-megapixel frame, and prints one JSON line: seconds per step, total,
peak GPU memory, and whether the output is finite and deterministic for a seed.

    python scripts/device_check_diffusion.py                 # cuda, float16, 50 steps
    python scripts/device_check_diffusion.py --tiny --device cpu --steps 2   # smoke test anywhere
    python scripts/device_check_diffusion.py --save /tmp/m   # also save + reload via DiffusionEngine
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

SD21_UNET = dict(
    sample_size=96, in_channels=4, out_channels=4, layers_per_block=2, norm_num_groups=32,
    block_out_channels=(320, 640, 1280, 1280), attention_head_dim=(5, 10, 20, 20), cross_attention_dim=1024,
    down_block_types=("CrossAttnDownBlock2D",) * 3 + ("DownBlock2D",),
    up_block_types=("UpBlock2D",) + ("CrossAttnUpBlock2D",) * 3,
    use_linear_projection=True, upcast_attention=True,
)
SD21_VAE = dict(
    block_out_channels=(128, 256, 512, 512), layers_per_block=2, latent_channels=4, norm_num_groups=32,
    down_block_types=("DownEncoderBlock2D",) * 4, up_block_types=("UpDecoderBlock2D",) * 4, sample_size=768,
)
TINY_UNET = dict(
    sample_size=16, block_out_channels=(8, 16), layers_per_block=1, norm_num_groups=4, cross_attention_dim=16,
    attention_head_dim=2, down_block_types=("CrossAttnDownBlock2D", "DownBlock2D"),
    up_block_types=("UpBlock2D", "CrossAttnUpBlock2D"),
)
TINY_VAE = dict(
    block_out_channels=(8, 16), layers_per_block=1, norm_num_groups=4, latent_channels=4, sample_size=32,
    down_block_types=("DownEncoderBlock2D",) * 2, up_block_types=("UpDecoderBlock2D",) * 2,
)


def build(tiny: bool, device: str, dtype):
    import torch
    from diffusers import AutoencoderKL, DDIMScheduler, UNet2DConditionModel

    from pertouch.engine.diffusion.controlnet import PerTouchControlNetModel, PerTouchModels

    torch.manual_seed(0)
    unet = UNet2DConditionModel(**(TINY_UNET if tiny else SD21_UNET))
    vae = AutoencoderKL(**(TINY_VAE if tiny else SD21_VAE))
    cond_out = (4, 8) if tiny else (16, 32, 96, 256)
    controlnet = PerTouchControlNetModel.from_unet(unet, conditioning_embedding_out_channels=cond_out)
    with torch.no_grad():  # zero convs would hide the ControlNet's cost and effect
        for p in controlnet.parameters():
            if not p.any():
                p.normal_(0.0, 0.02)
    scheduler = DDIMScheduler(beta_start=0.00085, beta_end=0.012, beta_schedule="scaled_linear", clip_sample=False,
                              set_alpha_to_one=False, steps_offset=1, prediction_type="v_prediction")
    dim = unet.config.cross_attention_dim
    prompt = torch.randn(1, 8 if tiny else 77, dim)
    dev = torch.device(device)
    models = PerTouchModels(unet=unet.to(dev, dtype).eval(), vae=vae.to(dev, torch.float32).eval(),
                            controlnet=controlnet.to(dev, dtype).eval(), scheduler=scheduler,
                            prompt_embeds=prompt.to(dev, dtype), device=dev, dtype=dtype)
    params = sum(p.numel() for m in (unet, controlnet, vae) for p in m.parameters())
    return models, params, (unet, vae, controlnet, scheduler, prompt)


def save(folder: Path, parts) -> None:
    from pertouch.engine.diffusion.controlnet import save_conv_out, save_empty_prompt

    unet, vae, controlnet, scheduler, prompt = parts
    for name, model in (("unet", unet), ("vae", vae), ("controlnet", controlnet), ("scheduler", scheduler)):
        model.save_pretrained(folder / name)
    save_conv_out(unet.conv_out, folder / "controlnet" / "unet_conv_out.safetensors")
    save_empty_prompt(prompt, folder / "empty_prompt.safetensors")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--device", default="cuda")
    ap.add_argument("--dtype", default="float16")
    ap.add_argument("--steps", type=int, default=50)
    ap.add_argument("--size", type=int, default=None, help="model resolution (512; 32 with --tiny)")
    ap.add_argument("--tiny", action="store_true", help="tiny configs, for a smoke test on any machine")
    ap.add_argument("--full-mp", type=float, default=12.0, help="megapixels of the detail-transfer frame")
    ap.add_argument("--save", type=Path, default=None, help="also save the models here and render via DiffusionEngine")
    args = ap.parse_args(argv)

    import torch
    from diffusers.utils import logging as diffusers_logging

    from pertouch.engine.diffusion import controlnet as pc

    diffusers_logging.set_verbosity_error()
    from pertouch.engine.diffusion.detail import downsample, transfer_detail

    dtype = getattr(torch, args.dtype)
    size = args.size or (32 if args.tiny else 512)
    cuda = args.device.startswith("cuda")
    report: dict = {"device": args.device, "dtype": args.dtype, "steps": args.steps, "size": size}
    if cuda:
        report["gpu"] = torch.cuda.get_device_name(0)
    t = time.perf_counter()
    models, params, parts = build(args.tiny, args.device, dtype)
    report["build_s"] = round(time.perf_counter() - t, 2)
    report["params_M"] = round(params / 1e6, 1)

    rng = np.random.default_rng(0)
    image = torch.from_numpy(rng.random((1, 3, size, size), dtype=np.float32))
    pmap = torch.from_numpy(rng.uniform(-1, 1, (1, 4, size, size)).astype(np.float32))
    pc.sample(models, image, pmap, steps=2, seed=1)  # warm-up (kernels, allocator)
    if cuda:
        torch.cuda.synchronize()
        torch.cuda.reset_peak_memory_stats()
    t = time.perf_counter()
    out = pc.sample(models, image, pmap, steps=args.steps, seed=42)
    if cuda:
        torch.cuda.synchronize()
    total = time.perf_counter() - t
    again = pc.sample(models, image, pmap, steps=2, seed=42)
    again2 = pc.sample(models, image, pmap, steps=2, seed=42)
    report.update(
        sample_s=round(total, 3), s_per_step=round(total / args.steps, 4),
        finite=bool(torch.isfinite(out).all()), deterministic=bool(torch.equal(again, again2)),
        out_shape=list(out.shape),
    )
    if cuda:
        report["peak_gpu_GiB"] = round(torch.cuda.max_memory_allocated() / 2**30, 2)

    h = int(round((args.full_mp * 1e6 * 3 / 4) ** 0.5))
    full = rng.random((h, h * 4 // 3, 3), dtype=np.float32)
    small_in = downsample(full, (size, size))
    small_out = out[0].permute(1, 2, 0).numpy()
    t = time.perf_counter()
    transfer_detail(full, small_in, small_out)
    report["detail_s"] = round(time.perf_counter() - t, 3)
    report["detail_frame"] = list(full.shape[:2])

    if args.save is not None:
        from pertouch.engine.diffusion.engine import DiffusionEngine
        from pertouch.engine.schema.recipe import Recipe

        save(args.save, parts)
        engine = DiffusionEngine(args.save, size=size, steps=args.steps, device=args.device, dtype=args.dtype)
        photo = (rng.random((size * 3 // 2, size * 2, 3)) * 255).astype(np.uint8)
        recipe = Recipe.model_validate({"global": {"attributes": {"brightness": {"by": 0.2}}}})
        t = time.perf_counter()
        res = engine.render(photo, recipe, {})
        report["engine_render_s"] = round(time.perf_counter() - t, 2)
        report["engine_timings_ms"] = {k: round(v) for k, v in res.timings_ms.items()}
    print(json.dumps(report))
    return 0


if __name__ == "__main__":
    sys.exit(main())
