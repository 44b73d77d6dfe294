"""Kinds are found where they are and not where they are not: straight-edge structure,
the builtin's scene rules (water needs a sky, ground stands on the bottom edge, sky-like
water is sky), and find()'s fallbacks (placed building/ground, room walls and floors)."""

from __future__ import annotations

import numpy as np
import pytest

from pertouch.engine.schema.regions import Region
from pertouch.core.errors import NotFoundError
from pertouch.evals.photos import load_photo
from pertouch.tools import finding
from pertouch.tools import labels as lb
from pertouch.tools.perception import perceive
from pertouch.tools.segmenters import builtin as B

BUS = "wheel:ultralytics==8.4.190:ultralytics/assets/bus.jpg"
ZIDANE = "wheel:ultralytics==8.4.190:ultralytics/assets/zidane.jpg"
T1 = "wheel:insightface==2.1:insightface/data/images/t1.jpg"


# --- straight edges --------------------------------------------------------------------

def _facade(h: int = 192, w: int = 256) -> np.ndarray:
    """A beige wall with a grid of dark windows (uint8 RGB)."""
    img = np.full((h, w, 3), (200, 180, 140), np.uint8)
    for y in range(16, h - 24, 40):
        for x in range(16, w - 24, 48):
            img[y:y + 24, x:x + 24] = (40, 45, 50)
    return img


def _foliage(h: int = 192, w: int = 256) -> np.ndarray:
    """Blotchy green texture with no straight edges (uint8 RGB)."""
    import cv2

    rng = np.random.default_rng(1)
    noise = cv2.GaussianBlur(rng.normal(0, 1, (h, w)).astype(np.float32), (0, 0), 2.0)
    noise = (noise - noise.mean()) / noise.std()
    img = np.stack([60 + 25 * noise, 120 + 45 * noise, 40 + 20 * noise], axis=2)
    return np.clip(img, 0, 255).astype(np.uint8)


def test_straight_lines_see_a_facade_not_foliage():
    fac, leaf = lb.straight_lines(_facade()), lb.straight_lines(_foliage())
    for m in (fac, leaf):
        assert m.shape == (192, 256) and m.dtype == np.float32 and 0 <= m.min() and m.max() <= 1
    assert fac.mean() > 0.03 and fac.mean() > 10 * leaf.mean()
    assert lb.structure_of(fac).mean() == pytest.approx(fac.mean(), rel=0.3)  # a coarse average of the same


def test_straight_edges_raise_building_and_lower_vegetation_scores():
    cues = lb.compute_cues(_facade())
    f = lb.group_features(cues, np.zeros((192, 256), np.int32), 1)
    with_lines = lb.class_scores(f)[0]
    flat = dict(f, lines=np.zeros(1), structure=np.zeros(1))
    without = lb.class_scores(flat)[0]
    b, v = lb.LABELS.index("building"), lb.LABELS.index("vegetation")
    assert with_lines[b] > without[b] + 1.0
    assert with_lines[v] <= without[v]


def test_a_close_up_lowers_building_and_ground():
    f = {k: np.array([v]) for k, v in dict(L=50.0, a=5.0, b=10.0, sdL=15.0, tex=3.0, y=0.8, top=0.0, person=0.0,
                                             area=0.2, C=11.0, hue=63.0, lines=0.03, structure=0.03).items()}
    far = lb.class_scores(dict(f, closeup=np.array([0.0])))[0]
    near = lb.class_scores(dict(f, closeup=np.array([0.6])))[0]
    for label in ("building", "ground"):
        i = lb.LABELS.index(label)
        assert near[i] < far[i] - 1.5


def test_texture_is_foliage_only_where_it_is_green():
    f = {k: np.array([v, v]) for k, v in dict(L=35.0, a=0.0, b=0.0, sdL=20.0, tex=5.0, y=0.5, top=0.0, person=0.0,
                                                area=0.1, C=0.0, hue=0.0).items()}
    f["C"], f["hue"] = np.array([20.0, 20.0]), np.array([140.0, 60.0])  # green leaves, brown fur
    s = lb.class_scores(f)
    v = lb.LABELS.index("vegetation")
    assert s[0, v] > s[1, v] + 2.0


def test_a_painted_green_wall_is_not_foliage():
    img = np.full((160, 240, 3), (70, 140, 60), np.float32)
    img *= 0.9 + 0.2 * np.linspace(0, 1, 160)[:, None, None]  # lit unevenly, but smooth
    img[110:] = (120, 100, 80)
    img = img.astype(np.uint8)
    segs = B.BuiltinSegmenter().segment(img, lb.compute_cues(img))
    green = [s for s in segs if s.label == "vegetation"]
    assert all(s.confidence < 0.2 for s in green)
    assert B._painted(lb.compute_cues(_foliage()), np.ones((192, 256), bool)) < 0.1


