"""``pertouch retouch INPUT "INSTRUCTION" [-o OUT]``: one-shot retouch by the agent.

Writes OUT (default: ``INPUT-retouched.EXT`` beside the input) and its recipe sidecar
``OUT.pertouch.json``; prints what was understood
(instruction class, regions found, the recipe, rounds taken and why it stopped) and
the time per node; ``--json`` prints the same as one JSON object on stdout. Progress
goes to stderr.

``--box NAME=X0,Y0,X1,Y1`` / ``--point NAME=X,Y`` point at a region the segmenter
does not know; it joins the scene under NAME for this run, so "make the flower more
vivid" with ``--box flower=…`` edits exactly that region.

Requests that ask for no edit are answered in words and render nothing: "don't
change anything" (no-op), a question ("is it too dark?": the answer and suggestions
from the measured levels) and "undo" (nothing to undo in a one-shot run). They exit
0 and write no file — except a no-op with an explicit ``-o``, which writes OUT as a
byte-identical copy of the input (no sidecar) and says so.

Exit codes: 0 done (possibly partially: the answer says what was missing) or answered
(no-op, question, undo), 3 nothing could be done (out of scope, nothing found, the model failed — the answer
says why; no output file is written), 2 bad input (unreadable photo, bad option, a
box outside the photo or one whose contents cannot be separated).
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any, Optional

import typer

from pertouch.commands._common import BOX_HELP, POINT_HELP, SEGMENTER_HELP
from pertouch.commands.export import EXPORT_HELP, check_format, export_after, planned_targets

EXIT_NOTHING_DONE = 3
#: Instruction classes answered in words (exit 0, nothing rendered).
ANSWER_ONLY = ("no-op", "question", "undo")


def default_output(input: Path) -> Path:
    """Where the result goes without ``-o``: ``INPUT-retouched.EXT`` beside the input."""
    return input.with_name(f"{input.stem}-retouched{input.suffix}")


def copy_unchanged(input: Path, output: Path) -> Path:
    """Write ``output`` as a byte-identical copy of ``input`` (nothing to do when they are one file)."""
    import shutil

    from pertouch.engine.io.read import same_file

    if not same_file(input, output):
        shutil.copyfile(input, output)
    return output


def _progress(graph: Any, inputs: dict, ctx: Any, console: Any) -> dict:
    """Run the graph, showing the current step on stderr; returns the final state."""
    labels = {"perceive": "finding regions", "classify": "reading the instruction", "recall": "recalling your taste",
              "plan": "planning round {r}", "render": "rendering round {r}", "critique": "checking round {r}",
              "respond": "answering", "remember": "remembering"}
    final: dict = {}
    with console.status("loading the photo and finding regions…") as status:
        for mode, chunk in graph.stream(inputs, context=ctx, stream_mode=["updates", "values"]):
            if mode == "values":
                final = chunk
                continue
            for node in chunk:
                nxt = {"perceive": "classify", "classify": "plan", "recall": "plan", "plan": "render",
                       "render": "critique", "critique": "plan", "respond": "respond"}.get(node, node)
                r = int(final.get("round") or 0) + (1 if node == "critique" else 0)
                status.update(labels.get(nxt, nxt).format(r=max(1, r)) + "…")
                console.log(f"{node} done")
    return final


def summary(state: dict, out: Path | None, total_ms: float, *, sidecar: bool = True) -> dict[str, Any]:
    """The machine-readable summary of a run (what ``--json`` prints); ``sidecar`` False:
    OUT is an unchanged copy of the input (a no-op with ``-o``), written without a recipe."""
    result = state.get("result") or {}
    return {
        "status": state.get("status"),
        "output": str(out) if out else None,
        "sidecar": f"{out}.pertouch.json" if out and sidecar else None,
        "instruction": state.get("instruction"),
        "instruction_class": state.get("instruction_class"),
        "intent": state.get("intent"),
        "regions": [{k: r[k] for k in ("name", "label", "confidence", "area")} for r in state.get("regions") or []],
        "recipe": result.get("recipe"),
        "rounds": len(state.get("rounds") or []),
        "best_round": result.get("round"),
        "stop_reason": state.get("stop_reason"),
        "achieved": result.get("achieved", []),
        "critique": result.get("critique"),
        "errors": state.get("errors") or [],
        "remembered": bool(state.get("remembered")),
        "answer": state.get("answer"),
        "timings_ms": {**(state.get("timings_ms") or {}), "total": round(total_ms, 1)},
    }


def _print_human(s: dict[str, Any]) -> None:
    from rich.console import Console

    con = Console(highlight=False, soft_wrap=True)
    con.print(s["answer"] or "")
    if s["recipe"]:
        con.print("Recipe:")
        rec = s["recipe"]
        for name, entry in [("global", rec.get("global", {})), *rec.get("regions", {}).items()]:
            for attr, e in (entry.get("attributes") or {}).items():
                how = f"to {e['to']:+.2f}" if "to" in e else f"by {e['by']:+.2f}"
                con.print(f"  {name}.{attr} {how}")
    if s["output"] and s["sidecar"]:
        con.print(f"Wrote {s['output']} and {s['sidecar']}")
    elif s["output"]:
        con.print(f"Copied the input unchanged to {s['output']} (nothing was changed).")
    t = s["timings_ms"]
    con.print("Time: " + ", ".join(f"{k} {v:.0f} ms" for k, v in t.items()))


def _warn_unused(pointers: list, recipe: dict) -> None:
    """Say on stderr when the recipe edits none of the regions the user pointed at."""
    from pertouch.tools.pointing import DEFAULT_NAME

    edited = set(recipe.get("regions") or {})
    if len(pointers) == 1 and DEFAULT_NAME in edited:
        return
    unused = [p.name for p in pointers if p.name not in edited]
    if unused:
        example = next((n for n in unused if n != DEFAULT_NAME), "flower")
        typer.echo(f"warning: the recipe leaves the pointed region {', '.join(unused)} alone (the instruction "
                   f"was read as naming other regions or the whole photo); name it, e.g. --box {example}=… "
                   f'"make the {example} brighter"', err=True)


def _raise_problem(state: dict[str, Any]) -> None:
    """A problem the graph found before it could try (a bad photo, a model folder that is
    missing, invalid settings) is the CLI's bad input: one line, exit 2. A model that failed
    while answering is "nothing could be done" (exit 3, the answer says why)."""
    from pertouch.core.errors import PertouchError

    prob = state.get("problem") or {}
    if prob.get("kind") in ("input", "settings", "not-found"):
        raise PertouchError(prob["message"], hint=prob.get("hint") or None)


def retouch(
    input: Path = typer.Argument(..., help="Photo to retouch (JPEG, PNG, TIFF, WebP)."),
    instruction: str = typer.Argument(..., help='What to do, in words: "brighter sky", "make it pop", "Kodak film".'),
    output: Optional[Path] = typer.Option(None, "-o", "--output", help="Where to write the result (+ OUT.pertouch.json); "
                                          "default INPUT-retouched.EXT beside the input. A request for no change "
                                          "(\"leave it as it is\") with -o writes an unchanged copy."),
    vlm: Optional[str] = typer.Option(None, "--vlm", help="Model: builtin (default, offline), openai:MODEL, hf:PATH, fake:FILE."),
    user: Optional[str] = typer.Option(None, "--user", help="Whose taste to recall and remember."),
    remember: bool = typer.Option(False, "--remember", help="Store the result as accepted for --user."),
    as_json: bool = typer.Option(False, "--json", help="Print a machine-readable summary on stdout."),
    max_rounds: Optional[int] = typer.Option(None, "--max-rounds", help="Most renders in the rethinking loop (default 3)."),
    segmenter: Optional[str] = typer.Option(None, "--segmenter", help=SEGMENTER_HELP),
    overwrite: bool = typer.Option(False, "--overwrite", help="Allow -o to be the input file (it is replaced)."),
    no_memory: bool = typer.Option(False, "--no-memory", help="Neither recall nor remember (memory is used only "
                                   "with --user, --remember or $PERTOUCH_USER)."),
    box: list[str] = typer.Option([], "--box", metavar="[NAME=]X0,Y0,X1,Y1",
                                  help=BOX_HELP + ' Say its name: --box flower=… "make the flower more vivid".'),
    point: list[str] = typer.Option([], "--point", metavar="[NAME=]X,Y", help=POINT_HELP),
    export: Optional[str] = typer.Option(None, "--export", metavar="xmp|pp3", help=EXPORT_HELP),
) -> None:
    """Retouch a photo from a plain-language instruction (exit 3: nothing could be done; questions,
    "undo" and requests for no change are answered without writing a file, exit 0)."""
    from rich.console import Console

    from pertouch.core.errors import InputError
    from pertouch.graph import runtime as rt
    from pertouch.graph.builder import build_graph
    from pertouch.graph.context import ROLES, load_context
    from pertouch.graph.output import write_result

    t0 = time.perf_counter()
    import os

    # memory (ChromaDB + MiniLM, seconds to open) only when a user is named or asked to remember
    wants_memory = bool(user or remember or os.environ.get("PERTOUCH_USER")) and not no_memory
    ctx = load_context(vlm=vlm, user=user, max_rounds=max_rounds, segmenter=segmenter, use_memory=wants_memory,
                       cache=rt.process_cache())  # the CLI's runs share this process's cache
    if not instruction.strip():
        raise InputError("the instruction is empty", hint='say what to change, e.g. "brighter sky"')
    from pertouch.commands._common import parse_pointers
    from pertouch.engine.io.outputs import plan_outputs

    pointers = parse_pointers(box, point)  # bad --box/--point: exit 2 before any work
    for spec in dict.fromkeys(ctx.model_for(role) for role in ROLES):
        # a model that cannot be loaded (a missing folder, a bad spec): exit 2 before any work
        rt.vlm(spec, cache=ctx.cache)
    ref = rt.open_photo(input, cache=ctx.cache)  # bad input: exit 2 before any work
    target = output if output is not None else default_output(input)
    plan_outputs([input], target, overwrite=overwrite)  # bad output path: exit 2 before any work
    export = check_format(export, "--export")
    planned_targets([(input, target)], export, overwrite)  # a foreign sidecar there: exit 2 before any work
    console = Console(stderr=True)
    inputs = {"image_path": ref["path"], "instruction": instruction, "accept": remember}
    if pointers:
        for p in pointers:  # outside the photo: exit 2 before any work
            p.check(ref["width"], ref["height"])
        inputs["pointers"] = [{**p.to_json(), "photo": ref["hash"]} for p in pointers]
        # nothing separable (or a name the photo's regions use): exit 2 before the agent runs
        with console.status("finding regions and separating the pointed ones…"):
            rt.add_pointed(ref, ctx.segmenter, inputs["pointers"], cache=ctx.cache)
    if user:
        inputs["user"] = user
    state = _progress(build_graph(anywhere=True), inputs, ctx, console)
    _raise_problem(state)
    out, kind = None, state.get("instruction_class")
    if state.get("result"):
        console.log("writing the full-resolution result")
        out = write_result(ref, state["result"]["recipe"], target, ctx=ctx,
                           meta={"instruction": instruction, "vlm": ctx.vlm}, overwrite=overwrite)
    elif kind == "no-op" and output is not None:  # asked for the file: the photo, unchanged
        out = copy_unchanged(input, output)
    exported = export_after([(input, out)], export, True) if out is not None and state.get("result") else 0
    if out is not None and pointers:
        _warn_unused(pointers, state["result"]["recipe"])
    s = summary(state, out, (time.perf_counter() - t0) * 1000.0, sidecar=bool(state.get("result")))
    if as_json:
        from pertouch.commands._common import print_json

        print_json(s)
    else:
        _print_human(s)
    if out is None and kind not in ANSWER_ONLY:
        raise typer.Exit(EXIT_NOTHING_DONE)
    if exported:
        raise typer.Exit(exported)


def register(app: typer.Typer) -> None:
    from pertouch.cli import handle_errors

    app.command("retouch")(handle_errors(retouch))
