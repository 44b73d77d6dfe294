"""Instructions the builtin brain does not understand (issue 15 §6): another language is
said so — never guessed into a wrong edit — and a model that reads it goes through the
same graph."""

from __future__ import annotations

import json

import pytest

from pertouch.graph.vlm.builtin.language import foreign_language
from pertouch.graph.vlm.builtin.parser import parse_instruction
from tests.reliability.conftest import cli

FOREIGN = [("mach den Himmel blauer", "German"), ("rends le ciel plus bleu", "French"),
           ("haz el cielo más azul", "Spanish"), ("让天空更蓝一点", "Chinese"), ("rendi il cielo più blu", "Italian"),
           ("空をもっと青くして", "Japanese"), ("сделай небо голубее", "Russian")]
#: English that borrows words: must stay English (written for this check; not a tuning set)
ENGLISH = ["make the sky bluer", "make it look like la dolce vita", "give it a film noir look", "café scene, warmer",
           "a touch of je ne sais quoi", "cooler water and more contrast", "make it look like Amélie"]


@pytest.mark.parametrize("text, lang", FOREIGN)
def test_builtin_says_it_reads_english_only(text, lang):
    assert foreign_language(text) == lang
    intent = parse_instruction(text)
    assert intent.kind == "out-of-scope" and not intent.targets and not intent.style
    assert "understands English" in intent.explanation and lang in intent.explanation and "--vlm" in intent.explanation


@pytest.mark.parametrize("text", ENGLISH)
def test_english_with_borrowed_words_stays_english(text):
    assert foreign_language(text) is None


def test_retouch_in_german_writes_nothing_and_says_why(photo, tmp_path):
    out = cli("retouch", photo, "mach den Himmel blauer", "-o", tmp_path / "o.png", "--json")
    assert out.exit_code == 3
    answer = json.loads(out.stdout)["answer"]
    assert "understands English" in answer and "German" in answer
    assert not (tmp_path / "o.png").exists()


def test_a_model_that_reads_german_goes_through_the_same_graph(photo, tmp_path):
    script = tmp_path / "script.json"
    intent = {"kind": "strong", "explanation": "Himmel = sky; blauer = bluer",
              "targets": [{"region": "sky", "attribute": "temperature", "direction": "down", "shift": -0.2}]}
    critique = {"satisfied": True, "explanation": "bluer",
                "targets": [{"region": "sky", "attribute": "temperature", "verdict": "changed_enough",
                             "size_fits_wording": True}]}
    script.write_text(json.dumps({"describe": [{"tags": ["outdoor"], "description": "a rocket under a sky"}],
                                  "classify": [intent], "plan": [{"edits": [{"region": "sky", "attribute": "temperature",
                                                                            "by": -0.2}]}],
                                  "critique": [critique]}))
    out = cli("retouch", photo, "mach den Himmel blauer", "--vlm", f"fake:{script}", "-o", tmp_path / "o.png",
              "--json", "--segmenter", "builtin")
    assert out.exit_code == 0, out.output
    s = json.loads(out.stdout)
    assert s["instruction_class"] == "strong" and (tmp_path / "o.png").is_file()
    edited = s["recipe"]["regions"]
    assert edited and all(set(e["attributes"]) == {"temperature"} for e in edited.values())
    assert not (s["recipe"].get("global") or {}).get("attributes")  # the sky, not the whole photo
