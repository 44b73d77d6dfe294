"""Open-vocabulary backends (clipseg, grounded-sam, ade20k) and the ``A+B`` fallback chain.

The real loading and inference code runs on tiny random-weight models built from
configs here and saved with ``save_pretrained`` (tokenizer vocabularies written
here too); nothing is downloaded. Random weights say nothing about photos, so the
tests pin what is deterministic: thresholds above every score (nothing found),
thresholds of 0 (everything found), or a class head pinned to one class. Torch runs
on one thread (its pool spins on a loaded 2-core machine).
"""

from __future__ import annotations

import json
import shutil
import string

import numpy as np
import pytest

from pertouch.core.errors import ModelError
from pertouch.tools.perception_cache import process_perception_cache
from pertouch.tools.segmentation import ChainSegmenter, Segment, Segmenter, get_segmenter, split_chain

torch = pytest.importorskip("torch")
transformers = pytest.importorskip("transformers")

#: A few ADE20K classes in the short and the full id2label styles (no "cup": ADE20K has none).
ADE_NAMES = ["wall", "building, edifice", "sky", "tree", "person", "car, auto, automobile, machine, motorcar",
             "flower", "bus", "coffee table", "table"]


@pytest.fixture(scope="module", autouse=True)
def _one_thread():
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    process_perception_cache().clear()
    yield
    process_perception_cache().clear()
    torch.set_num_threads(threads)


@pytest.fixture(scope="module")
def photo():
    from skimage import data

    return data.astronaut()[::5, ::4].copy()  # 103×128: not square, not any model's side


def _clip_vocab() -> dict[str, int]:
    vocab = {"<|startoftext|>": 0, "<|endoftext|>": 1}
    for suffix in ("", "</w>"):
        vocab.update({c + suffix: len(vocab) + i for i, c in enumerate(string.ascii_lowercase)})
    return vocab


@pytest.fixture(scope="module")
def clipseg_folder(tmp_path_factory):
    from transformers import CLIPSegConfig, CLIPSegForImageSegmentation, CLIPSegProcessor, CLIPTokenizer, ViTImageProcessor

    vocab = _clip_vocab()
    text = dict(vocab_size=len(vocab), hidden_size=16, intermediate_size=32, projection_dim=16, num_hidden_layers=1,
                num_attention_heads=2, max_position_embeddings=32, bos_token_id=0, eos_token_id=1, pad_token_id=1)
    vision = dict(hidden_size=16, intermediate_size=32, projection_dim=16, num_hidden_layers=2, num_attention_heads=2,
                  image_size=32, patch_size=8)
    cfg = CLIPSegConfig(text_config=text, vision_config=vision, projection_dim=16, extract_layers=[0, 1], reduce_dim=8,
                        decoder_num_attention_heads=2, decoder_intermediate_size=16)
    torch.manual_seed(0)
    folder = tmp_path_factory.mktemp("clipseg")
    CLIPSegForImageSegmentation(cfg).save_pretrained(folder)
    CLIPSegProcessor(image_processor=ViTImageProcessor(size={"height": 32, "width": 32}),
                     tokenizer=CLIPTokenizer(vocab=vocab, merges=[])).save_pretrained(folder)
    return folder


@pytest.fixture(scope="module")
def gdino_folder(tmp_path_factory):
    from transformers import (BertTokenizer, GroundingDinoConfig, GroundingDinoForObjectDetection,
                              GroundingDinoImageProcessor, GroundingDinoProcessor, SwinConfig)

    words = ["the", "red", "car", "flower", "sky", "clouds", "water", "trees", "person", "building", "ground", "snow"]
    vocab = {t: i for i, t in enumerate(["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", ".", *words])}
    swin = SwinConfig(window_size=7, embed_dim=8, depths=[1, 1, 1, 1], num_heads=[1, 1, 1, 1], image_size=64,
                      out_indices=[2, 3, 4])
    bert = dict(model_type="bert", vocab_size=len(vocab), hidden_size=8, num_hidden_layers=1, num_attention_heads=2,
                intermediate_size=8, max_position_embeddings=32)
    cfg = GroundingDinoConfig(d_model=32, encoder_layers=1, decoder_layers=2, encoder_attention_heads=2,
                              decoder_attention_heads=2, encoder_ffn_dim=16, decoder_ffn_dim=16, num_queries=5,
                              encoder_n_points=2, decoder_n_points=2, backbone_config=swin, max_text_len=32,
                              text_config=bert)
    torch.manual_seed(0)
    folder = tmp_path_factory.mktemp("gdino")
    GroundingDinoForObjectDetection(cfg).save_pretrained(folder)
    GroundingDinoProcessor(GroundingDinoImageProcessor(size={"shortest_edge": 64, "longest_edge": 96}),
                           BertTokenizer(vocab=vocab)).save_pretrained(folder)
    return folder


