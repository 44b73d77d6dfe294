"""Box and point prompts (tools/pointing.py): parsing, GrabCut masks, the pointed region."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from pertouch.core.errors import InputError, NotFoundError
from pertouch.tools.pointing import (CONFIDENCE, DEFAULT_NAME, Pointer, check_names, collect_pointers, parse_box,
                                     parse_point, pointed_mask, pointed_region)
from pertouch.tools.segmentation import Segmenter

# --- parsing ---------------------------------------------------------------------------


def test_parse_box_and_point_with_and_without_a_name():
    assert parse_box("10,20,110,220") == Pointer(DEFAULT_NAME, (10, 20, 110, 220))
    assert parse_box(" Flower = 1, 2, 30, 40 ") == Pointer("flower", (1, 2, 30, 40))
    assert parse_point("5,6") == Pointer(DEFAULT_NAME, None, ((5, 6),))
    assert parse_point("cup=5.4,6.6") == Pointer("cup", None, ((5, 7),))


def test_points_with_one_name_join_one_pointer_and_a_box():
    found = collect_pointers(["cup=0,0,50,50"], ["cup=10,10", "cup=20,30", "7,8"])
    assert found == [Pointer("cup", (0, 0, 50, 50), ((10, 10), (20, 30))), Pointer(DEFAULT_NAME, None, ((7, 8),))]


def test_pointer_json_round_trip():
    p = Pointer("cup", (1, 2, 3, 4), ((1, 1), (2, 2)))
    assert Pointer.from_json(p.to_json()) == p
    assert Pointer.from_json({**Pointer("x", None, ((3, 4),)).to_json(), "photo": "abc"}).points == ((3, 4),)


@pytest.mark.parametrize("text", ["", "1,2,3", "a,b,c,d", "flower=1,2,3", "1,2,3,4,5", "=1,2,3,4", "9x=1,2,3,4",
                                  "global=1,2,3,4", "10,10,5,20", "1,2,3,nan"])
def test_bad_box_text_is_one_line_with_the_format(text):
    with pytest.raises(InputError) as err:
        parse_box(text)
    line = err.value.one_line()
    assert "\n" not in line and "--box" in line
    if text in ("", "1,2,3", "a,b,c,d", "1,2,3,4,5"):
        assert "X0,Y0,X1,Y1" in line


@pytest.mark.parametrize("text", ["", "1", "1,2,3", "x,y", "cup=1"])
def test_bad_point_text_shows_the_format(text):
    with pytest.raises(InputError, match="X,Y"):
        parse_point(text)


def test_two_boxes_with_one_name_are_refused():
    with pytest.raises(InputError, match="twice"):
        collect_pointers(["a=0,0,5,5", "a=1,1,6,6"], [])


@pytest.mark.parametrize("pointer", [Pointer("a", (0, 0, 101, 50)), Pointer("a", (-1, 0, 10, 10)),
                                     Pointer("a", None, ((100, 5),)), Pointer("a", None, ((5, -1),))])
def test_outside_the_photo_names_its_size(pointer):
    rgb = np.zeros((80, 100, 3), np.uint8)
    with pytest.raises(InputError, match="100×80"):
        pointed_mask(rgb, pointer)


def test_a_box_up_to_the_edges_is_inside():
    Pointer("a", (0, 0, 100, 80), ((99, 79),)).check(100, 80)


def test_names_already_in_the_scene_are_refused():
    check_names([Pointer("flower", (0, 0, 5, 5))], ["sky", "ground"])
    with pytest.raises(InputError, match="already has a region named 'sky'"):
        check_names([Pointer("sky", (0, 0, 5, 5))], ["sky", "ground"])


# --- masks -----------------------------------------------------------------------------


def disc_photo(seed: int, centre=(170, 125), radius=60, colour=(200, 60, 50), size=(240, 320)):
    """A noisy coloured disc on a blocky, noisy grey-green texture; returns (rgb, disc)."""
    rng = np.random.default_rng(seed)
    h, w = size
    blocks = rng.normal((110, 125, 100), 30, (h // 8, w // 8, 3))
    bg = cv2.resize(blocks, (w, h), interpolation=cv2.INTER_NEAREST) + rng.normal(0, 12, (h, w, 3))
    yy, xx = np.mgrid[:h, :w]
    disc = (xx - centre[0]) ** 2 + (yy - centre[1]) ** 2 <= radius ** 2
    img = bg.copy()
    img[disc] = np.float64(colour) + rng.normal(0, 10, (int(disc.sum()), 3))
    return img.clip(0, 255).astype(np.uint8), disc


def iou(mask: np.ndarray, truth: np.ndarray) -> float:
    m = mask > 0.5
    return float((m & truth).sum() / (m | truth).sum())


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_box_around_a_disc(seed):
    rgb, disc = disc_photo(seed, centre=(150 + 20 * seed, 120), radius=45 + 10 * seed)
    ys, xs = np.nonzero(disc)
    box = (int(xs.min()) - 12, int(ys.min()) - 12, int(xs.max()) + 13, int(ys.max()) + 13)
    mask = pointed_mask(rgb, Pointer("disc", box))
    assert mask.shape == disc.shape and mask.dtype == np.float32
    assert 0.0 <= mask.min() and mask.max() <= 1.0
    assert iou(mask, disc) >= 0.9


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_point_on_a_disc(seed):
    rgb, disc = disc_photo(seed, centre=(140 + 25 * seed, 110 + 5 * seed), radius=40 + 12 * seed,
                           colour=[(200, 60, 50), (60, 90, 210), (230, 200, 40)][seed])
    ys, xs = np.nonzero(disc)
    off = 10 * (seed - 1)  # not always the centre
    assert iou(pointed_mask(rgb, Pointer("disc", None, ((int(xs.mean()) + off, int(ys.mean()) - off),))), disc) >= 0.8


def test_a_point_picks_the_thing_it_is_on():
    """Two discs of the same colour: the mask is the one under the point."""
    rgb, left = disc_photo(3, centre=(80, 120), radius=40)
    right_rgb, right = disc_photo(3, centre=(240, 120), radius=40)
    rgb[right] = right_rgb[right]
    mask = pointed_mask(rgb, Pointer("d", None, ((240, 120),))) > 0.5
    assert (mask & right).sum() / right.sum() > 0.8 and (mask & left).sum() == 0


def test_mask_at_the_photo_size_for_a_large_photo():
    rgb, disc = disc_photo(4, centre=(700, 500), radius=250, size=(1000, 1400))
    mask = pointed_mask(rgb, Pointer("d", (420, 220, 980, 780)))
    assert mask.shape == (1000, 1400) and iou(mask, disc) >= 0.9


def test_flat_box_cannot_be_separated():
    rgb = np.full((120, 160, 3), 128, np.uint8)
    with pytest.raises(NotFoundError, match="could not be separated") as err:
        pointed_mask(rgb, Pointer("thing", (40, 30, 44, 33)))
    assert "tighter box" in err.value.one_line()


def cup_truth(shape):
    """The cup of skimage's coffee (rim, body, handle), drawn by hand."""
    truth = np.zeros(shape[:2], np.uint8)
    cv2.ellipse(truth, (290, 112), (117, 95), 0, 0, 360, 1, -1)
    cv2.fillPoly(truth, [np.int32([(176, 140), (407, 140), (395, 210), (365, 250), (330, 275), (262, 280),
                                   (222, 262), (190, 220)])], 1)
    cv2.fillPoly(truth, [np.int32([(200, 240), (240, 228), (262, 262), (250, 298), (215, 305), (197, 285)])], 1)
    return truth.astype(bool)


