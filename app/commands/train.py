"""``pertouch train``: prepare PerTouch training data and train a model.

    pertouch train prepare PAIRS_DIR_OR_CSV -o DATASET_DIR [--segmenter builtin]
                           [--max-side 768] [--shard-size 64] [--levels TABLE.json]
    pertouch train prepare --synthetic N -o DATASET_DIR
    pertouch train run CONFIG.yaml [--steps N] [--no-resume]

PAIRS_DIR holds one input folder (``input``/``inputs``/``source``/``original``/``raw``)
and one or more expert folders (FiveK: experts A–E) with files of the same names; a
CSV has ``input,target[,expert]`` columns. Each input is segmented, the four levels
are measured per region on the TARGET and rasterised into a parameter map with a
quantile normaliser fitted over every target region (or ``--levels``); see
:mod:`pertouch.engine.train.data` for the folder's layout. Running again into the same
folder resumes: prepared pairs are kept, skipped ones retried. ``--synthetic N``
makes N pairs from photos that dependencies ship, re-rendered by the parametric
engine with random recipes, so training can be tried without FiveK (their maps are
measured on the renders, as for real pairs; the recipe is kept); alone, they keep the
shipped level table, since a handful of photos is too few to fit one.

``train run`` reads a JSON/YAML config (``model``, ``dataset``, ``output``, ``steps``,
``lr``, ``batch_size``, ``seed``, ``transforms``, ``tensorboard``, … see
:class:`pertouch.engine.train.config.TrainConfig`), resumes from the run folder's last
checkpoint and writes ``OUTPUT/model``, which ``--engine diffusion:OUTPUT/model`` loads.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Optional

import numpy as np
import typer

from pertouch.commands._common import SEGMENTER_HELP
from pertouch.core.errors import InputError
from pertouch.tools.region_masks import make_segmenter

train_app = typer.Typer(help="Prepare training data and train a PerTouch model.", no_args_is_help=True)

#: Photos the synthetic pairs are made from (shipped by dependencies, see evals.photos).
SYNTHETIC_PHOTOS = ("skimage:astronaut", "skimage:coffee", "skimage:chelsea", "skimage:rocket",
                    "sklearn:china.jpg", "sklearn:flower.jpg")


def _pair_jobs(source: Path, segment, max_side: int):
    from pertouch.engine.train import data as td
    from pertouch.engine.io.read import load_image

    def make(pair):
        return lambda: td.prepare_pair(td.to_rgb8(load_image(pair.input).pixels),
                                       td.to_rgb8(load_image(pair.target).pixels), segment, max_side)

    return [(p.id, p.expert, make(p)) for p in td.find_pairs(source)]


def _synthetic_jobs(n: int, segment, max_side: int, seed: int):
    from pertouch.engine.train.synthetic import synthetic_pair
    from pertouch.evals.photos import load_photo

    cache: dict[str, np.ndarray] = {}

    def make(spec: str, i: int):
        def run():
            if spec not in cache:
                cache[spec] = load_photo(spec)
            return synthetic_pair(cache[spec], segment, np.random.default_rng([seed, i]), max_side)
        return run

    jobs = []
    for i in range(n):
        spec = SYNTHETIC_PHOTOS[i % len(SYNTHETIC_PHOTOS)]
        stem = spec.replace(":", "-").rsplit(".", 1)[0]
        # the same photo under several random recipes: "experts" for semantic replacement
        expert = f"synthetic{i // len(SYNTHETIC_PHOTOS)}"
        jobs.append((f"{expert}/{stem}", expert, make(spec, i)))
    return jobs


def prepare_command(
    source: Optional[Path] = typer.Argument(None, help="Pairs folder (input + expert folders) or a pairs CSV."),
    out: Path = typer.Option(..., "-o", "--out", help="Dataset folder (created; an existing one is resumed)."),
    segmenter: str = typer.Option("builtin", "--segmenter", help=SEGMENTER_HELP),
    synthetic: int = typer.Option(0, "--synthetic", min=0, help="Make N synthetic pairs from bundled photos."),
    max_side: int = typer.Option(768, "--max-side", min=64, help="Long side of the stored photos (pixels)."),
    shard_size: int = typer.Option(64, "--shard-size", min=1, help="Pairs per .npz shard."),
    levels: Optional[Path] = typer.Option(None, "--levels", help="Use this level table instead of fitting one."),
    seed: int = typer.Option(0, "--seed", help="Seed of the synthetic recipes."),
    workers: int = typer.Option(1, "--jobs", "-j", min=1, help="Pairs prepared at once (threads)."),
) -> None:
    """Prepare (input, target, parameter map) training data from paired photos."""
    from pertouch.engine.train import data as td
    from pertouch.engine.schema.levels import default_table, load_table

    if source is None and not synthetic:
        raise InputError("nothing to prepare", hint="give a pairs folder or CSV, or --synthetic N")
    # a few synthetic photos are too few to fit a normaliser on: keep the shipped one
    table = load_table(levels) if levels else (default_table() if source is None else None)
    segment = make_segmenter(segmenter)
    jobs = _pair_jobs(source, segment, max_side) if source is not None else []
    jobs += _synthetic_jobs(synthetic, segment, max_side, seed) if synthetic else []
    counts = {"ok": 0, "done before": 0, "skipped": 0}
    with typer.progressbar(length=len(jobs), label="pairs", file=sys.stderr) as bar:
        def progress(pid: str, what: str) -> None:
            counts["skipped" if what.startswith("skipped") else what] += 1
            if what.startswith("skipped"):
                typer.echo(f"\n{pid}: {what}", err=True)
            bar.update(1)

        man = td.build(out, jobs, shard_size=shard_size, progress=progress, workers=workers)
    fitted = td.finalize(out, table)
    typer.echo(f"{out}: {len(man['pairs'])} pairs ({counts['ok']} new, {counts['done before']} done before), "
               f"{len(man['skipped'])} skipped (see manifest.json), {len(man['shards'])} shards; "
               f"levels: {fitted.source}")


def run_command(
    config: Path = typer.Argument(..., help="Training config (JSON or YAML)."),
    steps: Optional[int] = typer.Option(None, "--steps", min=1, help="Train to this step count (overrides the config)."),
    resume: bool = typer.Option(True, "--resume/--no-resume", help="Continue from the run's last checkpoint "
                                "(--no-resume: delete its checkpoints and log, start over)."),
) -> None:
    """Train the PerTouch ControlNet on a prepared dataset; saves OUTPUT/model."""
    from pertouch.engine.train import loop as tl
    from pertouch.engine.train.checkpoints import MODEL
    from pertouch.engine.train.config import TrainConfig
    from pertouch.engine.train.log import LOG, TENSORBOARD

    cfg = TrainConfig.load(config)
    if steps is not None:
        cfg.steps = steps
    trainer, rows = tl.train(cfg, resume=resume, log=lambda s: typer.echo(s, err=True))
    if rows:
        rate = len(rows) / max(sum(r["seconds"] for r in rows), 1e-9)
        typer.echo(f"trained to step {trainer.step} ({len(rows)} steps this run, {rate:.2f} steps/s); "
                   f"loss {rows[0]['loss']:.4f} → {rows[-1]['loss']:.4f}")
    else:
        typer.echo(f"already at step {trainer.step} (of {cfg.steps}); nothing to train")
    typer.echo(f"model: {Path(cfg.output) / MODEL} (use --engine diffusion:{Path(cfg.output) / MODEL}); "
               f"log: {Path(cfg.output) / LOG}")
    if cfg.tensorboard:
        typer.echo(f"tensorboard: tensorboard --logdir {Path(cfg.output) / TENSORBOARD}")


def register(app: typer.Typer) -> None:
    from pertouch.cli import handle_errors

    train_app.command("prepare")(handle_errors(prepare_command))
    train_app.command("run")(handle_errors(run_command))
    app.add_typer(train_app, name="train")