@pytest.fixture(scope="module")
def sam_folder(hf_sam_folder):
    """The tiny transformers SAM of tests/tools/conftest.py."""
    return hf_sam_folder


@pytest.fixture(scope="module", params=["oneformer", "mask2former"])
def ade_folder(request, tmp_path_factory):
    from transformers import (CLIPTokenizer, Mask2FormerConfig, Mask2FormerForUniversalSegmentation,
                              Mask2FormerImageProcessor, OneFormerConfig, OneFormerForUniversalSegmentation,
                              OneFormerImageProcessor, SwinConfig)

    swin = SwinConfig(embed_dim=16, depths=[1, 1, 1, 1], num_heads=[1, 1, 1, 1], window_size=4, image_size=64,
                      out_features=["stage1", "stage2", "stage3", "stage4"])
    small = dict(backbone_config=swin, id2label=dict(enumerate(ADE_NAMES)), num_queries=6, hidden_dim=32,
                 encoder_feedforward_dim=32, dim_feedforward=32, encoder_layers=1, decoder_layers=2, num_attention_heads=2)
    size = {"shortest_edge": 64, "longest_edge": 96}
    folder = tmp_path_factory.mktemp(request.param)
    torch.manual_seed(0)
    if request.param == "oneformer":
        vocab = _clip_vocab()
        cfg = OneFormerConfig(**small, conv_dim=32, mask_dim=32, text_encoder_width=32, text_encoder_num_layers=1,
                              text_encoder_vocab_size=len(vocab), text_encoder_context_length=16, task_seq_len=16,
                              text_encoder_n_ctx=4, query_dec_layers=1)
        OneFormerForUniversalSegmentation(cfg).save_pretrained(folder)
        CLIPTokenizer(vocab=vocab, merges=[]).save_pretrained(folder)
        # As shi-labs/oneformer_ade20k_*: the class info lives on the Hub; loading must not fetch it.
        images = OneFormerImageProcessor(size=size).to_dict() | {"class_info_file": "ade20k_panoptic.json"}
        (folder / "preprocessor_config.json").write_text(json.dumps(images))
    else:
        cfg = Mask2FormerConfig(**small, mask_feature_size=32, feature_size=32)
        Mask2FormerForUniversalSegmentation(cfg).save_pretrained(folder)
        Mask2FormerImageProcessor(size=size).save_pretrained(folder)
    return folder


# --- clipseg ---------------------------------------------------------------------------

def test_calibration_puts_the_cut_at_one_half_and_the_peak_at_one():
    from pertouch.tools.segmenters.clipseg import calibrate

    prob = np.array([[0.0, 0.2, 0.45], [0.6, 0.9, 0.3]], np.float32)
    m = calibrate(prob, threshold=0.4, relative=0.5)  # cut = max(0.4, 0.45)
    assert m.dtype == np.float32 and m.shape == prob.shape and m.min() >= 0 and m.max() == pytest.approx(1.0)
    assert m[0, 2] == pytest.approx(0.5) and m[0, 0] == 0.0
    assert np.array_equal(m > 0.5, prob > 0.45)
    flat = np.sort(prob.ravel())
    assert np.all(np.diff(calibrate(flat, 0.4, 0.5)) >= 0)  # monotone
    assert calibrate(prob * 0.4, threshold=0.4) is None  # peak 0.36 < 0.4: absent


def test_clipseg_text_prompt_is_a_soft_mask_at_the_proxy_size(clipseg_folder, photo):
    from pertouch.tools.segmenters.clipseg import ClipSegSegmenter

    seg = get_segmenter(f"clipseg:{clipseg_folder}")
    assert isinstance(seg, ClipSegSegmenter) and seg.semantic and not seg.model.training
    prob = seg.probability(photo, ["the flower"])[0]
    assert prob.shape == photo.shape[:2] and prob.dtype == np.float32 and 0 <= prob.min() <= prob.max() <= 1
    seg.threshold = 0.0  # random weights: whatever it finds counts
    try:
        m = seg.prompt(photo, text="the flower")
        assert m.shape == photo.shape[:2] and m.dtype == np.float32 and 0 <= m.min() and m.max() == pytest.approx(1.0)
        cut = seg.relative * prob.max()
        assert np.array_equal(m > 0.5, prob > cut)
        seg.threshold = 1.01  # no probability reaches it: the thing is absent
        assert seg.prompt(photo, text="the flower") is None
    finally:
        seg.threshold = 0.4
    assert seg.prompt(photo, text="  ") is None and seg.prompt(photo, points=[(5, 5)]) is None


