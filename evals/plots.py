"""Inline SVG plots for the HTML report (self-contained: no files, no scripts, no fonts).

- :func:`pass_rate_bars` — pass rate per category, one bar per config, with its 95 %
  interval as a whisker and ``passed/scored`` written beside it (errored samples are
  not in the rate; their count is written when there are any);
- :func:`latency_strip` — every scored sample's wall time per config on a log axis, with
  the median marked.
"""

from __future__ import annotations

import html
import math
import statistics
from typing import Any, Sequence

COLOURS = ("#0072b2", "#e69f00", "#009e73", "#cc79a7", "#d55e00", "#56b4e9")
FONT = "font-family='system-ui,sans-serif' font-size='11'"


def _t(x: Any) -> str:
    return html.escape(str(x))


def pass_rate_bars(summary: dict[str, Any], key: str = "by_category") -> str:
    """Grouped horizontal bars: one group per category, one bar per config."""
    names = list(summary["configs"])
    cats = list(dict.fromkeys(k for c in summary["configs"].values() for k in c.get(key, {})))
    if not cats:
        return ""
    left, width, bar, gap = 150, 300, 12, 8
    group = bar * len(names) + gap
    height = 24 + group * len(cats) + 24
    out = [f"<svg class=plot xmlns='http://www.w3.org/2000/svg' width='{left + width + 190}' height='{height}' "
           f"role='img' aria-label='pass rate per category'><title>pass rate per category</title>"]
    for p in (0, 0.25, 0.5, 0.75, 1.0):
        x = left + p * width
        out.append(f"<line x1='{x:.1f}' y1='16' x2='{x:.1f}' y2='{height - 20}' stroke='#ddd'/>"
                   f"<text x='{x:.1f}' y='{height - 6}' text-anchor='middle' {FONT}>{p:.0%}</text>")
    for i, cat in enumerate(cats):
        y0 = 20 + i * group
        out.append(f"<text x='{left - 6}' y='{y0 + group / 2}' text-anchor='end' {FONT}>{_t(cat)}</text>")
        for j, n in enumerate(names):
            r = summary["configs"][n].get(key, {}).get(cat)
            y = y0 + j * bar
            if r is None:
                continue
            scored = r["passed"] + r["failed"]
            note = f"{r['passed']}/{scored}" + (f", {r['errors']} error" if r["errors"] else "")
            if r["pass_rate"] is None:
                out.append(f"<text x='{left + 4}' y='{y + bar - 2}' {FONT} fill='#8a5a00'>not scored ({note})</text>")
                continue
            w = r["pass_rate"] * width
            out.append(f"<rect class=bar x='{left}' y='{y}' width='{w:.1f}' height='{bar - 2}' fill='{COLOURS[j % 6]}'>"
                       f"<title>{_t(n)} · {_t(cat)}: {r['pass_rate']:.0%} ({note})</title></rect>")
            if r.get("ci"):
                lo, hi = (left + c * width for c in r["ci"])
                ym = y + (bar - 2) / 2
                out.append(f"<line x1='{lo:.1f}' y1='{ym}' x2='{hi:.1f}' y2='{ym}' stroke='#333'/>")
            out.append(f"<text x='{left + width + 6}' y='{y + bar - 2}' {FONT}>{_t(note)}</text>")
    out += _legend(names, left + width + 70, 4)
    return "".join(out) + "</svg>"


def _legend(names: Sequence[str], x: float, y: float) -> list[str]:
    return [f"<rect x='{x}' y='{y + 14 * j}' width='10' height='10' fill='{COLOURS[j % 6]}'/>"
            f"<text x='{x + 14}' y='{y + 9 + 14 * j}' {FONT}>{_t(n[:18])}</text>" for j, n in enumerate(names)]


def latency_strip(samples: list[dict[str, Any]], names: Sequence[str]) -> str:
    """One row per config: every scored sample's ``ms`` as a dot on a log axis, the median as a bar."""
    per = {n: [float(s["ms"]) for s in samples if s["config"] == n and s.get("ms") and s["status"] != "error"]
           for n in names}
    every = [v for vs in per.values() for v in vs]
    if not every:
        return ""
    lo = 10 ** math.floor(math.log10(max(min(every), 0.1)))
    hi = 10 ** math.ceil(math.log10(max(every) * 1.001))
    left, width, row = 150, 360, 26
    height = 20 + row * len(names) + 24

    def x(v: float) -> float:
        return left + width * (math.log10(max(v, lo)) - math.log10(lo)) / (math.log10(hi) - math.log10(lo))

    out = [f"<svg class=plot xmlns='http://www.w3.org/2000/svg' width='{left + width + 190}' height='{height}' "
           f"role='img' aria-label='latency per sample'><title>latency per sample (log scale)</title>"]
    t = lo
    while t <= hi * 1.0001:
        label = f"{t / 1000:g} s" if t >= 1000 else f"{t:g} ms"
        out.append(f"<line x1='{x(t):.1f}' y1='12' x2='{x(t):.1f}' y2='{height - 20}' stroke='#ddd'/>"
                   f"<text x='{x(t):.1f}' y='{height - 6}' text-anchor='middle' {FONT}>{label}</text>")
        t *= 10
    for j, n in enumerate(names):
        y = 20 + j * row + row / 2
        vs = per[n]
        out.append(f"<text x='{left - 6}' y='{y + 4}' text-anchor='end' {FONT}>{_t(n[:22])}</text>")
        for v in vs:
            out.append(f"<circle class=dot cx='{x(v):.1f}' cy='{y}' r='3' fill='{COLOURS[j % 6]}' fill-opacity='0.5'/>")
        if vs:
            med = statistics.median(vs)
            out.append(f"<line x1='{x(med):.1f}' y1='{y - 9}' x2='{x(med):.1f}' y2='{y + 9}' stroke='#000' stroke-width='2'>"
                       f"<title>median {med:.0f} ms</title></line>"
                       f"<text x='{left + width + 8}' y='{y + 4}' {FONT}>median {med:.0f} ms (n={len(vs)})</text>")
    return "".join(out) + "</svg>"
