"""Summaries of a run log: per config, pass / fail / error counts and rates with intervals.

Rates are computed over the *scored* samples only (pass + fail): an errored sample is
reported in its own column and never counted as a pass or a fail. Every rate comes
with a 95 % Wilson interval over the scored samples; with several epochs, also the
mean of the per-epoch pass rates and its 95 % interval (t-based) over epochs.
"""

from __future__ import annotations

import math
import statistics
from collections import defaultdict
from typing import Any, Sequence

from pertouch.evals.runlog import ERROR, FAIL, PASS

Z95 = 1.96
# two-sided 95 % t quantiles for 1..10 degrees of freedom (beyond: 1.96)
T95 = (12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228)


def wilson(k: int, n: int, z: float = Z95) -> tuple[float, float] | None:
    """The Wilson score interval of ``k`` successes in ``n`` trials (None when n is 0)."""
    if n == 0:
        return None
    p = k / n
    d = 1 + z * z / n
    c = (p + z * z / (2 * n)) / d
    h = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / d
    return (round(max(0.0, c - h), 4), round(min(1.0, c + h), 4))


def mean_ci(xs: Sequence[float]) -> dict[str, Any] | None:
    """Mean and 95 % t interval of per-epoch rates (None with fewer than one value)."""
    if not xs:
        return None
    m = statistics.fmean(xs)
    if len(xs) < 2:
        return {"mean": round(m, 4), "ci": None, "n": 1}
    t = T95[len(xs) - 2] if len(xs) - 1 <= len(T95) else Z95
    h = t * statistics.stdev(xs) / math.sqrt(len(xs))
    return {"mean": round(m, 4), "ci": (round(max(0.0, m - h), 4), round(min(1.0, m + h), 4)), "n": len(xs)}


def _rate(samples: list[dict[str, Any]]) -> dict[str, Any]:
    p = sum(s["status"] == PASS for s in samples)
    f = sum(s["status"] == FAIL for s in samples)
    e = sum(s["status"] == ERROR for s in samples)
    scored = p + f
    return {"n": len(samples), "passed": p, "failed": f, "errors": e,
            "pass_rate": round(p / scored, 4) if scored else None, "ci": wilson(p, scored)}


def summarise(samples: list[dict[str, Any]], configs: Sequence[str]) -> dict[str, Any]:
    """``{"configs": {name: {...counts, pass_rate, ci, epochs, scores, by_category, median_ms}}}``.

    ``scores``: the mean value of each scorer over the scored samples where it applies.
    """
    by_config: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for s in samples:
        by_config[s["config"]].append(s)
    out: dict[str, Any] = {}
    for name in configs:
        rows = by_config.get(name, [])
        res = _rate(rows)
        epochs: dict[int, list[dict[str, Any]]] = defaultdict(list)
        for s in rows:
            epochs[int(s["epoch"])].append(s)
        rates = [r["pass_rate"] for r in (_rate(v) for _, v in sorted(epochs.items())) if r["pass_rate"] is not None]
        res["epochs"] = mean_ci(rates) if len(epochs) > 1 else None
        vals: dict[str, list[float]] = defaultdict(list)
        units: dict[str, str] = {}
        for s in rows:
            if s["status"] == ERROR:
                continue
            for k, v in s["scores"].items():
                vals.setdefault(k, [])
                if v.get("unit") is not None:  # a measurement (dB, a plain number), not a rate
                    units[k] = v["unit"]
                if v["value"] is not None:
                    vals[k].append(float(v["value"]))
        res["scores"] = {k: (round(statistics.fmean(v), 4) if v else None) for k, v in vals.items()}
        res["units"] = units
        cats: dict[str, list[dict[str, Any]]] = defaultdict(list)
        for s in rows:
            cats[s.get("category") or "-"].append(s)
        res["by_category"] = {c: _rate(v) for c, v in sorted(cats.items())}
        splits: dict[str, list[dict[str, Any]]] = defaultdict(list)
        for s in rows:
            if s.get("split"):
                splits[s["split"]].append(s)
        res["by_split"] = {c: _rate(v) for c, v in sorted(splits.items())}
        ms = [s["ms"] for s in rows if s.get("ms") is not None and s["status"] != ERROR]
        res["median_ms"] = round(statistics.median(ms), 1) if ms else None
        res["error_messages"] = sorted({s["error"] for s in rows if s.get("error")})[:5]
        res["calls"] = call_totals(rows)
        out[name] = res
    return {"configs": out}


def call_totals(samples: list[dict[str, Any]]) -> dict[str, Any]:
    """The model calls of ``samples``: how many, how many failed, their median latency and
    the tokens the providers reported (None when none did)."""
    calls = [c for s in samples for c in s.get("calls") or []]
    tokens = [c["tokens"].get("total", 0) for c in calls if c.get("tokens")]
    ms = [c["ms"] for c in calls if c.get("ms") is not None]
    return {"n": len(calls), "errors": sum(1 for c in calls if c.get("error")),
            "median_ms": round(statistics.median(ms), 1) if ms else None,
            "tokens": sum(tokens) if tokens else None,
            "per_sample": round(len(calls) / len(samples), 2) if samples else None}
