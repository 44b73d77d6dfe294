"""``sam3:FOLDER``: the real loading and inference code on a tiny random-weight SAM 3.

The model, image processor and a CLIP tokenizer (vocabulary written here) are built
from configs and saved with ``save_pretrained``; nothing is downloaded. Random
weights score every instance near 0.25 (detection × presence, both about 0.5), so
a threshold of 0 finds every query; the presence head, pinned, says "the concept is
(not) in the image". Torch runs on one thread here: on a loaded 2-core machine its
thread pool spins (0.3 s per prompt instead of 0.02 s).
"""

from __future__ import annotations

import json
import string

import numpy as np
import pytest

from pertouch.core.errors import ModelError, NotFoundError
from pertouch.tools.perception_cache import process_perception_cache
from pertouch.tools.segmentation import get_segmenter

torch = pytest.importorskip("torch")
transformers = pytest.importorskip("transformers")
if not hasattr(transformers, "Sam3Model"):
    pytest.skip("SAM 3 needs transformers >= 5.0", allow_module_level=True)

SIDE, HIDDEN = 112, 32  # image side seen by the model, width of every sub-model


@pytest.fixture(scope="module")
def sam3_folder(tmp_path_factory):
    from transformers import CLIPTokenizer, Sam3Config, Sam3ImageProcessor, Sam3Model, Sam3Processor

    small = dict(hidden_size=HIDDEN, num_layers=1, num_attention_heads=2, intermediate_size=2 * HIDDEN)
    vit = dict(model_type="sam3_vit_model", hidden_size=HIDDEN, intermediate_size=2 * HIDDEN, num_hidden_layers=2,
               num_attention_heads=2, image_size=SIDE, patch_size=14, window_size=4, global_attn_indexes=[1],
               pretrain_image_size=SIDE)
    n = SIDE // 14  # feature grid 8×8: FPN levels ×4, ×2, ×1 (the ×0.5 level is dropped by the detector)
    vision = dict(backbone_config=vit, fpn_hidden_size=HIDDEN, backbone_feature_sizes=[[4 * n] * 2, [2 * n] * 2, [n] * 2])
    vocab = {"<|startoftext|>": 0, "<|endoftext|>": 1}
    for suffix in ("", "</w>"):
        vocab.update({c + suffix: len(vocab) + i for i, c in enumerate(string.ascii_lowercase)})
    text = dict(vocab_size=len(vocab), hidden_size=HIDDEN, intermediate_size=2 * HIDDEN, projection_dim=HIDDEN,
                num_hidden_layers=1, num_attention_heads=2, max_position_embeddings=32, bos_token_id=0, eos_token_id=1,
                pad_token_id=1)
    cfg = Sam3Config(vision_config=vision, text_config=text, geometry_encoder_config=small, detr_encoder_config=small,
                     detr_decoder_config=dict(small, num_queries=6),
                     mask_decoder_config=dict(hidden_size=HIDDEN, num_attention_heads=2))
    torch.manual_seed(0)
    folder = tmp_path_factory.mktemp("sam3")
    Sam3Model(cfg).save_pretrained(folder)
    tokenizer = CLIPTokenizer(vocab=vocab, merges=[])
    Sam3Processor(Sam3ImageProcessor(size={"height": SIDE, "width": SIDE}), tokenizer).save_pretrained(folder)
    return folder


@pytest.fixture(scope="module")
def seg(sam3_folder):
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    process_perception_cache().clear()
    s = get_segmenter(f"sam3:{sam3_folder}")
    yield s
    process_perception_cache().clear()
    torch.set_num_threads(threads)


@pytest.fixture
def presence(seg):
    """Pin the presence head's logit (+10: the concept is there, -10: it is not) for one test."""
    head = seg.model.detr_decoder.presence_head.layer3
    saved = head.weight.detach().clone(), head.bias.detach().clone()

    def set_(logit: float):
        with torch.no_grad():
            head.weight.zero_()
            head.bias.fill_(logit)

    yield set_
    with torch.no_grad():
        head.weight.copy_(saved[0])
        head.bias.copy_(saved[1])


@pytest.fixture
def threshold(seg):
    """Set the instance score threshold for one test; restored afterwards."""
    old = seg.threshold

    def set_(t: float):
        seg.threshold = t

    yield set_
    seg.threshold = old


@pytest.fixture(scope="module")
def photo():
    from skimage import data

    return data.astronaut()[::5, ::4].copy()  # 103×128: not square, not the model's side


def test_loads_through_the_registry(seg, sam3_folder):
    from pertouch.tools.segmenters.sam3 import Sam3Segmenter

    assert isinstance(seg, Sam3Segmenter) and seg.semantic and seg.spec == f"sam3:{sam3_folder}"
    assert get_segmenter(f"sam3:{sam3_folder}") is seg
    assert next(seg.model.parameters()).dtype == torch.float32 and not seg.model.training


def test_segment_partitions_the_image_into_prompt_labels(seg, photo, threshold):
    from pertouch.tools.segmenters.sam3 import PROMPTS

    threshold(0.0)  # every query of every prompt counts
    regions = seg.segment(photo)
    assert regions
    for r in regions:
        assert r.mask.shape == photo.shape[:2] and r.mask.dtype == np.float32
        assert set(np.unique(r.mask)) <= {0.0, 1.0}
        assert 0.0 <= r.confidence <= 1.0 and r.label in (*PROMPTS, "other")
    assert np.array_equal(np.sum([r.mask for r in regions], axis=0), np.ones(photo.shape[:2]))
    named = [r for r in regions if r.label != "other"]
    assert named and len({r.label for r in named}) == len(named)  # one region per label
    assert all(r.confidence > 0 and r.score == pytest.approx(r.confidence, abs=1e-3) for r in named)


