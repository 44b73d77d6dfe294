"""hf: provider end to end on a tiny random-weight LLaVA built from configs (no downloads).

The model's output is garbage: the tests check the plumbing (chat template, images
through the processor into the model, decoding) and that invalid output becomes a
VLMError after one retry.
"""

from __future__ import annotations

import json

import numpy as np
import pytest
from PIL import Image

from pertouch.core.errors import ModelError
from pertouch.graph.vlm.base import VLMError
from pertouch.graph.vlm.registry import get_vlm
from pertouch.graph.vlm.schemas import Intent

TEMPLATE = ("{% for m in messages %}{{ m['role'] }}: {% for c in m['content'] %}{% if c['type'] == 'image' %}"
            "<image> {% else %}{{ c['text'] }}{% endif %}{% endfor %} {% endfor %}"
            "{% if add_generation_prompt %}assistant: {% endif %}")


@pytest.fixture(scope="module")
def tiny_vlm_dir(tmp_path_factory):
    torch = pytest.importorskip("torch")
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers
    from transformers import (CLIPImageProcessor, CLIPVisionConfig, LlamaConfig, LlavaConfig,
                              LlavaForConditionalGeneration, LlavaProcessor, PreTrainedTokenizerFast)

    words = '{ } : , " kind strong targets region sky attribute brightness direction up shift 0.2 tags'.split()
    specials = ["<unk>", "<pad>", "<s>", "</s>", "<image>"]
    vocab = {w: i for i, w in enumerate(specials + words)}
    tok = Tokenizer(models.WordLevel(vocab=vocab, unk_token="<unk>"))
    tok.pre_tokenizer = pre_tokenizers.WhitespaceSplit()
    tok.decoder = decoders.WordPiece(prefix="##")
    fast = PreTrainedTokenizerFast(tokenizer_object=tok, unk_token="<unk>", pad_token="<pad>", bos_token="<s>",
                                   eos_token="</s>", extra_special_tokens={"image_token": "<image>"})
    processor = LlavaProcessor(image_processor=CLIPImageProcessor(size={"shortest_edge": 32},
                                                                  crop_size={"height": 32, "width": 32}),
                               tokenizer=fast, patch_size=8, vision_feature_select_strategy="default",
                               chat_template=TEMPLATE, image_token="<image>", num_additional_image_tokens=1)
    vision = CLIPVisionConfig(hidden_size=16, intermediate_size=32, num_hidden_layers=1, num_attention_heads=2,
                              image_size=32, patch_size=8, projection_dim=16)
    text = LlamaConfig(vocab_size=len(vocab), hidden_size=16, intermediate_size=32, num_hidden_layers=1,
                       num_attention_heads=2, num_key_value_heads=1, max_position_embeddings=4096,
                       bos_token_id=2, eos_token_id=3, pad_token_id=1)
    config = LlavaConfig(vision_config=vision, text_config=text, image_token_index=vocab["<image>"],
                         vision_feature_select_strategy="default", vision_feature_layer=-1)
    torch.manual_seed(0)
    out = tmp_path_factory.mktemp("tiny_llava")
    LlavaForConditionalGeneration(config).save_pretrained(out)
    processor.save_pretrained(out)
    return out


@pytest.fixture(scope="module")
def hf_vlm(tiny_vlm_dir):
    return get_vlm(f"hf:{tiny_vlm_dir}?device=cpu&max_new_tokens=6")


def _spy(vlm, monkeypatch):
    """Record what reaches model.generate."""
    _, model, _ = vlm.load()
    calls = []
    real = model.generate

    def generate(**kw):
        calls.append(kw)
        return real(**kw)

    monkeypatch.setattr(model, "generate", generate)
    return calls


def test_garbage_output_is_retried_then_a_vlm_error(hf_vlm, monkeypatch):
    calls = _spy(hf_vlm, monkeypatch)
    with pytest.raises(VLMError) as err:
        hf_vlm.classify("much brighter sky")
    assert err.value.role == "classify" and "invalid answer after 2 attempts" in str(err.value)
    assert len(calls) == 2 and "pixel_values" not in calls[0]
    assert calls[1]["input_ids"].shape[1] > calls[0]["input_ids"].shape[1]  # the retry carries the error


def test_images_go_through_the_processor_into_the_model(hf_vlm, monkeypatch, scene, tmp_path):
    calls = _spy(hf_vlm, monkeypatch)
    path = tmp_path / "after.png"
    Image.fromarray((np.random.default_rng(0).random((40, 60, 3)) * 255).astype(np.uint8)).save(path)
    with pytest.raises(VLMError):
        hf_vlm.critique(Image.open(path), path, "brighter sky",
                        Intent(kind="strong", targets=[{"region": "sky", "attribute": "brightness",
                                                        "direction": "up", "shift": 0.2}]), [], scene)
    assert calls[0]["pixel_values"].shape == (2, 3, 32, 32)  # before and after
    ids = calls[0]["input_ids"][0].tolist()
    assert ids.count(4) == 2 * 16  # each <image> expanded to (32/8)^2 patch tokens


def test_valid_text_is_parsed_and_validated(hf_vlm, monkeypatch):
    answers = iter(["nonsense", json.dumps({"kind": "weak-optimize", "explanation": "make it better"})])
    prompts = []

    def fake_generate(prompt, images):
        prompts.append(prompt)
        return next(answers)

    monkeypatch.setattr(hf_vlm, "generate", fake_generate)
    intent = hf_vlm.classify("make it better")
    assert intent.kind == "weak-optimize"
    assert prompts[0].startswith("system: ") and "assistant: " in prompts[0]
    assert "That answer was invalid" in prompts[1]


def test_missing_or_wrong_folders_are_clear_errors(tmp_path):
    with pytest.raises(ModelError, match="no model folder"):
        get_vlm(f"hf:{tmp_path / 'nope'}")
    with pytest.raises(ModelError, match="config.json"):
        get_vlm(f"hf:{tmp_path}")
    (tmp_path / "config.json").write_text("{}")
    vlm = get_vlm(f"hf:{tmp_path}")
    with pytest.raises(ModelError, match="cannot load"):
        vlm.classify("brighter")
