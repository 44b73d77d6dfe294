"""GPU check of PerTouch training: synthetic pairs → a few hundred steps → speed, memory, loss, conditioning.

Run (one GPU, under 8 minutes; nothing downloads)::

    python benchmarks/gpu_train_check.py [--steps 300] [--batch 2] [--size 512] [--scale small|sd21]
                                         [--pairs 12] [--out DIR] [--json]
    python benchmarks/gpu_train_check.py --tiny --steps 20     # the same path on CPU in seconds

1. ``pertouch train prepare --synthetic N`` makes pairs from bundled photos (random
   parametric-engine recipes, maps measured on the renders);
2. a model folder is built FROM CONFIGS with random weights — no Stable Diffusion
   weights exist on this machine, so this checks the training machinery at a real
   size, not the quality of a fine-tuned SD: ``--scale sd21`` is the SD 2.1 UNet/VAE
   layout (865 M UNet parameters), ``small`` (default) the same layout with half the
   UNet's channels, ``--tiny`` a toy model for CPU;
3. ``train run`` trains a fresh PerTouch ControlNet (+ the UNet's conv_out) with the
   paper's augmentations, bf16 on CUDA (float32 on CPU);
4. reported: steps/s (median step, and the whole run with checkpoints), peak GPU memory
   (``torch.cuda.max_memory_allocated``), the loss curve (10 buckets), and whether
   conditioning works: validation inputs rendered with each core attribute's map
   channel set to +0.8 and to −0.8 (other channels as the sample's map), the output's
   level of that attribute measured on each render; conditioning works when every
   attribute comes out higher with +0.8 than with −0.8 by at least ``MIN_DELTA``.
   (Before training the ControlNet's zero convs make both renders identical: Δ = 0.)

Writes ``OUT/report.json`` (and the run's checkpoints with ``samples.png``).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

#: Level difference (+0.8 map vs −0.8 map, in levels of [−1, 1]) that counts as following the map.
MIN_DELTA = 0.05
LEVEL = 0.8

# UNet/VAE layouts (diffusers configs). sd21: stabilityai/stable-diffusion-2-1's layout.
SCALES = {
    "sd21": {"unet": dict(block_out_channels=(320, 640, 1280, 1280), attention_head_dim=(5, 10, 20, 20),
                          layers_per_block=2, norm_num_groups=32, cross_attention_dim=1024),
             "vae": dict(block_out_channels=(128, 256, 512, 512), layers_per_block=2, norm_num_groups=32),
             "tokens": 77},
    "small": {"unet": dict(block_out_channels=(160, 320, 640, 640), attention_head_dim=(5, 10, 20, 20),
                           layers_per_block=2, norm_num_groups=32, cross_attention_dim=1024),
              "vae": dict(block_out_channels=(128, 256, 512, 512), layers_per_block=2, norm_num_groups=32),
              "tokens": 77},
    "tiny": {"unet": dict(block_out_channels=(8, 16), attention_head_dim=2, layers_per_block=1, norm_num_groups=4,
                          cross_attention_dim=16),
             "vae": dict(block_out_channels=(8, 16), layers_per_block=1, norm_num_groups=4),
             "tokens": 8},
}


def build_model(root: Path, scale: str, size: int, seed: int = 0) -> dict:
    """A base model folder (unet/, vae/, scheduler/, empty_prompt.safetensors) with random weights."""
    import torch
    from diffusers import AutoencoderKL, DDIMScheduler, UNet2DConditionModel

    from pertouch.engine.diffusion.controlnet import save_empty_prompt

    cfg = SCALES[scale]
    torch.manual_seed(seed)
    n = len(cfg["unet"]["block_out_channels"])
    down = ("CrossAttnDownBlock2D",) * (n - 1) + ("DownBlock2D",)
    up = ("UpBlock2D",) + ("CrossAttnUpBlock2D",) * (n - 1)
    nv = len(cfg["vae"]["block_out_channels"])
    vae = AutoencoderKL(latent_channels=4, sample_size=size, down_block_types=("DownEncoderBlock2D",) * nv,
                        up_block_types=("UpDecoderBlock2D",) * nv, **cfg["vae"])
    factor = 2 ** (nv - 1)
    unet = UNet2DConditionModel(sample_size=size // factor, down_block_types=down, up_block_types=up,
                                use_linear_projection=scale != "tiny", **cfg["unet"])
    root.mkdir(parents=True, exist_ok=True)
    unet.save_pretrained(root / "unet")
    vae.save_pretrained(root / "vae")
    DDIMScheduler(prediction_type="v_prediction", beta_schedule="scaled_linear", beta_start=0.00085, beta_end=0.012,
                  clip_sample=False, set_alpha_to_one=False, steps_offset=1).save_pretrained(root / "scheduler")
    gen = torch.Generator().manual_seed(seed)
    save_empty_prompt(torch.randn(1, cfg["tokens"], cfg["unet"]["cross_attention_dim"], generator=gen),
                      root / "empty_prompt.safetensors")
    return {"unet_params_M": round(sum(p.numel() for p in unet.parameters()) / 1e6, 1),
            "vae_params_M": round(sum(p.numel() for p in vae.parameters()) / 1e6, 1), "vae_downscale": factor}


def prepare(data: Path, pairs: int, max_side: int, jobs: int) -> float:
    """``pertouch train prepare --synthetic PAIRS -o DATA --max-side MAX_SIDE -j JOBS`` (in this process)."""
    from pertouch.commands.train import prepare_command

    t0 = time.perf_counter()
    with contextlib.redirect_stdout(sys.stderr):  # its summary line: stdout stays the report's
        prepare_command(source=None, out=data, segmenter="builtin", synthetic=pairs, max_side=max_side,
                        shard_size=64, levels=None, seed=0, workers=jobs)
    return time.perf_counter() - t0


def loss_curve(rows: list[dict], buckets: int = 10) -> list[dict]:
    parts = np.array_split(np.arange(len(rows)), min(buckets, len(rows)))
    return [{"steps": f"{rows[p[0]]['step']}-{rows[p[-1]]['step']}",
             "loss": round(float(np.mean([rows[i]["loss"] for i in p])), 5)} for p in parts if len(p)]


def conditioning(trainer, table, samples: int, steps: int) -> dict:
    """Per core attribute: the output's level with the map channel at +LEVEL minus at −LEVEL."""
    import torch

    from pertouch.engine.diffusion import controlnet as pc
    from pertouch.engine.train import data as td
    from pertouch.engine.schema.attributes import CORE_NAMES
    from pertouch.engine.train.samples import SAMPLE_STEP, trainer_models

    trainer.controlnet.eval()
    models = trainer_models(trainer)

    def level(out: torch.Tensor, c: int) -> float:
        img = np.round(out[0].permute(1, 2, 0).clamp(0, 1).cpu().numpy() * 255).astype(np.uint8)
        raw = td.region_raw(img, np.ones(img.shape[:2], np.uint16))
        return float(td.raw_levels(raw, table)[1, c])

    deltas: dict[str, list[float]] = {a: [] for a in CORE_NAMES}
    for i in range(samples):
        batch = trainer.batch(SAMPLE_STEP - i)
        image = (batch["input"][:1] + 1.0) / 2.0
        for c, a in enumerate(CORE_NAMES):
            got = []
            for v in (LEVEL, -LEVEL):
                cmap = batch["map"][:1].clone()
                cmap[:, c] = v
                got.append(level(pc.sample(models, image, cmap, steps=steps, seed=i), c))
            deltas[a].append(got[0] - got[1])
    trainer.controlnet.train()
    per = {a: {"delta": round(float(np.mean(d)), 4), "ok": bool(np.mean(d) >= MIN_DELTA)} for a, d in deltas.items()}
    good = sum(p["ok"] for p in per.values())
    verdict = "yes" if good == len(per) else ("partly" if good else "no")
    return {"attributes": per, "works": verdict, "samples": samples, "sample_steps": steps,
            "rule": f"output level with map +{LEVEL} minus with map -{LEVEL} >= {MIN_DELTA} for every attribute"}