def test_box_around_the_coffee_cup(coffee):
    box = (165, 10, 415, 310)
    mask = pointed_mask(coffee, parse_box("cup=165,10,415,310")) > 0.5
    assert mask.shape == coffee.shape[:2]
    inside = np.zeros_like(mask)
    inside[box[1]:box[3], box[0]:box[2]] = True
    assert not (mask & ~inside).any()
    cup = cup_truth(coffee.shape)
    assert (mask & cup).sum() / cup.sum() >= 0.6  # rim and coffee; the red body looks like the saucer
    assert (mask & cup).sum() / mask.sum() >= 0.95


class _Answering(Segmenter):
    """A prompted segmenter (stands in for SAM): answers with the box's left half."""

    spec = "answering"
    proxy_side = 100

    def __init__(self):
        self.calls = []

    def prompt(self, rgb, *, points=None, boxes=None, text=None):
        self.calls.append((rgb.shape, boxes, points))
        m = np.zeros(rgb.shape[:2], np.float32)
        x0, y0, x1, y1 = boxes[0]
        m[y0:y1, x0:(x0 + x1) // 2] = 1
        return m


def test_a_segmenter_that_answers_prompts_is_used():
    rgb, _ = disc_photo(5, size=(200, 400))
    seg = _Answering()
    region = pointed_region(rgb, Pointer("half", (100, 40, 300, 160)), seg)
    assert seg.calls and seg.calls[0][0][:2] == (50, 100) and seg.calls[0][1] == [(25, 10, 75, 40)]
    assert region.source == "box+sam" and region.mask.shape == (200, 400)
    m = region.mask > 0.5
    assert m[60:140, 110:190].mean() > 0.95 and not m[:, 215:].any()


def test_pointed_region_is_named_measured_and_confident(coffee):
    region = pointed_region(coffee, Pointer("cup", None, ((290, 150),)))
    assert region.name == region.label == "cup" and region.confidence == CONFIDENCE
    assert region.source == "point"
    assert {"brightness", "colorfulness", "temperature"} <= set(region.levels)
    assert all(np.isfinite(v) for v in region.levels.values())
    box = pointed_region(coffee, Pointer("cup", (165, 10, 415, 310)))
    assert box.source == "box"
    # the same cup from a point and from a box
    assert iou(region.mask, box.mask > 0.5) > 0.8


@pytest.mark.parametrize("data", [{"name": "../../x", "box": [0, 0, 4, 4]}, {"name": "global", "box": [0, 0, 4, 4]},
                                  {"name": "a" * 60, "points": [[1, 1]]}, {"name": "ok", "box": [0, 0, 4]},
                                  {"name": "ok"}, {"name": "ok", "points": [["x", 1]]}])
def test_pointers_from_clients_are_checked_like_the_cli(data):
    from pertouch.core.errors import InputError
    from pertouch.tools.pointing import Pointer

    with pytest.raises(InputError):
        Pointer.from_json(data)
    assert Pointer.from_json({"name": "Flower", "box": [1, 2, 3, 4]}).name == "flower"
