"""The static, self-contained HTML report of a run (``RUN_DIR/report.html``).

No server and no network: inline CSS and a few lines of inline JavaScript (a filter
for failures and errors). Images are the run's own files, referenced relative to the
run folder (``images/…``), shown as thumbnails. Sections: the summary (one column per
config: pass / fail / error, pass rate with its 95 % interval, epochs, scorer means,
latency), pass rate per category, then one row per case and epoch: instruction,
before, and per config the verdict, the render, the answer and every check with its
explanation (and the error when the sample errored).
"""

from __future__ import annotations

import html
import json
from typing import Any

from pertouch.evals.report import pct, rate_cell, score_cell
from pertouch.evals.runlog import verdict

CSS = """
body{font:14px/1.4 system-ui,sans-serif;margin:1.5em;color:#222}
table{border-collapse:collapse;margin:.5em 0 1.5em}td,th{border:1px solid #ccc;padding:4px 8px;vertical-align:top}
th{background:#f3f3f3}.pass{color:#186a1e}.fail{color:#b3261e}.error{color:#8a5a00;font-weight:bold}
.badge{display:inline-block;padding:0 6px;border-radius:3px;color:#fff;font-size:12px}
.badge.pass{background:#2e7d32}.badge.fail{background:#c62828}.badge.error{background:#b26a00}
img.thumb{max-width:220px;max-height:220px;display:block;margin:3px 0}img.mask{max-width:160px;max-height:160px}
.pics{display:flex;gap:6px;align-items:flex-start}figure.masks{margin:0}ul.legend{list-style:none;padding:0;margin:0;
font-size:11px}.swatch{display:inline-block;width:9px;height:9px;margin-right:3px;border:1px solid #555}
svg.plot{display:block;margin:.3em 0 1em}.plots{display:flex;flex-wrap:wrap;gap:2em}
ul.checks{margin:3px 0;padding-left:1.1em;font-size:12px}.answer{font-size:12px;color:#444;max-width:28em}
.case-id{font-family:monospace}.muted{color:#777;font-size:12px}
ol.calls{font-size:12px;padding-left:1.4em;margin:2px 0}ol.calls pre{white-space:pre-wrap;max-width:40em;max-height:16em;
overflow:auto;background:#f7f7f7;margin:2px 0;padding:3px}details.calls>summary{font-size:12px;color:#444}
"""

JS = """
function applyFilter(){
  var v=document.getElementById('filter').value, n=0;
  document.querySelectorAll('tr.case').forEach(function(r){
    var s=r.getAttribute('data-status');
    var show = v==='all' || (v==='bad' && s!=='pass') || v===s;
    r.style.display = show ? '' : 'none'; if(show) n++;
  });
  document.getElementById('shown').textContent = n;
}
document.addEventListener('DOMContentLoaded', applyFilter);
"""

WORST = {"pass": 0, "fail": 1, "error": 2}


def e(x: Any) -> str:
    return html.escape("" if x is None else str(x))


def _summary_table(summary: dict[str, Any]) -> str:
    names = list(summary["configs"])
    keys = list(dict.fromkeys(k for c in summary["configs"].values() for k in c["scores"]))
    rows = [("pass", lambda c: f"<span class=pass>{c['passed']}</span>"),
            ("fail", lambda c: f"<span class=fail>{c['failed']}</span>"),
            ("error", lambda c: f"<span class=error>{c['errors']}</span>" if c["errors"] else "0"),
            ("pass rate [95% CI] (scored samples only)", lambda c: e(rate_cell(c))),
            ("over epochs [95% CI]", _epochs_cell)]
    rows += [(f"{k} (mean)", (lambda k: lambda c: e(score_cell(c, k)))(k)) for k in keys]
    rows.append(("median latency", lambda c: "–" if c["median_ms"] is None else f"{c['median_ms']:.0f} ms"))
    rows.append(("model calls (failed) · median call · tokens", _calls_cell))
    out = ["<table id=summary><tr><th></th>" + "".join(f"<th>{e(n)}</th>" for n in names) + "</tr>"]
    for label, cell in rows:
        out.append(f"<tr><th>{e(label)}</th>" + "".join(f"<td>{cell(summary['configs'][n])}</td>" for n in names)
                   + "</tr>")
    out.append("</table>")
    for n in names:
        c = summary["configs"][n]
        if c["errors"]:
            warn = " Every sample errored: nothing was scored." if c["passed"] + c["failed"] == 0 else ""
            out.append(f"<p class=error>{e(n)}: {c['errors']} errored sample(s), not counted in any rate.{warn} "
                       + e("; ".join(m[:200] for m in c.get("error_messages", []))) + "</p>")
    return "\n".join(out)


def _calls_cell(c: dict[str, Any]) -> str:
    k = c.get("calls") or {}
    if not k.get("n"):
        return "–"
    tok = "tokens not reported" if k.get("tokens") is None else f"{k['tokens']} tokens"
    return e(f"{k['n']} ({k['errors']}) · {k['median_ms'] or 0:.0f} ms · {tok}")