def main(argv: list[str] | None = None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--tiny", action="store_true", help="toy model, CPU-sized defaults (size 32, 3 pairs)")
    ap.add_argument("--steps", type=int, default=300)
    ap.add_argument("--batch", type=int, default=None, help="batch size (default 2; tiny 1)")
    ap.add_argument("--size", type=int, default=None, help="training crop (default 512; tiny 32)")
    ap.add_argument("--scale", choices=("small", "sd21"), default="small")
    ap.add_argument("--pairs", type=int, default=None, help="synthetic pairs (default 12; tiny 3)")
    ap.add_argument("--lr", type=float, default=1e-4, help="learning rate (the paper's 1e-5 is for long runs)")
    ap.add_argument("--precision", choices=("auto", "no", "fp16", "bf16"), default="auto")
    ap.add_argument("--sample-steps", type=int, default=None, help="denoising steps of the checks (default 20; tiny 2)")
    ap.add_argument("--device", default="auto")
    ap.add_argument("--jobs", type=int, default=4, help="threads preparing pairs")
    ap.add_argument("--out", type=Path, default=None, help="work folder (default: a temporary one)")
    ap.add_argument("--json", action="store_true", help="print the report as JSON")
    args = ap.parse_args(argv)

    import torch

    from pertouch.engine.train import loop as tl
    from pertouch.engine.train.checkpoints import last_checkpoint
    from pertouch.engine.train.config import TrainConfig
    from pertouch.engine.schema.levels import load_table

    tiny = args.tiny
    size = args.size or (32 if tiny else 512)
    batch = args.batch or (1 if tiny else 2)
    npairs = args.pairs or (3 if tiny else 12)
    sample_steps = args.sample_steps or (2 if tiny else 20)
    cuda = torch.cuda.is_available() and args.device in ("auto", "cuda") or args.device.startswith("cuda")
    device = args.device if args.device != "auto" else ("cuda" if cuda else "cpu")
    precision = args.precision if args.precision != "auto" else ("bf16" if cuda else "no")
    out = args.out or Path(tempfile.mkdtemp(prefix="pertouch-gpu-check-"))
    t_start = time.perf_counter()
    report: dict = {"date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()), "device": device,
                    "gpu": torch.cuda.get_device_name(0) if device.startswith("cuda") else None,
                    "scale": "tiny" if tiny else args.scale, "weights": "random, built from configs (no SD weights here)",
                    "steps": args.steps, "batch": batch, "size": size, "precision": precision, "lr": args.lr}
    report["prepare_s"] = round(prepare(out / "data", npairs, max(size, 64), args.jobs), 1)
    report["model"] = build_model(out / "base", "tiny" if tiny else args.scale, size)
    cfg = TrainConfig.from_dict(dict(
        model=str(out / "base"), dataset=str(out / "data"), output=str(out / "run"), steps=args.steps, lr=args.lr,
        batch_size=batch, size=size, mixed_precision=precision, checkpoint_every=args.steps, samples=1 if tiny else 2,
        sample_steps=sample_steps, warmup_steps=min(20, args.steps // 10), device=device))
    trainer = tl.Trainer(cfg, log=lambda s: print(s, file=sys.stderr))
    if device.startswith("cuda"):
        torch.cuda.reset_peak_memory_stats()
    t0 = time.perf_counter()
    rows = trainer.run()
    wall = time.perf_counter() - t0
    secs = [r["seconds"] for r in rows[min(5, len(rows) - 1):]]  # past the first steps' warm-up
    report["train"] = {"wall_s": round(wall, 1), "steps_per_s": round(1.0 / statistics.median(secs), 2),
                       "steps_per_s_with_checkpoints": round(len(rows) / wall, 2),
                       "skipped_steps": sum(bool(r.get("skipped")) for r in rows),
                       "peak_memory_GiB": (round(torch.cuda.max_memory_allocated() / 2**30, 2)
                                           if device.startswith("cuda") else None),
                       "loss_first10": round(float(np.mean([r["loss"] for r in rows[:10]])), 5),
                       "loss_last10": round(float(np.mean([r["loss"] for r in rows[-10:]])), 5),
                       "loss_curve": loss_curve(rows)}
    t1 = time.perf_counter()
    report["conditioning"] = conditioning(trainer, load_table(out / "data" / "levels.json"), 1 if tiny else 2,
                                          sample_steps)
    report["conditioning"]["seconds"] = round(time.perf_counter() - t1, 1)
    report["samples_png"] = str(last_checkpoint(out / "run") / "samples.png")
    report["total_s"] = round(time.perf_counter() - t_start, 1)
    report["under_8_min"] = report["total_s"] < 480
    (out / "report.json").write_text(json.dumps(report, indent=1))
    if args.json:
        print(json.dumps(report))
    else:
        print_report(report, out)
    return report


def print_report(r: dict, out: Path) -> None:
    t = r["train"]
    print(f"device: {r['gpu'] or r['device']}; model: {r['scale']} ({r['model']['unet_params_M']} M UNet params, "
          f"{r['weights']}); {r['steps']} steps, batch {r['batch']}, {r['size']} px, {r['precision']}")
    print(f"prepare: {r['prepare_s']} s; train: {t['wall_s']} s, {t['steps_per_s']} steps/s "
          f"({t['steps_per_s_with_checkpoints']} with checkpoints), skipped {t['skipped_steps']}, "
          f"peak memory {t['peak_memory_GiB'] if t['peak_memory_GiB'] is not None else '- (CPU)'} GiB")
    print("loss: " + "  ".join(f"{b['steps']}: {b['loss']:.4f}" for b in t["loss_curve"]))
    c = r["conditioning"]
    print(f"conditioning works: {c['works']} ({c['rule']}): "
          + ", ".join(f"{a} {v['delta']:+.3f}{'' if v['ok'] else ' ✗'}" for a, v in c["attributes"].items()))
    print(f"total {r['total_s']} s ({'under' if r['under_8_min'] else 'OVER'} 8 minutes); "
          f"report: {out / 'report.json'}; samples: {r['samples_png']}")


if __name__ == "__main__":
    main()