def test_clipseg_segment_gives_vocabulary_labels_or_one_other(clipseg_folder, photo):
    from pertouch.tools.segmenters.sam3 import PROMPTS

    seg = get_segmenter(f"clipseg:{clipseg_folder}")
    seg.threshold = 0.0
    try:
        regions = seg.segment(photo)
        assert regions and all(r.mask.shape == photo.shape[:2] and r.mask.dtype == np.float32 for r in regions)
        assert {r.label for r in regions} <= {*PROMPTS, "other"} and any(r.label != "other" for r in regions)
        assert np.sum([r.mask for r in regions], axis=0).max() == 1.0  # no pixel in two regions
        assert all(0 < r.confidence <= 1 for r in regions if r.label != "other")
        seg.threshold = 1.01
        (only,) = seg.segment(photo)
        assert only.label == "other" and only.mask.min() == 1.0
    finally:
        seg.threshold = 0.4


# --- grounded-sam ---------------------------------------------------------------------

@pytest.fixture(scope="module")
def grounded(gdino_folder, sam_folder):
    return get_segmenter(f"grounded-sam:{gdino_folder},{sam_folder}")


def test_phrase_spans_split_on_separators():
    from pertouch.tools.segmenters.grounded_sam import phrase_spans

    # [CLS] red car . sky . [SEP]
    assert phrase_spans([2, 7, 8, 5, 9, 5, 3], {2, 3, 5}) == [(1, 3), (4, 5)]
    assert phrase_spans([2, 3], {2, 3}) == []


def test_grounded_sam_prompt_is_the_union_of_its_box_masks(grounded, photo, monkeypatch):
    grounded.threshold = 0.0  # every query is a box
    try:
        boxes, scores, phrase = grounded.detect(photo, ["the red car"])
        assert boxes.shape == (5, 4) and boxes.dtype == np.float32 and np.all(np.diff(scores) <= 0)
        assert np.all((boxes[:, 0::2] >= 0) & (boxes[:, 0::2] <= photo.shape[1]))
        assert np.all((boxes[:, 1::2] >= 0) & (boxes[:, 1::2] <= photo.shape[0]))
        assert np.all((scores > 0) & (scores <= 1)) and set(phrase.tolist()) == {0}
        m = grounded.prompt(photo, text="the red car")
        assert m.shape == photo.shape[:2] and m.dtype == np.float32 and set(np.unique(m)) <= {0.0, 1.0}
        masks = grounded.cut(photo, boxes)
        assert masks.shape == (5, *photo.shape[:2]) and np.array_equal(m > 0.5, masks.any(axis=0))
        calls = []
        real = grounded.sam.get_image_embeddings
        monkeypatch.setattr(grounded.sam, "get_image_embeddings", lambda *a, **k: calls.append(1) or real(*a, **k))
        grounded.prompt(photo, text="the flower")
        assert calls == []  # SAM's image encoder ran once for this image
        grounded.threshold = 1.0  # sigmoid scores never exceed it: no box
        assert grounded.prompt(photo, text="the red car") is None
    finally:
        grounded.threshold = 0.35
    assert grounded.prompt(photo, text="") is None and grounded.prompt(photo, boxes=[(1, 1, 9, 9)]) is None


def test_grounded_sam_segment_labels_boxes_by_phrase(grounded, photo):
    from pertouch.tools.segmenters.sam3 import PROMPTS

    grounded.threshold = 0.0
    try:
        regions = grounded.segment(photo)
        assert regions and {r.label for r in regions} <= {*PROMPTS, "other"}
        assert np.sum([r.mask for r in regions], axis=0).max() == 1.0
        grounded.threshold = 1.0
        (only,) = grounded.segment(photo)
        assert only.label == "other" and only.mask.min() == 1.0
    finally:
        grounded.threshold = 0.35


# --- ade20k -----------------------------------------------------------------------------

