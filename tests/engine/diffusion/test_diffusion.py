"""The diffusion engine end to end on a tiny random-weight PerTouch model.

The model folder is built from configs inside the test (tiny UNet, VAE, PerTouch
ControlNet, DDIM scheduler, CLIP text encoder + tokenizer), saved with
``save_pretrained`` and loaded back through the engine's real loading code.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys

import numpy as np
import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("diffusers")

from pertouch.engine.diffusion.engine import DiffusionEngine, check_model_folder, parse_spec, plan_map  # noqa: E402
from pertouch.engine.schema.recipe import Recipe  # noqa: E402
from pertouch.engine.schema.regions import Region  # noqa: E402
from pertouch.core.errors import ModelError, RecipeError  # noqa: E402

SIZE = 32  # model resolution of the tiny model (VAE and map both downscale by 2)
TEXT_DIM = 16


def _randomise_zeros(module: torch.nn.Module, gen: torch.Generator) -> None:
    """ControlNets start with zero convs (no effect); give them weights so effects show."""
    with torch.no_grad():
        for p in module.parameters():
            if not p.any():
                p.copy_(torch.randn(p.shape, generator=gen) * 0.2)


def _tokenizer(folder):
    from transformers import CLIPTokenizer

    vocab = {"<|startoftext|>": 0, "<|endoftext|>": 1, "!": 2, "a": 3, "a</w>": 4}
    (folder / "vocab.json").write_text(json.dumps(vocab))
    (folder / "merges.txt").write_text("#version: 0.2\n")
    return CLIPTokenizer(str(folder / "vocab.json"), str(folder / "merges.txt"), model_max_length=8)


def build_tiny_model(root, seed: int = 0):
    """Write a tiny PerTouch model folder at ``root``; returns the ControlNet."""
    from diffusers import AutoencoderKL, DDIMScheduler, UNet2DConditionModel
    from transformers import CLIPTextConfig, CLIPTextModel

    from pertouch.engine.diffusion.controlnet import PerTouchControlNetModel, save_conv_out

    torch.manual_seed(seed)
    gen = torch.Generator().manual_seed(seed)
    unet = UNet2DConditionModel(
        sample_size=SIZE // 2, block_out_channels=(8, 16), layers_per_block=1, norm_num_groups=4,
        down_block_types=("CrossAttnDownBlock2D", "DownBlock2D"), up_block_types=("UpBlock2D", "CrossAttnUpBlock2D"),
        cross_attention_dim=TEXT_DIM, attention_head_dim=2,
    )
    vae = AutoencoderKL(
        block_out_channels=(8, 16), layers_per_block=1, norm_num_groups=4, latent_channels=4, sample_size=SIZE,
        down_block_types=("DownEncoderBlock2D",) * 2, up_block_types=("UpDecoderBlock2D",) * 2,
    )
    controlnet = PerTouchControlNetModel.from_unet(unet, conditioning_embedding_out_channels=(4, 8))
    _randomise_zeros(controlnet, gen)
    text = CLIPTextModel(CLIPTextConfig(vocab_size=5, hidden_size=TEXT_DIM, intermediate_size=32, num_hidden_layers=1,
                                        num_attention_heads=2, max_position_embeddings=8))
    root.mkdir(parents=True, exist_ok=True)
    unet.save_pretrained(root / "unet")
    vae.save_pretrained(root / "vae")
    controlnet.save_pretrained(root / "controlnet")
    conv = torch.nn.Conv2d(8, 4, 3, padding=1)
    save_conv_out(conv, root / "controlnet" / "unet_conv_out.safetensors")
    DDIMScheduler(prediction_type="v_prediction").save_pretrained(root / "scheduler")
    text.save_pretrained(root / "text_encoder")
    tok_src = root / "_tok"
    tok_src.mkdir()
    _tokenizer(tok_src).save_pretrained(root / "tokenizer")
    shutil.rmtree(tok_src)
    return controlnet, conv


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory):
    root = tmp_path_factory.mktemp("pertouch_model")
    build_tiny_model(root)
    return root


def _engine(path, **kw):
    kw.setdefault("steps", 2)
    kw.setdefault("dtype", "float32")
    return DiffusionEngine(path, size=SIZE, device="cpu", **kw)


def _photo(astronaut, shape):
    import cv2

    return cv2.resize(astronaut, (shape[1], shape[0]), interpolation=cv2.INTER_AREA)


def _recipe():
    return Recipe.model_validate({
        "global": {"attributes": {"brightness": {"by": 0.2}}},
        "regions": {"top": {"attributes": {"temperature": {"to": 0.5}, "colorfulness": {"by": -0.3}}}},
    })


def _regions(shape):
    mask = np.zeros(shape, np.float32)
    mask[: shape[0] // 2] = 1.0
    return {"top": Region("top", mask)}


def test_render_square_uint8_end_to_end(model_dir, astronaut):
    image = _photo(astronaut, (64, 64))
    result = _engine(model_dir).render(image, _recipe(), _regions((64, 64)))
    assert result.image.shape == image.shape and result.image.dtype == np.uint8
    assert not np.array_equal(result.image, image)
    assert result.engine == "diffusion"
    keys = {(a.region, a.attribute) for a in result.report}
    assert keys == {("global", "brightness"), ("top", "temperature"), ("top", "colorfulness")}
    top_t = result.achieved("top", "temperature")
    assert top_t.target == pytest.approx(0.5) and np.isfinite(top_t.achieved)
    assert {"map", "diffusion", "detail", "total"} <= set(result.timings_ms)


def test_render_non_square_uint16(model_dir, astronaut):
    image = (_photo(astronaut, (48, 80)).astype(np.uint16) * 257)
    result = _engine(model_dir).render(image, _recipe(), _regions((24, 40)))  # mask at half resolution
    assert result.image.shape == (48, 80, 3) and result.image.dtype == np.uint16


def test_deterministic_for_a_seed(model_dir, astronaut):
    image = _photo(astronaut, (64, 64))
    a = _engine(model_dir, seed=7).render(image, _recipe(), _regions((64, 64))).image
    b = _engine(model_dir, seed=7).render(image, _recipe(), _regions((64, 64))).image
    c = _engine(model_dir, seed=8).render(image, _recipe(), _regions((64, 64))).image
    assert np.array_equal(a, b)
    assert not np.array_equal(a, c)


def test_map_and_latent_both_reach_the_model(model_dir, astronaut):
    engine = _engine(model_dir)
    small = _photo(astronaut, (SIZE, SIZE)).astype(np.float32) / 255.0
    base = np.zeros((4, SIZE, SIZE), np.float32)
    brighter = base.copy()
    brighter[3] = 0.8
    out = engine.generate(small, base)
    assert out.shape == (SIZE, SIZE, 3) and out.dtype == np.float32
    assert np.abs(engine.generate(small, brighter) - out).max() > 1e-4  # the map matters
    assert np.abs(engine.generate(1.0 - small, base) - out).max() > 1e-4  # the photo's latent matters
    # and directly at the ControlNet's conditioning embedding
    net = engine.models().controlnet
    x = torch.randn(1, 4, SIZE // 2, SIZE // 2)
    emb = engine.models().prompt_embeds
    m0, lat = torch.zeros(1, 4, SIZE, SIZE), torch.randn(1, 4, SIZE // 2, SIZE // 2)
    with torch.no_grad():
        r0 = net(x, 10, emb, m0, image_latent=lat, return_dict=False)[1]
        r_map = net(x, 10, emb, m0 + 0.5, image_latent=lat, return_dict=False)[1]
        r_lat = net(x, 10, emb, m0, image_latent=lat + 1.0, return_dict=False)[1]
    assert not torch.allclose(r0, r_map) and not torch.allclose(r0, r_lat)
    with pytest.raises(ValueError):
        net(x, 10, emb, m0, return_dict=False)


def test_conv_out_copy_is_loaded(model_dir):
    from safetensors.torch import load_file

    saved = load_file(str(model_dir / "controlnet" / "unet_conv_out.safetensors"))
    unet = _engine(model_dir).models().unet
    assert torch.equal(unet.conv_out.weight, saved["weight"])


def test_saved_empty_prompt_replaces_the_text_encoder(model_dir, tmp_path, astronaut):
    from pertouch.engine.diffusion.controlnet import encode_empty_prompt, save_empty_prompt

    slim = tmp_path / "slim"
    shutil.copytree(model_dir, slim, ignore=shutil.ignore_patterns("text_encoder", "tokenizer"))
    with pytest.raises(ModelError, match="text_encoder"):
        check_model_folder(slim)
    emb = encode_empty_prompt(model_dir / "text_encoder", model_dir / "tokenizer")
    assert emb.shape == (1, 8, TEXT_DIM)
    save_empty_prompt(emb, slim / "empty_prompt.safetensors")
    image = _photo(astronaut, (64, 64))
    full = _engine(model_dir).render(image, _recipe(), _regions((64, 64))).image
    lean = _engine(slim).render(image, _recipe(), _regions((64, 64))).image
    assert np.array_equal(full, lean)


def test_missing_pieces_give_model_errors(model_dir, tmp_path):
    with pytest.raises(ModelError, match=str(tmp_path / "nowhere")):
        DiffusionEngine(tmp_path / "nowhere")
    broken = tmp_path / "broken"
    shutil.copytree(model_dir, broken)
    (broken / "controlnet" / "diffusion_pytorch_model.safetensors").unlink()
    with pytest.raises(ModelError, match="controlnet/ weights"):
        DiffusionEngine(broken)


def test_plain_controlnet_is_rejected_at_load(model_dir, tmp_path):
    from diffusers import ControlNetModel, UNet2DConditionModel

    plain = tmp_path / "plain"
    shutil.copytree(model_dir, plain)
    shutil.rmtree(plain / "controlnet")
    unet = UNet2DConditionModel.from_pretrained(str(model_dir / "unet"), local_files_only=True)
    ControlNetModel.from_unet(unet, conditioning_embedding_out_channels=(4, 8), conditioning_channels=4).save_pretrained(
        plain / "controlnet")
    engine = _engine(plain)
    with pytest.raises(ModelError, match="not a PerTouch ControlNet"):
        engine.models()


def test_recipe_errors_and_identity(model_dir, astronaut):
    image = _photo(astronaut, (64, 64))
    engine = _engine(model_dir)
    assert np.array_equal(engine.render(image, Recipe(), {}).image, image)
    tint = Recipe.model_validate({"global": {"attributes": {"tint": {"by": 0.2}}}})
    with pytest.raises(RecipeError, match="parametric"):
        engine.render(image, tint, {})
    with pytest.raises(RecipeError, match="no mask"):
        engine.render(image, _recipe(), {})


def test_parameter_map_holds_absolute_levels(astronaut):
    from pertouch.engine.schema.levels import default_table

    image = _photo(astronaut, (64, 64)).astype(np.float32) / 255.0
    plan = plan_map(image, _recipe(), _regions((64, 64)), 16, default_table())
    assert plan.param_map.shape == (4, 16, 16) and plan.param_map.dtype == np.float32
    assert np.allclose(plan.param_map[2, :8], 0.5)  # top: temperature to 0.5
    # an attribute the region leaves alone: its own measured level, moved by the global shift
    assert np.allclose(plan.param_map[3, :8], np.clip(plan.before["top"]["brightness"] + 0.2, -1, 1), atol=1e-5)
    assert np.allclose(plan.param_map[0, :8], np.clip(plan.before["top"]["colorfulness"] - 0.3, -1, 1), atol=1e-5)
    # outside the region: the whole frame's level + the global shift
    assert np.allclose(plan.param_map[3, 8:], np.clip(plan.before["global"]["brightness"] + 0.2, -1, 1), atol=1e-5)
    assert plan.targets["top"]["temperature"] == 0.5


def test_spec_and_lazy_imports():
    assert str(parse_spec("diffusion:/models/x")) == "/models/x"
    with pytest.raises(ModelError):
        parse_spec("parametric")
    code = "import sys, pertouch.engine.diffusion.engine; print('torch' in sys.modules or 'diffusers' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip()
    assert out == "False"


def test_bfloat16_and_reported_levels_match_measure(model_dir, astronaut):
    from pertouch.engine.measure.stats import measure_levels

    image = _photo(astronaut, (64, 64))
    regions = _regions((64, 64))
    engine = _engine(model_dir, dtype="bfloat16")
    result = engine.render(image, _recipe(), regions)
    assert engine.models().unet.dtype == torch.bfloat16 and engine.models().vae.dtype == torch.float32
    assert result.image.shape == image.shape
    got = result.achieved("top", "temperature")
    want_before = measure_levels(image, regions, engine.level_table)["top"]["temperature"]
    want_after = measure_levels(result.image, regions, engine.level_table)["top"]["temperature"]
    assert got.before == pytest.approx(want_before, abs=1e-6)
    assert got.achieved == pytest.approx(want_after, abs=1e-6)


def test_engine_registry_builds_the_diffusion_engine(model_dir):
    get_engine = pytest.importorskip("pertouch.engine.engines").get_engine

    engine = get_engine(f"diffusion:{model_dir}", size=SIZE, steps=1, device="cpu")
    assert isinstance(engine, DiffusionEngine) and engine.settings.steps == 1
    with pytest.raises(ModelError, match="unknown diffusion setting"):
        get_engine(f"diffusion:{model_dir}", stepz=3)
    with pytest.raises(ModelError, match="not found"):
        get_engine("diffusion")  # default folder under PERTOUCH_HOME does not exist in tests
