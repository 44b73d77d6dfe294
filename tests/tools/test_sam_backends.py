"""SAM backends: real loading and inference code on tiny random-weight models."""

from __future__ import annotations

import json

import numpy as np
import pytest

from pertouch.core.errors import ModelError
from pertouch.tools.perception_cache import process_perception_cache
from pertouch.tools.segmentation import Segmenter, get_segmenter

torch = pytest.importorskip("torch")

TINY = dict(embed_dim=32, depth=2, num_heads=2, window_size=4, global_attn_indexes=(1,), img_size=128,
            patch_size=16, mlp_ratio=2.0, prompt_dim=32, decoder_depth=1, decoder_mlp=64, iou_hidden=32,
            decoder_heads=8)


@pytest.fixture(autouse=True)
def _fresh_registry():
    process_perception_cache().clear()
    yield
    process_perception_cache().clear()


@pytest.fixture(scope="module")
def photo():
    from skimage import data

    return data.astronaut()[::4, ::4].copy()


@pytest.fixture(scope="module")
def sam_checkpoint(tmp_path_factory):
    from pertouch.tools.segmenters.sam import build_sam

    torch.manual_seed(0)
    path = tmp_path_factory.mktemp("sam") / "tiny_sam.pth"
    torch.save(build_sam(TINY).state_dict(), path)
    return path


def test_sam_architecture_is_read_from_the_checkpoint(sam_checkpoint):
    from pertouch.tools.segmenters.sam import architecture, load_state_dict

    assert architecture(load_state_dict(sam_checkpoint)) == TINY


def test_sam_segments_and_perception_labels_its_regions(sam_checkpoint, photo):
    from pertouch.tools.perception import perceive

    seg = get_segmenter(f"sam:{sam_checkpoint}")
    seg.points_per_side, seg.pred_iou_thresh, seg.stability_score_thresh = 2, 0.0, 0.0
    proposals = seg.segment(photo)
    assert proposals and all(p.mask.shape == photo.shape[:2] and p.label == "" for p in proposals)
    scene = perceive(photo, seg)
    cover = np.sum([r.mask > 0.5 for r in scene.regions], axis=0)
    assert (cover >= 1).mean() > 0.95
    assert all(r.label and r.source == f"sam:{sam_checkpoint}" for r in scene.regions)


def test_sam_point_and_box_prompts(sam_checkpoint, photo):
    seg = get_segmenter(f"sam:{sam_checkpoint}")
    m = seg.prompt(photo, points=[(60, 40)])
    assert m.shape == photo.shape[:2] and m.dtype == np.float32
    assert seg.prompt(photo, boxes=[(10, 10, 90, 100)]).shape == photo.shape[:2]
    assert seg.prompt(photo, text="sky") is None  # no text prompts in SAM 1


def test_sam_errors_name_the_path_and_format(tmp_path, sam_checkpoint):
    missing = tmp_path / "nope.pth"
    with pytest.raises(ModelError, match=f"not found: {missing}.*segment-anything checkpoint"):
        get_segmenter(f"sam:{missing}")
    junk = tmp_path / "junk.pth"
    junk.write_text("not a checkpoint")
    with pytest.raises(ModelError, match=f"cannot read SAM checkpoint {junk}"):
        get_segmenter(f"sam:{junk}")
    other = tmp_path / "other.pth"
    torch.save({"linear.weight": torch.zeros(2, 2)}, other)
    with pytest.raises(ModelError, match="not a segment-anything checkpoint"):
        get_segmenter(f"sam:{other}")
    with pytest.raises(ModelError, match="not a vit_h checkpoint"):
        get_segmenter(f"sam:vit_h:{sam_checkpoint}")
    with pytest.raises(ModelError, match="is a folder"):
        get_segmenter(f"sam:{tmp_path}")


def test_hf_sam_loads_segments_and_prompts(hf_sam_folder, photo):
    from pertouch.tools.perception import perceive

    seg = get_segmenter(f"hf-sam:{hf_sam_folder}")
    seg.points_per_side = 2
    proposals = seg.segment(photo)
    assert proposals and all(p.mask.shape == photo.shape[:2] for p in proposals)
    assert seg.prompt(photo, points=[(30, 30)]).shape == photo.shape[:2]
    assert seg.prompt(photo, boxes=[(5, 5, 60, 70)]).shape == photo.shape[:2]
    scene = perceive(photo, seg)
    assert scene.regions and all(r.mask.shape == photo.shape[:2] for r in scene.regions)


def test_hf_sam_and_sam3_folder_errors(tmp_path, hf_sam_folder):
    with pytest.raises(ModelError, match="model folder not found"):
        get_segmenter(f"hf-sam:{tmp_path / 'missing'}")
    (tmp_path / "config.json").write_text(json.dumps({"model_type": "bert"}))
    with pytest.raises(ModelError, match="holds a 'bert' model"):
        get_segmenter(f"hf-sam:{tmp_path}")
    with pytest.raises(ModelError, match="not 'sam3'"):
        get_segmenter(f"sam3:{hf_sam_folder}")
    with pytest.raises(ModelError, match="unknown segmenter"):
        get_segmenter("maskformer:/x")


def test_builtin_is_the_default_and_cached():
    a = get_segmenter("builtin")
    assert isinstance(a, Segmenter) and a is get_segmenter("builtin") and a.spec == "builtin"