def test_class_names_and_words_to_classes():
    from pertouch.tools.segmenters.ade20k import class_names, classes_for, pertouch_label

    names = class_names(dict(enumerate(ADE_NAMES)))
    assert names[5] == ["car", "auto", "automobile", "machine", "motorcar"]
    assert [pertouch_label(n) for n in names[:4]] == ["wall", "building", "sky", "vegetation"]
    assert pertouch_label(names[6]) == "flower" and pertouch_label(names[7]) == "bus"
    assert classes_for("the red car", names) == [5] and classes_for("automobiles", names) == [5]
    assert classes_for("the coffee table", names) == [8] and classes_for("tables", names) == [9]
    assert classes_for("flowers", names) == [6] and classes_for("the buses", names) == [7]
    assert classes_for("greenery", names) == [3]  # a PerTouch synonym → the classes mapped to its label
    assert classes_for("the cup", names) == [] and classes_for("", names) == []


@pytest.fixture
def ade(ade_folder):
    seg = get_segmenter(f"ade20k:{ade_folder}")
    head = next(m for n, m in seg.model.named_modules() if n.endswith(("class_predictor", "class_embed")))
    saved = head.weight.detach().clone(), head.bias.detach().clone()

    def pin(name: str):
        """Every query says class ``name``: the whole image is that class."""
        with torch.no_grad():
            head.weight.zero_()
            head.bias.fill_(-10.0)
            head.bias[[n.split(",")[0] for n in ADE_NAMES].index(name)] = 10.0
        seg._last = None

    seg.pin = pin
    yield seg
    with torch.no_grad():
        head.weight.copy_(saved[0])
        head.bias.copy_(saved[1])
    seg._last = None


def test_ade20k_segments_into_labelled_regions(ade, ade_folder, photo):
    from pertouch.tools.segmenters.ade20k import Ade20kSegmenter, pertouch_label

    assert isinstance(ade, Ade20kSegmenter) and ade.semantic and ade.kind == ade_folder.name.rstrip("0123456789")
    classes, prob = ade.classify(photo)
    assert classes.shape == prob.shape == photo.shape[:2] and classes.dtype == np.int32 and prob.dtype == np.float32
    assert 0 <= classes.min() and classes.max() < len(ADE_NAMES) and 0 <= prob.min() <= prob.max() <= 1
    regions = ade.segment(photo)
    allowed = {pertouch_label([n.split(",")[0]]) for n in ADE_NAMES} | {"other"}
    assert regions and {r.label for r in regions} <= allowed and len({r.label for r in regions}) == len(regions)
    assert np.sum([r.mask for r in regions], axis=0).max() == 1.0
    assert all(0 < r.confidence <= 1 and r.mask.dtype == np.float32 for r in regions)
    ade.pin("tree")
    (veg,) = ade.segment(photo)
    assert veg.label == "vegetation" and veg.mask.min() == 1.0 and veg.confidence > 0.9


def test_ade20k_text_prompts_name_classes(ade, photo):
    ade.pin("flower")
    m = ade.prompt(photo, text="the flowers")
    assert m.shape == photo.shape[:2] and m.dtype == np.float32 and m.min() == 1.0
    assert ade.prompt(photo, text="the sky") is None  # a class of the model, not in this image
    assert ade.prompt(photo, text="the cup") is None  # not a class of the model
    ade.pin("car")
    assert ade.prompt(photo, text="the red car").min() == 1.0 and ade.prompt(photo, text="the flower") is None
    assert ade.prompt(photo, points=[(3, 3)]) is None


# --- the chain ----------------------------------------------------------------------------

class Fake(Segmenter):
    """Answers prompts with a fixed mask and records that it was asked."""

    def __init__(self, name: str, mask: np.ndarray | None, asked: list[str], proxy_side: int = 384) -> None:
        self.spec, self.mask, self.asked, self.proxy_side = name, mask, asked, proxy_side

    def segment(self, rgb, cues=None):
        return [Segment(np.ones(rgb.shape[:2], np.float32), label=self.spec)]

    def prompt(self, rgb, *, points=None, boxes=None, text=None):
        self.asked.append(self.spec)
        return self.mask


