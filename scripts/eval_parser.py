"""Report the instruction parser's accuracy per field on the corpus.

Usage: python scripts/eval_parser.py [--vlm SPEC] [--file PATH] [--json] [--failures] [--no-embeddings]

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
    args = ap.parse_args(argv)

    from pertouch.evals.parser_eval import evaluate, format_report, load_cases

    if args.vlm == "builtin":
        from pertouch.graph.vlm.builtin_parser import parse_instruction

        classify = lambda text: parse_instruction(text, use_embeddings=not args.no_embeddings)  # noqa: E731
    else:
        from pertouch.graph.vlm.registry import get_vlm

        vlm = get_vlm(args.vlm)
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