def _epochs_cell(c: dict[str, Any]) -> str:
    ep = c.get("epochs")
    if not ep or not ep.get("ci"):
        return "–"
    return e(f"{ep['mean']:.0%} [{ep['ci'][0]:.0%}–{ep['ci'][1]:.0%}] ({ep['n']} epochs)")


def _category_table(summary: dict[str, Any], key: str, title: str) -> str:
    names = list(summary["configs"])
    cats = list(dict.fromkeys(k for c in summary["configs"].values() for k in c.get(key, {})))
    if not cats:
        return ""
    out = [f"<h3>{e(title)}</h3><table class=cats><tr><th></th>" + "".join(f"<th>{e(n)}</th>" for n in names) + "</tr>"]
    for cat in cats:
        cells = []
        for n in names:
            r = summary["configs"][n].get(key, {}).get(cat)
            cells.append("<td>–</td>" if r is None else
                         f"<td>{e(rate_cell(r))} <span class=muted>{r['passed']}/{r['passed'] + r['failed']}"
                         + (f", {r['errors']} err" if r["errors"] else "") + "</span></td>")
        out.append(f"<tr><th>{e(cat)}</th>{''.join(cells)}</tr>")
    return "\n".join(out) + "</table>"


def _suite_tables(summary: dict[str, Any]) -> str:
    """A suite's own per-split summary (the segmentation suite: per kind mean IoU,
    boundary F, found and false-found rates, then the goals with their verdicts)."""
    out = []
    for name, per in (summary.get("suite_summary") or {}).items():
        for split, part in per.items():
            s = part["summary"]
            out.append(f"<h3>{e(name)}, {e(split)} split ({s['photos']} photos)</h3><table class=cats><tr><th>kind</th>"
                       "<th>IoU</th><th>boundary F</th><th>found when present</th><th>false-found when absent</th></tr>")
            for kind, k in s["kinds"].items():
                out.append(f"<tr><th>{e(kind)}</th><td>{_num(k['iou'])}</td><td>{_num(k['boundary_f'])}</td>"
                           f"<td>{pct(k['found_when_present'])} of {k['present']}</td>"
                           f"<td>{pct(k['false_found_when_absent'])} of {k['absent']}</td></tr>")
            out.append("</table><ul class=checks>" + "".join(
                f"<li class={ {True: 'pass', False: 'fail', None: 'muted'}[g['ok']]}>{e(g['goal'])}: "
                f"{_num(g['value'])} (goal {e(g['target'])})</li>" for g in part["goals"]) + "</ul>")
    return "\n".join(out)


def _img(path: str | None, alt: str) -> str:
    return f"<img class=thumb loading=lazy src='{e(path)}' alt='{e(alt)}'>" if path else "<span class=muted>no image</span>"


def _masks(masks: dict[str, Any] | None, cid: str) -> str:
    """The region masks drawn on the photo, with a legend (colour, name, given by the case or found by the agent)."""
    if not masks:
        return ""
    legend = "".join(f"<li><span class=swatch style='background:{e(m['colour'])}'></span>{e(m['name'])} "
                     f"<span class=muted>({e(m['source'])}, {m['area']:.0%})</span></li>" for m in masks["legend"])
    return (f"<figure class=masks><img class='thumb mask' loading=lazy src='{e(masks['image'])}' alt='{e(cid)} masks'>"
            f"<figcaption><ul class=legend>{legend}</ul></figcaption></figure>")


def _num(v: float | None) -> str:
    return "" if v is None else f"{v:.2f}"


def _cell(s: dict[str, Any] | None) -> str:
    if s is None:
        return "<td class=muted>not run</td>"
    st = s["status"]
    parts = [f"<span class='badge {st}'>{st.upper()}</span>"]
    if st == "error":
        parts.append(f"<div class=error>{e(s['error'])}</div>")
    else:
        if s.get("image") or s.get("masks"):
            pics = _img(s["image"], f"{s['id']} after") if s.get("image") else "<span class=muted>no render</span>"
            parts.append(f"<div class=pics>{pics}{_masks(s.get('masks'), s['id'])}</div>")
        if s.get("answer"):
            parts.append(f"<div class=answer>{e(s['answer'][:400])}</div>")
        checks = "".join(f"<li class={ {True: 'pass', False: 'fail', None: 'muted'}[verdict(v)]}>"
                         f"<b>{e(k)}</b> {_num(v['value'])}: {e(v['explanation'])}</li>"
                         for k, v in s["scores"].items() if v["value"] is not None)
        parts.append(f"<ul class=checks>{checks}</ul>")
    if s.get("calls"):
        parts.append(_calls(s["calls"]))
    if s.get("timings_ms"):
        t = ", ".join(f"{k} {v:.0f}" for k, v in s["timings_ms"].items())
        parts.append(f"<details class=muted><summary>{s.get('ms') or 0:.0f} ms</summary>{e(t)} ms"
                     + (f"<pre>{e(json.dumps(s['recipe'], indent=1)[:2000])}</pre>" if s.get("recipe") else "")
                     + "</details>")
    return "<td>" + "".join(parts) + "</td>"