def test_nothing_found_is_one_unsure_other_region(seg, photo, presence):
    presence(-10.0)  # default threshold
    (only,) = seg.segment(photo)
    assert only.label == "other" and only.confidence < 0.5 and only.mask.min() == 1.0


def test_text_prompt_masks_at_the_image_size(seg, photo, threshold, presence):
    threshold(0.0)
    m = seg.prompt(photo, text="the eagle")
    assert m.shape == photo.shape[:2] and m.dtype == np.float32 and set(np.unique(m)) <= {0.0, 1.0}
    masks, scores = seg._instances(photo, "eagle")
    assert masks.shape[1:] == photo.shape[:2] and masks.dtype == bool
    assert scores.dtype == np.float32 and len(scores) == 6 and np.all(np.diff(scores) <= 0)
    assert np.all((scores >= 0) & (scores <= 1))
    threshold(0.4)
    presence(-10.0)
    assert seg.prompt(photo, text="the eagle") is None
    assert seg.prompt(photo, text="  ") is None and seg.prompt(photo, points=[(5, 5)]) is None


def test_vision_features_are_computed_once_per_image(seg, photo, threshold, monkeypatch):
    threshold(0.0)
    seg.prompt(photo, text="sky")
    calls = []
    real = seg.model.get_vision_features
    monkeypatch.setattr(seg.model, "get_vision_features", lambda **kw: calls.append(1) or real(**kw))
    a = seg.prompt(photo, text="sky")
    seg.prompt(photo, text="water")
    assert calls == []
    b = seg.prompt(photo[::-1].copy(), text="sky")
    assert calls == [1] and a.shape == b.shape


def test_find_through_perception(seg, photo, threshold, presence):
    from pertouch.tools.perception import perceive

    threshold(0.0)
    presence(10.0)  # scores = detection probability, about 0.5
    scene = perceive(photo, seg, cache=False)
    assert scene.regions and all(r.mask.shape == photo.shape[:2] for r in scene.regions)
    labelled = {r.label for r in scene.regions if r.confidence >= 0.3}
    some = next(iter(labelled - {"other"}))
    assert scene.find(some).label == some
    eagle = scene.find("the eagle")  # not a label: SAM 3 is asked with the words themselves
    assert eagle.name == "eagle" and eagle.mask.shape == photo.shape[:2]
    threshold(0.4)
    presence(-10.0)
    empty = perceive(photo, seg, cache=False)
    assert [r.label for r in empty.regions] == ["other"]
    with pytest.raises(NotFoundError, match="no sky found"):
        empty.find("sky")
    with pytest.raises(NotFoundError, match="no 'the eagle' found"):
        empty.find("the eagle")


def test_a_sam3_video_folder_loads_its_detector(seg, sam3_folder, tmp_path, photo, threshold):
    """facebook/sam3 ships as 'sam3_video' (detector + tracker): the detector's weights are used."""
    import shutil

    from safetensors.torch import load_file, save_file

    video = tmp_path / "sam3_video"
    shutil.copytree(sam3_folder, video)
    detector = json.loads((sam3_folder / "config.json").read_text())
    (video / "config.json").write_text(json.dumps({"model_type": "sam3_video", "detector_config": detector}))
    weights = load_file(sam3_folder / "model.safetensors")
    save_file({f"detector_model.{k}": v for k, v in weights.items()}, video / "model.safetensors", metadata={"format": "pt"})
    other = get_segmenter(f"sam3:{video}")
    threshold(0.0)
    other.threshold = 0.0
    assert np.array_equal(other._instances(photo, "sky")[0], seg._instances(photo, "sky")[0])


def test_bad_folders_name_the_path_and_the_format(tmp_path, sam3_folder):
    missing = tmp_path / "missing"
    with pytest.raises(ModelError, match=f"model folder not found: {missing}") as e:
        get_segmenter(f"sam3:{missing}")
    assert "SAM 3 folder" in e.value.hint
    (tmp_path / "file.bin").write_text("x")
    with pytest.raises(ModelError, match="is a file, not a model folder"):
        get_segmenter(f"sam3:{tmp_path / 'file.bin'}")
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(ModelError, match=f"{empty} has no readable config.json"):
        get_segmenter(f"sam3:{empty}")
    broken = tmp_path / "broken"  # a SAM 3 config but no weights
    broken.mkdir()
    (broken / "config.json").write_text((sam3_folder / "config.json").read_text())
    with pytest.raises(ModelError, match=f"cannot load SAM 3 from {broken}") as e:
        get_segmenter(f"sam3:{broken}")
    assert "SAM 3 folder" in e.value.hint
    (broken / "config.json").write_text(json.dumps({"model_type": "sam"}))
    with pytest.raises(ModelError, match=f"{broken} holds a 'sam' model, not 'sam3'"):
        get_segmenter(f"sam3:{broken}")


def test_overlaps_go_to_the_best_scoring_instance_not_the_first_prompt():
    from pertouch.tools.segmenters.sam3 import owner_map

    left, right = np.zeros((2, 4), bool), np.zeros((2, 4), bool)
    left[:, :3], right[:, 1:] = True, True
    labels, owner, best = owner_map({"sky": [(left, 0.5)], "water": [(right, 0.8)], "snow": []}, (2, 4))
    assert labels == ["sky", "water", "snow"]
    assert owner.tolist() == [[0, 1, 1, 1]] * 2 and best.dtype == np.float32 and best[0, 0] == 0.5
    _, owner, _ = owner_map({}, (2, 4))
    assert (owner == -1).all()
