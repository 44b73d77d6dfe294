"""Retouch eval cases: data, not code.

A case is one JSON line::

    {"id": "sky-brighter", "photo": "skimage:rocket", "instruction": "brighten the sky a little",
     "expect": {"class": "strong",
                "changes": [{"region": "sky", "attribute": "brightness", "direction": "up"}],
                "unchanged": ["vegetation"]}}

``photo`` is ``skimage:NAME`` (a photo scikit-image ships), ``matplotlib:FILE``
(matplotlib's sample data) or a path relative to the cases file. ``expect``:

- ``class``: the instruction class the agent should choose;
- ``changes``: per region label (or ``global``) and attribute, the direction the
  measured level must move (``up``, ``down``) by at least ``min`` (default 0.03);
- ``unchanged``: region labels whose levels must stay within 0.03 (when present);
- ``no_edit``: true when the right answer is no edit at all (out of scope, not found,
  "leave it", a question);
- ``may_skip``: true when both an edit and "nothing to change" are right (a weak
  request on a photo that may already be good);
- ``clean``: the render must pass the artefact gate (:mod:`pertouch.engine.measure.artefacts`);
- ``error``: the error kind the answer must report (``not-found``, ``out-of-scope`` …).

``regions`` (optional): per label, a box, a hand-labelled mask (``seg:``) or a mask
file where that label is measured, so the score does not depend on the agent's own
segmentation (see :mod:`pertouch.evals.case_regions`).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from pertouch.core.errors import InputError
from pertouch.evals.case_regions import GivenRegion

Direction = Literal["up", "down"]


class Change(BaseModel):
    model_config = ConfigDict(extra="forbid")

    region: str = Field(description="region label, or 'global' for the whole photo")
    attribute: str
    direction: Direction
    min: float = 0.03


class Expect(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    class_: str | None = Field(None, alias="class")
    changes: list[Change] = Field(default_factory=list)
    unchanged: list[str] = Field(default_factory=list)
    no_edit: bool = False
    may_skip: bool = False
    clean: bool = False
    error: str | None = None


class Case(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: str
    photo: str
    instruction: str
    user: str | None = None
    #: Optional grouping for reports and ``--filter`` (default: the expected class).
    category: str | None = None
    long_side: int = 384
    #: Where scored regions are, given by the case (:mod:`pertouch.evals.case_regions`):
    #: these labels are measured there, not in the regions the agent found.
    regions: dict[str, GivenRegion] = Field(default_factory=dict)
    expect: Expect = Field(default_factory=Expect)


def builtin_cases_path() -> Path:
    """The suite that ships with the package (``evals/cases/retouch.jsonl``)."""
    return Path(__file__).with_name("cases") / "retouch.jsonl"


def load_cases(path: str | Path | None = None) -> list[Case]:
    """Read a JSONL case file; one clear error line names the bad line."""
    p = Path(path) if path else builtin_cases_path()
    try:
        lines = p.read_text(encoding="utf-8").splitlines()
    except FileNotFoundError:
        raise InputError(f"case file not found: {p}") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"cannot read case file {p}: {exc}") from None
    cases: list[Case] = []
    for n, line in enumerate(lines, 1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        try:
            cases.append(Case.model_validate(json.loads(line)))
        except json.JSONDecodeError as exc:
            raise InputError(f"{p}:{n}: not valid JSON ({exc.msg})") from None
        except ValidationError as exc:
            err = exc.errors()[0]
            where = ".".join(str(x) for x in err["loc"])
            raise InputError(f"{p}:{n}: {where}: {err['msg']}") from None
    ids = [c.id for c in cases]
    dup = {i for i in ids if ids.count(i) > 1}
    if dup:
        raise InputError(f"{p}: duplicate case ids {sorted(dup)}")
    if not cases:
        raise InputError(f"{p} holds no cases")
    return cases