# --- the builtin's scene rules -----------------------------------------------------------

SKY, WATER, GROUND, OTHER = (lb.LABELS.index(n) for n in ("sky", "water", "ground", "other"))


def _scores_for(n_sp: int, best: int) -> np.ndarray:
    s = np.zeros((n_sp, len(lb.LABELS)))
    s[:, best] = 2.0
    return s


def test_water_without_a_sky_takes_its_next_best_label():
    labels = np.full((40, 40), OTHER, np.int64)
    labels[25:] = WATER
    sp = np.zeros((40, 40), np.int64)
    scores = _scores_for(1, GROUND)
    scores[0, WATER] = 5.0
    conf = np.ones((40, 40))
    B._water_needs_a_sky(labels, scores, sp, conf)
    assert (labels[25:] == GROUND).all() and conf[25:].max() < 1
    labels[:5] = SKY
    labels[25:] = WATER
    B._water_needs_a_sky(labels, scores, sp, conf)
    assert (labels[25:] == WATER).all()  # with a sky, water stays


def test_ground_must_reach_the_bottom_edge():
    labels = np.full((60, 60), OTHER, np.int64)
    labels[20:35, 10:50] = GROUND  # a dark band mid-frame
    labels[50:, :] = GROUND       # what the photo stands on
    sp = np.zeros((60, 60), np.int64)
    cues = lb.compute_cues(np.full((60, 60, 3), 120, np.uint8))
    B._ground_on_the_bottom(labels, cues, _scores_for(1, lb.LABELS.index("building")), sp, np.ones((60, 60)))
    assert (labels[50:] == GROUND).all()
    assert not (labels[20:35] == GROUND).any()


def test_water_continuing_the_skys_colour_is_sky():
    lab = np.zeros((60, 60, 3), np.float32)
    lab[..., 0] = 40
    labels = np.full((60, 60), OTHER, np.int64)
    labels[:30] = SKY
    labels[30:55, 20:30] = WATER  # a tall pool: a fifth of its border touches the sky
    B._water_touching_sky(labels, lab)
    assert (labels[30:55, 20:30] == SKY).all()
    labels[30:55, 20:30] = WATER
    lab[30:, ..., 0] = 70  # a clear edge at the horizon: real water
    B._water_touching_sky(labels, lab)
    assert (labels[30:55, 20:30] == WATER).all()


# --- find()'s fallbacks ----------------------------------------------------------------

def _region(mask: np.ndarray, label: str, conf: float) -> Region:
    return Region(label, mask.astype(np.float32), label=label, confidence=conf)


def test_placed_like_needs_a_likely_label_and_the_right_place():
    m = np.zeros((100, 100), bool)
    m[:40, :60] = True  # upper left, reaching the top
    assert finding._placed_like(_region(m, "building", 0.25), "building")
    assert not finding._placed_like(_region(m, "building", 0.05), "building")  # a guess
    assert not finding._placed_like(_region(m, "ground", 0.25), "ground")      # ground is not up there
    g = np.zeros((100, 100), bool)
    g[70:, :] = True
    assert finding._placed_like(_region(g, "ground", 0.25), "ground")
    blob = np.zeros((100, 100), bool)
    blob[75:, 80:] = True  # a corner blob: not across the bottom
    assert not finding._placed_like(_region(blob, "ground", 0.25), "ground")


@pytest.fixture(scope="module")
def t1_scene():
    return perceive(load_photo(T1), cache=False)


def test_the_wall_of_a_room_is_found_but_not_a_floor_nobody_stands_on(t1_scene):
    wall = t1_scene.find("the wall")
    h, w = wall.mask.shape
    assert 0.1 < wall.area_fraction < 0.5
    assert wall.mask[: h // 3].mean() > wall.mask[2 * h // 3:].mean()  # above the people
    with pytest.raises(NotFoundError):
        t1_scene.find("floor")  # a table, not a floor: no one's feet are in the photo


@pytest.mark.parametrize("spec", ["skimage:astronaut", "matplotlib:grace_hopper.jpg", ZIDANE, "skimage:chelsea",
                                  "skimage:coffee"])
def test_no_wall_building_or_ground_behind_portraits_and_close_ups(spec):
    scene = perceive(load_photo(spec), cache=False)
    for word in ("wall", "building", "ground", "floor", "water"):
        with pytest.raises(NotFoundError):
            scene.find(word)


def test_a_street_has_its_buildings_and_ground():
    scene = perceive(load_photo(BUS), cache=False)
    b, g = scene.find("building"), scene.find("ground")
    h = b.mask.shape[0]
    assert b.mask[: h // 5].mean() > 0.5 and g.mask[-h // 10:].mean() > 0.7
    with pytest.raises(NotFoundError):
        scene.find("water")  # the blue bus is not water
