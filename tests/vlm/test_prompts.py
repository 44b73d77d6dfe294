"""Prompts are built from the attribute registry and state level semantics correctly."""

from __future__ import annotations

import json

from pertouch.engine.schema.attributes import attributes
from pertouch.graph.vlm import prompts
from pertouch.graph.vlm.builtin.styles import STYLES
from pertouch.graph.vlm.magnitudes import MAGNITUDES, PLAIN
from pertouch.graph.vlm.schemas import Intent, Measured


def test_every_attribute_synonym_and_range_is_in_every_system_prompt():
    for role in ("describe", "classify", "plan", "critique"):
        text = prompts.system(role)
        for a in attributes():
            assert f"- {a.name} (" in text
            assert a.synonyms[0] in text and a.high_words[0] in text
            assert f"Level in [{a.level_range[0]:g}, {a.level_range[1]:g}]" in text


def test_level_semantics_are_absolute_and_zero_is_not_no_change():
    text = prompts.system("plan")
    assert "ABSOLUTE" in text and "NOT 'no change'" in text and "RELATIVE" in text
    assert "no change" not in text.replace("NOT 'no change'", "")  # never says 0 means no change


def test_classify_prompt_has_scale_styles_and_schema():
    text = prompts.system("classify")
    assert f"{PLAIN:.2f}" in text and "slightly" in text and f"{MAGNITUDES['a lot']:.2f}" in text
    assert all(name in text for name in STYLES)
    schema = json.loads(text.rsplit("JSON schema:\n", 1)[1])
    assert schema["title"] == "Intent"


def test_scene_and_measurements_are_rendered(scene):
    text = prompts.user_plan(Intent(kind="weak-optimize"), scene, {"sky": {"brightness": 0.2}}, None)
    assert "region 'sky' label sky" in text and "brightness +0.50" in text and '"sky"' in text
    crit = prompts.user_critique("brighter", Intent(kind="weak-optimize"),
                                 [Measured(region="sky", attribute="brightness", before=0.1, target=0.3, achieved=0.25)])
    assert "before +0.10, target +0.30, achieved +0.25" in crit
