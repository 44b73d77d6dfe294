"""The one numba switch (engine/ops/jit.py): compiled kernels with numba, the plain function without;
no other module of the library decides numba itself."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np

from pertouch.engine.ops import jit

ROOT = Path(__file__).resolve().parents[3]


def _twice(a, out):
    for i in jit.prange(a.size):
        out[i] = 2 * a[i]


def test_compiled_with_numba_plain_without(monkeypatch):
    a, out = np.arange(5, dtype=np.float64), np.zeros(5)
    fast = jit.compiled(_twice, parallel=True, cache=False)
    assert jit.HAVE_NUMBA and fast is not _twice
    fast(a, out)
    assert out.tolist() == [0, 2, 4, 6, 8]
    monkeypatch.setattr(jit, "HAVE_NUMBA", False)
    assert jit.compiled(_twice, nogil=True) is _twice


def test_nothing_but_the_switch_decides_numba():
    """The engine's kernels compile under ``HAVE_NUMBA``; nothing above the engine imports numba at all
    (the tools compile through :func:`jit.compiled`)."""
    unswitched, above = [], []
    for folder in ("core", "engine", "tools", "memory", "graph", "batch", "evals", "web", "app"):
        for f in (ROOT / folder).rglob("*.py"):
            name = f.relative_to(ROOT).as_posix()
            if name == "engine/ops/jit.py":
                continue  # the switch
            text = f.read_text()
            if not re.search(r"^\s*(import numba|from numba)", text, re.MULTILINE):
                continue
            if folder != "engine":
                above.append(name)
            elif "from pertouch.engine.ops.jit import HAVE_NUMBA" not in text:
                unswitched.append(name)
    assert above == [], f"these import numba themselves: {above}; compile with pertouch.engine.ops.jit.compiled"
    assert unswitched == [], f"these decide numba themselves: {unswitched}; ask pertouch.engine.ops.jit.HAVE_NUMBA"
