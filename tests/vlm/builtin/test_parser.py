"""The builtin parser: the corpus accuracy goal and the behaviours behind it."""

from __future__ import annotations

import pytest

from pertouch.evals.parser_eval import evaluate, load_cases, score_case
from pertouch.graph.vlm.builtin.parser import parse_instruction
from pertouch.graph.vlm.magnitudes import MAGNITUDES, PLAIN


def parse(text):
    return parse_instruction(text, use_embeddings=False)


def test_corpus_accuracy_goal():
    cases = load_cases()
    assert len(cases) >= 200
    report = evaluate(parse, cases)
    assert report["in_scope"]["exact"] >= 0.95, report["failures"][:5]
    assert report["out_of_scope_ok"] == 1.0
    assert report["n_out_of_scope"] >= 20


def test_scorer_detects_wrong_fields():
    exp = {"kind": "strong", "targets": [{"region": "sky", "attribute": "brightness", "direction": "up", "shift": 0.2}],
           "protected": [], "style": None, "regions": []}
    got = parse("brighten the sky a lot").model_dump()
    score = score_case(exp, got)
    assert score["targets"] and not score["sizes"] and not score["exact"]


def test_magnitude_words_are_ordered():
    sizes = [parse(f"make the sky {w} brighter").targets[0].shift
             for w in ("a touch", "slightly", "", "much", "a lot")]
    assert sizes == sorted(sizes) and len(set(sizes)) == 5
    assert sizes[2] == PLAIN and sizes[1] == MAGNITUDES["slightly"]


def test_numbers_percentages_and_levels():
    assert parse("increase contrast by 35%").targets[0].shift == pytest.approx(0.35)
    assert parse("contrast -0.15").targets[0].shift == pytest.approx(-0.15)
    t = parse("set the sky temperature to -0.3").targets[0]
    assert (t.region, t.direction, t.level) == ("sky", "set", -0.3)
    assert parse("one stop darker").targets[0].shift == pytest.approx(-0.25)


def test_negations_protect_regions_and_are_not_targets():
    i = parse("warm everything up but leave the sky and the water alone")
    assert i.protected == ["sky", "water"]
    assert [(t.region, t.attribute) for t in i.targets] == [("global", "temperature")]
    i = parse("don't touch the face, brighten the background")
    assert i.protected == ["face"] and i.targets[0].region == "background"


def test_multiple_clauses_pair_regions_with_their_words():
    i = parse("darken the sky a lot, brighten the person slightly and make the grass greener")
    got = {(t.region, t.attribute): t.shift for t in i.targets}
    assert got == {("sky", "brightness"): -0.5, ("person", "brightness"): 0.1, ("vegetation", "tint"): 0.2}


def test_complaints_flip_the_direction():
    assert parse("the sky is too bright").targets[0].direction == "down"
    assert parse("the shadows are too dark").targets[0].attribute == "shadows"
    assert parse("not enough contrast").targets[0].direction == "up"


def test_typos_are_corrected_and_reported_but_real_words_are_not():
    i = parse("make the skye brigther")
    assert (i.targets[0].region, i.targets[0].attribute) == ("sky", "brightness")
    assert "read 'skye' as 'sky'" in i.explanation
    i = parse("make the person stand out by brightening them")
    assert [t.region for t in i.targets] == ["person"]  # 'stand' is not 'sand'


@pytest.mark.parametrize("text", ["add a unicorn", "delete my files", "rm -rf /", "", "qwxz plk"])
def test_out_of_scope_is_explained_with_no_edit(text):
    i = parse(text)
    assert i.kind == "out-of-scope" and not i.targets and i.explanation


def test_styles_and_weak_requests():
    assert parse("make it look like Kodachrome").style == "kodachrome"
    i = parse("give the sky a golden hour look")
    assert (i.kind, i.style, i.regions) == ("weak-style", "golden-hour", ["sky"])
    assert parse("make it better").kind == "weak-optimize"
    i = parse("make it cinematic and much brighter sky")
    assert i.kind == "strong" and i.style == "teal-orange" and i.targets[0].shift == 0.3


def test_embedding_fallback_matches_unknown_style_names():
    pytest.importorskip("sentence_transformers")
    assert parse_instruction("give it a nordic frost look").style == "winter-morning"
    assert parse_instruction("make it look like a worn snapshot from grandma's album").style == "vintage"
    assert parse_instruction("lovely dinner with my wife").kind == "out-of-scope"
