"""Make docs/gallery/: before/after pairs of weak instructions and every style.

    python scripts/gallery.py [--out docs/gallery] [--photos chelsea,china] [--only enhance,moody]
                              [--inspect /tmp/gallery-full]

Runs the whole agent (builtin brain, builtin segmenter, parametric engine, no
memory) on the bundled tuning photos — scikit-image's chelsea, coffee, astronaut
and rocket, scikit-learn's china and flower — with the weak instructions
"make it look better", "enhance", "fix the colours" and one instruction per style
of :mod:`pertouch.graph.vlm.builtin.styles` ("a <style> look"). Each result is a
side-by-side JPEG (before | after, each half ≤ 320 px, the pair ≤ 640 px wide and
≤ ``--max-kb``); instructions that plan the same recipe on a photo share one file.
``README.md`` lists every pair with the instruction's class, the answer's first
words when nothing was changed, and the recipe used. ``--inspect`` also writes
full-size PNG pairs (to look at region edges closely).
"""

from __future__ import annotations

import argparse
import hashlib
import io
import json
import sys
import tempfile
from pathlib import Path

import numpy as np
from PIL import Image

PHOTOS = {"chelsea": "skimage:chelsea", "coffee": "skimage:coffee", "astronaut": "skimage:astronaut",
          "rocket": "skimage:rocket", "china": "sklearn:china.jpg", "flower": "sklearn:flower.jpg"}
WEAK = ("make it look better", "enhance", "fix the colours")
HALF, GAP, MAX_H = 316, 8, 240  # two halves and a gap: 640 px; at most 240 px high


def instructions() -> list[tuple[str, str]]:
    """(slug, instruction) for the weak instructions and one per style."""
    from pertouch.graph.vlm.builtin.styles import style_names

    out = [(w.replace(" ", "-"), w) for w in WEAK]
    return out + [(s, f"a {s.replace('-', ' ')} look") for s in style_names()]


def pair(before: np.ndarray, after: np.ndarray, half: int = HALF, max_h: int | None = MAX_H) -> Image.Image:
    """before | after, each scaled to ``half`` px wide (or ``max_h`` high), on white."""
    ims = [Image.fromarray(a) for a in (before, after)]
    h = round(half * ims[0].height / ims[0].width)
    if max_h and h > max_h:
        half, h = round(max_h * ims[0].width / ims[0].height), max_h
    ims = [im.resize((half, h), Image.Resampling.LANCZOS) for im in ims]
    out = Image.new("RGB", (2 * half + GAP, h), "white")
    out.paste(ims[0], (0, 0))
    out.paste(ims[1], (half + GAP, 0))
    return out


def jpeg(im: Image.Image, max_bytes: int) -> bytes:
    """The best JPEG quality that fits ``max_bytes``."""
    for q in (85, 80, 75, 70, 65, 60, 55, 50, 45, 40):
        buf = io.BytesIO()
        im.save(buf, "JPEG", quality=q, optimize=True, progressive=True)
        if buf.tell() <= max_bytes:
            break
    return buf.getvalue()


def recipe_text(recipe: dict | None) -> str:
    """``region attribute by/to`` entries of a recipe, or "—"."""
    if not recipe:
        return "—"
    parts = []
    scopes = [("global", recipe.get("global") or {}), *(recipe.get("regions") or {}).items()]
    for name, r in scopes:
        for a, e in (r.get("attributes") or {}).items():
            v = f"by {e['by']:+.2f}" if e.get("by") is not None else f"to {e['to']:+.2f}"
            parts.append(f"{name} {a} {v}")
    return ", ".join(parts) or "—"


def artefacts(before: np.ndarray, after: np.ndarray) -> str:
    """The artefact gate's verdict on a pair (:mod:`pertouch.engine.measure.artefacts`): "clean" or what failed."""
    from pertouch.engine.measure.artefacts import measure_artefacts

    rep = measure_artefacts(before, after)
    return "clean" if not rep.failed else "; ".join(f"{k} {getattr(rep, k):.2f}" for k in rep.failed)


def run(path: Path, instruction: str) -> dict:
    from pertouch.graph.builder import build_graph
    from pertouch.graph.context import load_context

    return build_graph(internal=True).invoke({"image_path": str(path), "instruction": instruction},
                                context=load_context(use_memory=False))


