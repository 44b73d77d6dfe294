"""One log format for every suite: a run folder holding ``spec.json`` and ``log.jsonl``.

A run folder (``RUN_DIR``) is what ``pertouch eval SUITE -o RUN_DIR`` writes:

- ``spec.json`` — the suite, the configs (one per ``--vlm``…), epochs, the cases file;
- ``log.jsonl`` — one *sample* per line, appended as each finishes (a killed run
  continues where it stopped): ``{"config", "id", "epoch", "category", "input",
  "answer", "recipe", "image", "before_image", "timings_ms", "ms", "output",
  "calls", "scores": {name: {"value", "explanation"}}, "status", "error"}`` (``calls``: every
  model call — role, provider, prompt, raw reply, tokens, latency, error; see
  :mod:`pertouch.graph.vlm.calls`);
- ``images/`` — the inputs and every render (paths in the log are relative to RUN_DIR);
- ``summary.json``, ``report.md`` and ``report.html`` — rendered from the log.

``status`` is ``pass``, ``fail`` or ``error``: an **error** is a sample that could not
be scored (the model failed, the settings were wrong, the harness crashed) and is
never counted as a pass or a fail.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Iterable

from pertouch.core.errors import InputError

PASS, FAIL, ERROR = "pass", "fail", "error"


def verdict(score: dict[str, Any]) -> bool | None:
    """A score's verdict: its own ``pass`` when it carries one (None: informational, such
    as an IoU without a goal), else whether its value is 1 (None when it does not apply)."""
    if "pass" in score:
        return score["pass"]
    return None if score["value"] is None else score["value"] >= 1.0


def status_of(scores: dict[str, dict[str, Any]], error: str | None) -> str:
    """``error`` when the sample errored; else ``pass`` when every applicable score is 1
    (a score that carries its own ``pass`` verdict uses it; ``pass: None`` is informational)."""
    if error:
        return ERROR
    ok = all(verdict(s) is not False for s in scores.values())
    return PASS if ok else FAIL


def key(sample: dict[str, Any]) -> tuple[str, str, int]:
    return (sample["config"], sample["id"], int(sample["epoch"]))


class RunLog:
    """The log of one run folder: read what is there, append new samples."""

    def __init__(self, out: Path):
        self.out = Path(out)
        self.path = self.out / "log.jsonl"
        self.spec_path = self.out / "spec.json"

    def exists(self) -> bool:
        return self.path.is_file() and self.spec_path.is_file()

    def read_spec(self) -> dict[str, Any]:
        if not self.spec_path.is_file():
            raise InputError(f"{self.out} is not an eval run folder (no spec.json)",
                             hint="give the folder a 'pertouch eval SUITE -o DIR' run wrote")
        return json.loads(self.spec_path.read_text(encoding="utf-8"))

    def write_spec(self, spec: dict[str, Any]) -> None:
        self.out.mkdir(parents=True, exist_ok=True)
        self.spec_path.write_text(json.dumps(spec, indent=2), encoding="utf-8")

    def samples(self) -> list[dict[str, Any]]:
        """Every complete sample line (a half-written last line of a killed run is skipped);
        a sample logged twice (a retried error) counts once, the latest."""
        if not self.path.is_file():
            return []
        latest: dict[tuple[str, str, int], dict[str, Any]] = {}
        for line in self.path.read_text(encoding="utf-8").splitlines():
            try:
                s = json.loads(line)
            except json.JSONDecodeError:
                continue
            latest[key(s)] = s
        return list(latest.values())

    def append(self, sample: dict[str, Any]) -> None:
        self.out.mkdir(parents=True, exist_ok=True)
        torn = False
        if self.path.is_file() and self.path.stat().st_size:
            with self.path.open("rb") as f:  # a line cut by a kill: start on a fresh line
                f.seek(-1, 2)
                torn = f.read(1) != b"\n"
        with self.path.open("a", encoding="utf-8") as f:
            f.write(("\n" if torn else "") + json.dumps(sample, default=str) + "\n")

    def rewrite(self, samples: Iterable[dict[str, Any]]) -> None:
        """Replace the log (rescoring); written to a side file first so a crash loses nothing."""
        tmp = self.path.with_suffix(".jsonl.part")
        with tmp.open("w", encoding="utf-8") as f:
            for s in samples:
                f.write(json.dumps(s, default=str) + "\n")
        tmp.replace(self.path)
