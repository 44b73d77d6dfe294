"""The Markdown report of a run log (``report.md``): the summary per config, then the cases.

Errors are their own column and their own line per case: a rate is over the scored
samples (pass + fail) only.
"""

from __future__ import annotations

from typing import Any


def pct(x: float | None) -> str:
    return "–" if x is None else f"{x:.0%}"


def score_cell(c: dict[str, Any], key: str) -> str:
    """A config's mean of one score: a rate as a percentage, a measurement (a score with a
    ``unit``, e.g. PSNR in dB or ΔE) as a number with its unit."""
    x, unit = c["scores"].get(key), c.get("units", {}).get(key)
    if unit is None or x is None:
        return pct(x)
    return f"{x:.3g} {unit}".strip() if abs(x) < 100 else f"{x:.1f} {unit}".strip()


def rate_cell(r: dict[str, Any]) -> str:
    """``80% [62–91%]`` (95 % Wilson interval), or ``–`` when nothing was scored."""
    if r.get("pass_rate") is None:
        return "–"
    lo, hi = r["ci"]
    return f"{r['pass_rate']:.0%} [{lo:.0%}–{hi:.0%}]"


def summary_lines(summary: dict[str, Any]) -> list[str]:
    """One line per config: counts, rate with interval, epoch spread, scorer means."""
    lines = []
    for name, c in summary["configs"].items():
        line = (f"{name}: {c['passed']} pass, {c['failed']} fail, {c['errors']} error of {c['n']}; "
                f"pass rate {rate_cell(c)}")
        if c.get("epochs") and c["epochs"].get("ci"):
            lo, hi = c["epochs"]["ci"]
            line += f"; over {c['epochs']['n']} epochs {c['epochs']['mean']:.0%} [{lo:.0%}–{hi:.0%}]"
        if c["errors"] and c["passed"] + c["failed"] == 0:
            line += " — EVERY sample errored, nothing was scored"
        lines.append(line)
    return lines


def render_markdown(spec: dict[str, Any], summary: dict[str, Any], samples: list[dict[str, Any]]) -> str:
    names = list(summary["configs"])
    keys = list(dict.fromkeys(k for c in summary["configs"].values() for k in c["scores"]))
    out = [f"# PerTouch eval — suite `{spec['suite']}`", ""]
    out += ["- " + line for line in summary_lines(summary)] + [""]
    out += ["| config | pass | fail | error | pass rate [95% CI] | " + " | ".join(keys) + " | median ms |",
            "|---|---|---|---|---|" + "---|" * len(keys) + "---|"]
    for n in names:
        c = summary["configs"][n]
        ms = "–" if c["median_ms"] is None else f"{c['median_ms']:.0f}"
        out.append(f"| {n} | {c['passed']} | {c['failed']} | {c['errors']} | {rate_cell(c)} | "
                   + " | ".join(score_cell(c, k) for k in keys) + f" | {ms} |")
    for n in names:
        msgs = summary["configs"][n].get("error_messages")
        if msgs:
            out += ["", f"Errors of {n}: " + "; ".join(m[:160] for m in msgs)]
    out += ["", "## Cases", ""]
    mark = {"pass": "✓", "fail": "✗", "error": "ERROR"}
    for s in samples:
        text = s["input"].get("instruction") or s["input"].get("text") or ""
        if s["input"].get("turns"):
            text = " → ".join(t.get("say", "") for t in s["input"]["turns"])
        head = f"- **{s['id']}** [{s['config']}, epoch {s['epoch']}] {mark[s['status']]} — {text}"
        if s["status"] == "error":
            out.append(head + f": {s['error']}")
            continue
        notes = "; ".join(f"{k}: {v['explanation']}" for k, v in s["scores"].items() if v["value"] is not None)
        out.append(head + (f": {notes}" if s["status"] == "fail" else ""))
    return "\n".join(out) + "\n"