def after_pixels(out: dict) -> np.ndarray:
    """The result at full resolution, uint8 (the input when nothing was changed)."""
    from pertouch.graph import runtime as rt
    from pertouch.graph.context import RunContext

    ctx = RunContext()
    ref = out["image"]
    if not out.get("result"):
        return rt.to8(rt.photo(ref).pixels)
    res = rt.render(ref, out["result"]["recipe"], segmenter=ctx.segmenter, engine=ctx.engine, long_side=None)
    return rt.to8(res.image)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", default="docs/gallery")
    ap.add_argument("--photos", default=",".join(PHOTOS))
    ap.add_argument("--only", default="", help="comma-separated slugs (default: all)")
    ap.add_argument("--max-kb", type=int, default=18)
    ap.add_argument("--inspect", default="", help="also write full-size PNG pairs here")
    args = ap.parse_args(argv)

    from pertouch.evals.photos import load_photo
    from pertouch.graph import runtime as rt

    out_dir = Path(args.out)
    out_dir.mkdir(parents=True, exist_ok=True)
    inspect = Path(args.inspect) if args.inspect else None
    if inspect:
        inspect.mkdir(parents=True, exist_ok=True)
    only = {s for s in args.only.split(",") if s}
    todo = [(s, i) for s, i in instructions() if not only or s in only]
    rows: list[dict] = []
    with tempfile.TemporaryDirectory() as tmp:
        for key in [p for p in args.photos.split(",") if p]:
            src = PHOTOS[key]
            path = Path(tmp) / f"{key}.png"
            Image.fromarray(load_photo(src)).save(path)
            before = rt.to8(load_photo(src))
            files: dict[str, str] = {}
            for slug, text in todo:
                out = run(path, text)
                recipe = (out.get("result") or {}).get("recipe")
                digest = hashlib.sha1(json.dumps(recipe, sort_keys=True).encode()).hexdigest()[:10]
                after = after_pixels(out)
                if digest not in files:
                    name = f"{key}__{slug}.jpg"
                    (out_dir / name).write_bytes(jpeg(pair(before, after), args.max_kb * 1024))
                    if inspect:
                        pair(before, after, half=before.shape[1], max_h=None).save(inspect / f"{key}__{slug}.png")
                    files[digest] = name
                gate = artefacts(before, after) if out.get("result") else "unchanged"
                style = (out.get("intent") or {}).get("style")
                rows.append({"photo": key, "source": src, "instruction": text, "file": files[digest],
                             "class": out.get("instruction_class"), "style": style, "status": out.get("status"),
                             "recipe": recipe_text(recipe), "notes": (out.get("plan") or {}).get("notes", ""),
                             "rounds": len(out.get("rounds") or []), "gate": gate})
                print(f"{key:10s} {text:28s} {out.get('instruction_class')}/{style or '-'} → {files[digest]} "
                      f"[{rows[-1]['rounds']} round(s); {gate}]: {rows[-1]['recipe']}", flush=True)
    if not only and args.photos == ",".join(PHOTOS):
        write_readme(out_dir, rows)
    return 0


def write_readme(out_dir: Path, rows: list[dict]) -> None:
    lines = [
        "# Gallery: weak instructions and styles",
        "",
        "Made by `python scripts/gallery.py` (the whole agent: builtin brain, builtin segmenter,",
        "parametric engine, critic, no memory; `--inspect DIR` also writes full-size PNG pairs).",
        "Each image is before | after. Levels are absolute positions among expert-retouched photos",
        "(0 = typical); `by` is a shift from the photo's measured level; the recipe is the one of",
        "the round the agent kept. *Rounds* > 1: the critic asked for another round (the artefact",
        "gate softens an edit that shifted skin hue, for one). *Artefact gate*: the verdict of",
        "`engine/measure/artefacts.py` on the full-size pair (blotches, halos, noise, banding, clipping).",
        "",
        "How the plans are made (`graph/vlm/builtin/optimize.py`, `graph/vlm/builtin/styles.py`):",
        "",
        "- **Weak instructions** (\"make it look better\", \"enhance\", \"fix the colours\") nudge: exposure",
        "  (only lifted), contrast (only stretched), saturation and white balance from the photo's",
        "  statistics, each at most 0.15 on the whole photo and 0.10 more on a region; high-key,",
        "  low-key, night, warm light and monochrome are left as meant; a photo that needs nothing",
        "  gets nothing, and the answer says why.",
        "- **Styles** choose operator strengths within physical caps (e.g. 50 mired of white balance,",
        "  ×1.41 colour; a light look like golden hour 100 mired), scale them back while they would",
        "  clip the photo or turn its whites blue or yellow, and plan the levels those strengths",
        "  reach. Region edits only on sure skies and people, never against the whole photo.",
        "",
        "Looked at: every pair at full size, and zoomed where region edges meet (the pagoda roof",
        "and finial against china's sky, the tree line, the astronaut's hair against the backdrop,",
        "the flower's petals against the leaves, the coffee cup's rim).",
        "",
    ]
    for key in dict.fromkeys(r["photo"] for r in rows):
        mine = [r for r in rows if r["photo"] == key]
        lines += [f"## {key} (`{mine[0]['source']}`)", "",
                  "| instruction | understood | image | recipe | rounds | artefact gate |", "|---|---|---|---|---|---|"]
        for r in mine:
            what = r["class"] + (f" ({r['style']})" if r["style"] else "")
            recipe = r["recipe"] if r["recipe"] != "—" else "nothing to change: " + _why(r["notes"])
            lines.append(f"| {r['instruction']} | {what} | [{r['file']}]({r['file']}) | {recipe} | {r['rounds']} "
                         f"| {r['gate']} |")
        lines.append("")
    (out_dir / "README.md").write_text("\n".join(lines))


def _why(notes: str) -> str:
    """The reason part of an empty plan's notes, short, table-safe."""
    text = notes.removeprefix("nothing to change: ")
    return text.replace("|", "/")


if __name__ == "__main__":
    sys.exit(main())
