"""Report the instruction parser's accuracy per field on the corpus.

Usage: python scripts/eval_parser.py [--vlm SPEC] [--file PATH] [--json] [--failures] [--no-embeddings] [-o RUN_DIR]

A case where the model fails is an error, counted apart and never scored. ``-o RUN_DIR``
also writes the run folder ``pertouch eval parser -o RUN_DIR`` writes (log, report.html).

``--file PATH`` scores another JSONL file of cases (same schema as
``evals/data/instructions.jsonl``); every split is scored separately.
"""

from __future__ import annotations

import argparse
import json
import sys


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--vlm", default="builtin", help="classifier spec (builtin, openai:MODEL, hf:PATH, fake:FILE)")
    ap.add_argument("--json", action="store_true", help="print the whole report as JSON")
    ap.add_argument("--failures", action="store_true", help="list the cases that were not exactly right")
    ap.add_argument("--no-embeddings", action="store_true", help="builtin only: no MiniLM fallback")
    ap.add_argument("--file", default=None, help="a JSONL file of cases (default: the packaged corpus)")
    ap.add_argument("-o", "--out", default=None, help="also write a run folder (log.jsonl, report.html)")
    args = ap.parse_args(argv)
    if args.out:
        from pathlib import Path

        from pertouch.evals import runner
        from pertouch.evals.tasks import make_task

        runner.run(make_task("parser", args.file), configs=[{"vlm": args.vlm}], out=Path(args.out))
        print(f"run folder: {args.out} (report.html)")

    from pertouch.evals.parser_eval import evaluate, format_report, load_cases

    if args.vlm == "builtin":
        from pertouch.graph.vlm.builtin.parser import parse_instruction

        classify = lambda text: parse_instruction(text, use_embeddings=not args.no_embeddings)  # noqa: E731
    else:
        from pertouch.graph.vlm.registry import get_vlm

        try:
            vlm = get_vlm(args.vlm)
        except Exception as exc:  # noqa: BLE001 — a model that cannot load: every case errors, said once
            print(f"ERROR: the model {args.vlm!r} could not be loaded: {exc}; nothing was scored")
            return 1
        classify = lambda text: vlm.classify(text, None)  # noqa: E731
    report = evaluate(classify, load_cases(args.file))
    if args.json:
        print(json.dumps(report, indent=2))
        return 0
    print(format_report(report))
    if args.failures:
        for f in report["failures"]:
            print(f"- [{f['id']}] {f['text']!r}: wrong {', '.join(f['wrong'])}; got {f['got']}"
                  + (f" ({f['error']})" if f["error"] else ""))
    return 0


if __name__ == "__main__":
    sys.exit(main())
