"""The session-command grammar (graph/turns.py): what is a command, what is a new instruction."""

from __future__ import annotations

import pytest

from pertouch.graph.turns import TurnCommand, labels_for, parse_turn


@pytest.mark.parametrize("line, expected", [
    ("a bit more", TurnCommand("more", factor=0.5)),
    ("Much more on the sky!", TurnCommand("more", factor=1.0, where="sky")),
    ("less on the face", TurnCommand("more", factor=-0.5, where="face")),
    ("only the sky", TurnCommand("only", where="sky")),
    ("undo", TurnCommand("undo")), ("Redo.", TurnCommand("redo")), ("start over", TurnCommand("reset")),
    ("looks good", TurnCommand("accept")), ("Perfect, keep it.", TurnCommand("accept")),
    ("that looks great", TurnCommand("accept")), ("yes, I love it, thanks", TurnCommand("accept")),
    ("it's much better", TurnCommand("accept")), ("compare", TurnCommand("compare")), ("history", TurnCommand("history")),
    ("save as out.jpg", TurnCommand("save", path="out.jpg")),
    ("save it to 'my photo.png'", TurnCommand("save", path="my photo.png")),
    ("save as out.jpg, overwrite", TurnCommand("save", path="out.jpg", overwrite=True)),
    ("save as out.jpg and replace it", TurnCommand("save", path="out.jpg", overwrite=True)),
    ("overwrite out.jpg", TurnCommand("save", path="out.jpg", overwrite=True)),
])
def test_commands(line, expected):
    assert parse_turn(line) == expected


@pytest.mark.parametrize("line", ["make the sky bluer", "more contrast", "only brighten the sky a bit",
                                  "go back to the original colours but warmer", "save the highlights",
                                  "only the flower", "keep it natural", "make it look great",
                                  "better colours please", "good, now make the sky bluer"])
def test_new_instructions_are_not_commands(line):
    assert parse_turn(line) is None


def test_only_accepts_the_photos_own_labels():
    assert parse_turn("only the flower", {"flower", "sky"}) == TurnCommand("only", where="flower")
    assert labels_for("faces") == {"face", "skin", "person"} and labels_for("cars") == {"car", "cars"}