def test_chain_asks_members_in_order_until_one_answers(photo):
    h, w = photo.shape[:2]
    some = np.zeros((h, w), np.float32)
    some[:20, :20] = 1.0
    speck = np.zeros((h, w), np.float32)
    speck[0, 0] = 1.0  # under MIN_PROMPT_AREA: empty
    asked: list[str] = []
    chain = ChainSegmenter([Fake("a", None, asked, 200), Fake("b", speck, asked), Fake("c", some, asked), Fake("d", some, asked)])
    assert chain.proxy_side == 200 and [s.label for s in chain.segment(photo)] == ["a"]
    assert chain.prompt(photo, text="the flower") is some
    assert asked == ["a", "b", "c"] and chain.last_prompt_source == "c"
    asked.clear()
    chain.members[2].mask = None
    chain.members[3].mask = np.zeros((h, w), np.float32)
    assert chain.prompt(photo, text="the flower") is None
    assert asked == ["a", "b", "c", "d"] and chain.last_prompt_source is None
    chain.members[1].mask = some
    mask, source = chain.ask(photo, points=[(3, 3)])
    assert mask is some and source == "b" and asked[-2:] == ["a", "b"]
    with pytest.raises(ModelError, match="at least two"):
        ChainSegmenter([Fake("a", None, asked)])


def test_chain_specs_through_the_registry(clipseg_folder, photo):
    assert split_chain("builtin+clipseg:/m/a+b") == ["builtin", "clipseg:/m/a+b"]
    assert split_chain("builtin+ade20k:/m+grounded-sam:/g,/s") == ["builtin", "ade20k:/m", "grounded-sam:/g,/s"]
    assert split_chain("sam3:/x+y") == ["sam3:/x+y"]
    chain = get_segmenter(f"builtin+clipseg:{clipseg_folder}")
    assert isinstance(chain, ChainSegmenter) and chain is get_segmenter(f"builtin+clipseg:{clipseg_folder}")
    assert chain.members[0] is get_segmenter("builtin") and chain.members[1] is get_segmenter(f"clipseg:{clipseg_folder}")
    assert chain.spec == f"builtin+clipseg:{clipseg_folder}" and chain.semantic and chain.proxy_side == get_segmenter("builtin").proxy_side
    chain.members[1].threshold = 0.0
    try:
        m = chain.prompt(photo, text="the flower")  # builtin has no text prompts: clipseg answers
        assert m.shape == photo.shape[:2] and chain.last_prompt_source == f"clipseg:{clipseg_folder}"
    finally:
        chain.members[1].threshold = 0.4


# --- errors ---------------------------------------------------------------------------------

def test_missing_and_incomplete_folders_say_what_is_missing(tmp_path, clipseg_folder, gdino_folder, sam_folder, ade_folder):
    missing = tmp_path / "missing"
    for spec, how in [(f"clipseg:{missing}", "CLIPSegForImageSegmentation"),
                      (f"ade20k:{missing}", "OneFormerForUniversalSegmentation"),
                      (f"grounded-sam:{missing},{sam_folder}", "GroundingDinoForObjectDetection"),
                      (f"grounded-sam:{gdino_folder},{missing}", "SamModel")]:
        with pytest.raises(ModelError, match=f"^{spec}: model folder not found: {missing}") as e:
            get_segmenter(spec)
        assert how in e.value.hint and "save_pretrained(FOLDER)" in e.value.hint
    bare = tmp_path / "bare"  # a config, nothing else
    bare.mkdir()
    shutil.copy(clipseg_folder / "config.json", bare)
    with pytest.raises(ModelError, match=f"clipseg:{bare}: {bare} has no weights and no processor config and no tokenizer"):
        get_segmenter(f"clipseg:{bare}")
    with pytest.raises(ModelError, match=f"{clipseg_folder} holds a 'clipseg' model, not 'oneformer' or 'mask2former'"):
        get_segmenter(f"ade20k:{clipseg_folder}")
    with pytest.raises(ModelError, match="needs two folders"):
        get_segmenter(f"grounded-sam:{gdino_folder}")
    broken = tmp_path / "broken"  # every file there, but the weights are not a model
    shutil.copytree(ade_folder, broken)
    (broken / "model.safetensors").write_bytes(b"junk")
    with pytest.raises(ModelError, match=f"ade20k:{broken}: cannot load the"):
        get_segmenter(f"ade20k:{broken}")
    with pytest.raises(ModelError, match="unknown segmenter") as e:
        get_segmenter("maskformer:/x")
    assert all(k in e.value.hint for k in ("clipseg:FOLDER", "grounded-sam:GDINO_FOLDER,SAM_FOLDER", "ade20k:FOLDER", "+"))
