"""The people's skin and hair (tools/skin.py) on the astronaut."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pytest

from pertouch.tools import skin as sk
from pertouch.tools.people import detect_people


@dataclass
class FakeFace:
    box: tuple[float, float, float, float]
    score: float


@pytest.fixture(scope="module")
def astro_people(astronaut):
    return detect_people(astronaut)


def test_skin_on_the_face_not_the_suit(astronaut, astro_people):
    skin = sk.skin_mask(astronaut, astro_people)
    assert skin.shape == astronaut.shape[:2] and skin.dtype == np.float32
    assert skin[125:140, 215:235].mean() > 0.7          # cheeks and nose
    assert skin[330:420, 60:200].mean() < 0.05          # orange suit
    assert skin[:, 430:].max() == 0                     # nothing outside her
    # a face-mesh skin sample (here: a patch of her cheek) drives the colour model instead
    face_skin = np.zeros(astronaut.shape[:2], np.float32)
    face_skin[115:150, 200:245] = 1
    with_mesh = sk.skin_mask(astronaut, astro_people, face_skin=face_skin)
    assert with_mesh[125:140, 215:235].mean() > 0.7 and with_mesh[330:420, 60:200].mean() < 0.05


def test_skin_needs_people(astronaut):
    assert sk.skin_mask(astronaut, []).max() == 0


def test_hair_above_the_face(astronaut, astro_people):
    face = FakeFace((174.0, 72.0, 277.0, 175.0), 0.94)
    hair = sk.hair_mask(astronaut, astro_people, [face])
    assert hair[25:60, 190:260].mean() > 0.6            # the top of her head
    assert hair[110:160, 200:250].max() == 0            # her face
    assert hair[220:512].max() == 0                     # suit and helmet
    assert sk.hair_mask(astronaut, astro_people, []).max() == 0