def _tokens(t: dict[str, int] | None) -> str:
    if not t:
        return "tokens not reported"
    return " + ".join(f"{t[k]} {k}" for k in ("prompt", "completion") if k in t) or f"{t.get('total')} tokens"


def _calls(calls: list[dict[str, Any]]) -> str:
    """The model calls of a sample: role, provider, latency, tokens, error; the prompt
    and the raw reply of each (and of each retried request) folded."""
    failed = sum(1 for c in calls if c.get("error"))
    items = []
    for c in calls:
        head = (f"<b>{e(c['role'])}</b> {e(c['provider'])} · {c.get('ms') or 0:.0f} ms · {e(_tokens(c.get('tokens')))}"
                + (f" · <span class=error>{e(c['error'][:300])}</span>" if c.get("error") else ""))
        body = [f"<div class=muted>prompt (digest {e(c.get('prompt_digest'))})</div><pre>{e(c.get('prompt'))}</pre>",
                f"<div class=muted>reply</div><pre>{e(c.get('reply'))}</pre>"]
        for n, a in enumerate(c.get("attempts") or [], 1):
            if len(c["attempts"]) > 1:
                body.append(f"<div class=muted>request {n}: {a.get('ms') or 0:.0f} ms, {e(_tokens(a.get('tokens')))}"
                            f"{', ' + e(a['error'][:300]) if a.get('error') else ''}</div><pre>{e(a.get('reply'))}</pre>")
        items.append(f"<li><details><summary>{head}</summary>{''.join(body)}</details></li>")
    return (f"<details class=calls><summary>{len(calls)} model call(s)"
            + (f", <span class=error>{failed} failed</span>" if failed else "")
            + f"</summary><ol class=calls>{''.join(items)}</ol></details>")


def _plots(summary: dict[str, Any], samples: list[dict[str, Any]]) -> str:
    from pertouch.evals.plots import latency_strip, pass_rate_bars

    bars, lat = pass_rate_bars(summary), latency_strip(samples, list(summary["configs"]))
    if not bars and not lat:
        return ""
    return ("<h3>Plots</h3><div class=plots>"
            + (f"<div><div class=muted>pass rate per category (whisker: 95% interval; errors not in the rate)</div>{bars}</div>"
               if bars else "")
            + (f"<div><div class=muted>wall time per sample, log scale (bar: median)</div>{lat}</div>" if lat else "")
            + "</div>")


def render_html(spec: dict[str, Any], summary: dict[str, Any], samples: list[dict[str, Any]]) -> str:
    names = list(summary["configs"])
    grid: dict[tuple[str, int], dict[str, dict[str, Any]]] = {}
    for s in samples:
        grid.setdefault((s["id"], int(s["epoch"])), {})[s["config"]] = s
    rows = []
    for (cid, epoch), by in grid.items():
        first = next(iter(by.values()))
        worst = max((x["status"] for x in by.values()), key=WORST.__getitem__)
        inp = first["input"]
        text = inp.get("instruction") or inp.get("text") or inp.get("title") or ""
        turns = inp.get("turns")
        if turns:
            text = " → ".join(t.get("say", "") for t in turns)
        rows.append(f"<tr class=case data-status={worst} id='{e(cid)}-e{epoch}'>"
                    f"<td><span class=case-id>{e(cid)}</span><br><span class=muted>{e(first.get('category'))}"
                    f"{' · epoch ' + str(epoch) if spec.get('epochs', 1) > 1 else ''}</span>"
                    f"<p>{e(text)}</p>{_img(first.get('before_image'), cid + ' before') if first.get('before_image') else ''}</td>"
                    + "".join(_cell(by.get(n)) for n in names) + "</tr>")
    counts = {k: sum(1 for r in rows if f"data-status={k}" in r) for k in WORST}
    return f"""<!doctype html>
<html lang=en><head><meta charset=utf-8><title>PerTouch eval — {e(spec['suite'])}</title>
<style>{CSS}</style><script>{JS}</script></head><body>
<h1>PerTouch eval — suite <code>{e(spec['suite'])}</code></h1>
<p class=muted>started {e(spec.get('started'))}; cases {e(spec.get('cases') or 'bundled')}; epochs {e(spec.get('epochs', 1))};
an <span class=error>error</span> is a sample that could not be scored (the model failed, bad settings, a crash) and counts in no rate.</p>
<h2>Summary</h2>
{_summary_table(summary)}
{_category_table(summary, 'by_split', 'Pass rate per split')}
{_category_table(summary, 'by_category', 'Pass rate per category')}
{_plots(summary, samples)}
{_suite_tables(summary)}
<h2>Cases</h2>
<p><label>Show <select id=filter onchange=applyFilter()>
<option value=all>all</option><option value=bad>failures and errors</option>
<option value=fail>failures</option><option value=error>errors</option><option value=pass>passes</option>
</select></label> — <span id=shown>{len(rows)}</span> of {len(rows)} rows
({counts['pass']} all-pass, {counts['fail']} with a failure, {counts['error']} with an error)</p>
<table id=cases><tr><th>case</th>{''.join(f'<th>{e(n)}</th>' for n in names)}</tr>
{''.join(rows)}
</table></body></html>
"""
