"""``sam:PATH`` — Meta's segment-anything checkpoints (``sam_vit_b_01ec64.pth`` …).

``sam:PATH`` infers the architecture from the checkpoint's tensors (ViT width,
depth, heads, window size, prompt width), so the official vit_b / vit_l / vit_h
files and smaller custom ones all load; ``sam:vit_b:PATH`` also checks that the file
is that model type. Class-agnostic regions come from
``SamAutomaticMaskGenerator``; :meth:`SamSegmenter.prompt` takes point/box prompts
through ``SamPredictor``. Runs on CUDA when available, else the CPU.

Wrong or unreadable files raise :class:`~pertouch.core.errors.ModelError` naming the
path and the expected format.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import numpy as np

from pertouch.core.errors import ModelError
from pertouch.tools.segmentation import Segment, Segmenter

MODEL_TYPES = {"vit_b": 768, "vit_l": 1024, "vit_h": 1280}
EXPECTED = "a segment-anything checkpoint (.pth state dict of vit_b, vit_l or vit_h, e.g. sam_vit_b_01ec64.pth)"


def load_state_dict(path: Path) -> dict[str, Any]:
    """The checkpoint's tensors; ModelError when missing, unreadable or not a SAM file."""
    import torch

    if not path.exists():
        raise ModelError(f"SAM checkpoint not found: {path}", hint=f"sam:PATH expects {EXPECTED}")
    if not path.is_file():
        raise ModelError(f"SAM checkpoint {path} is a folder", hint=f"sam:PATH expects {EXPECTED}; for a transformers folder use hf-sam:{path}")
    try:
        sd = torch.load(str(path), map_location="cpu", weights_only=True)
    except Exception as exc:  # pickle/zip/torch errors all mean "not a checkpoint"
        raise ModelError(f"cannot read SAM checkpoint {path}: {type(exc).__name__}", hint=f"expected {EXPECTED}") from None
    if isinstance(sd, dict) and "model" in sd and isinstance(sd["model"], dict):
        sd = sd["model"]
    if not isinstance(sd, dict) or "image_encoder.pos_embed" not in sd:
        raise ModelError(f"{path} is not a segment-anything checkpoint (no image_encoder.pos_embed)", hint=f"expected {EXPECTED}")
    return sd


def architecture(sd: dict[str, Any]) -> dict[str, Any]:
    """Builder arguments inferred from a SAM state dict's tensor shapes."""
    pos = sd["image_encoder.pos_embed"]
    grid, dim = int(pos.shape[1]), int(pos.shape[3])
    depth = 1 + max(int(k.split(".")[2]) for k in sd if k.startswith("image_encoder.blocks."))
    rel = [int(sd[f"image_encoder.blocks.{i}.attn.rel_pos_h"].shape[0]) for i in range(depth)]
    head_dim = int(sd["image_encoder.blocks.0.attn.rel_pos_h"].shape[1])
    windows = [r for r in rel if r != 2 * grid - 1]
    window = (windows[0] + 1) // 2 if windows else grid
    patch = int(sd["image_encoder.patch_embed.proj.weight"].shape[2])
    dec_layers = 1 + max(int(k.split(".")[3]) for k in sd if k.startswith("mask_decoder.transformer.layers."))
    return {
        "embed_dim": dim, "depth": depth, "num_heads": dim // head_dim, "window_size": window,
        "global_attn_indexes": tuple(i for i, r in enumerate(rel) if r == 2 * grid - 1),
        "img_size": grid * patch, "patch_size": patch,
        "mlp_ratio": int(sd["image_encoder.blocks.0.mlp.lin1.weight"].shape[0]) / dim,
        "prompt_dim": int(sd["image_encoder.neck.0.weight"].shape[0]),
        "decoder_depth": dec_layers,
        "decoder_mlp": int(sd["mask_decoder.transformer.layers.0.mlp.lin1.weight"].shape[0]),
        "iou_hidden": int(sd["mask_decoder.iou_prediction_head.layers.0.weight"].shape[0]),
        "decoder_heads": 8,
    }


def build_sam(arch: dict[str, Any]):
    """A ``segment_anything.modeling.Sam`` with random weights for ``arch``."""
    from functools import partial

    import torch
    from segment_anything.modeling import ImageEncoderViT, MaskDecoder, PromptEncoder, Sam, TwoWayTransformer

    grid = arch["img_size"] // arch["patch_size"]
    d = arch["prompt_dim"]
    return Sam(
        image_encoder=ImageEncoderViT(
            depth=arch["depth"], embed_dim=arch["embed_dim"], img_size=arch["img_size"], mlp_ratio=arch["mlp_ratio"],
            norm_layer=partial(torch.nn.LayerNorm, eps=1e-6), num_heads=arch["num_heads"], patch_size=arch["patch_size"],
            qkv_bias=True, use_rel_pos=True, global_attn_indexes=arch["global_attn_indexes"],
            window_size=arch["window_size"], out_chans=d),
        prompt_encoder=PromptEncoder(embed_dim=d, image_embedding_size=(grid, grid),
                                     input_image_size=(arch["img_size"], arch["img_size"]), mask_in_chans=16),
        mask_decoder=MaskDecoder(
            num_multimask_outputs=3,
            transformer=TwoWayTransformer(depth=arch["decoder_depth"], embedding_dim=d, mlp_dim=arch["decoder_mlp"],
                                          num_heads=arch["decoder_heads"]),
            transformer_dim=d, iou_head_depth=3, iou_head_hidden_dim=arch["iou_hidden"]),
        pixel_mean=[123.675, 116.28, 103.53], pixel_std=[58.395, 57.12, 57.375],
    )


def load_sam(path: str | Path, model_type: str | None = None):
    """Load a SAM model from a checkpoint file (eval mode, on CUDA if available)."""
    import torch

    p = Path(path).expanduser()
    sd = load_state_dict(p)
    arch = architecture(sd)
    if model_type is not None:
        if model_type not in MODEL_TYPES:
            raise ModelError(f"unknown SAM model type {model_type!r}", hint="use vit_b, vit_l or vit_h")
        if MODEL_TYPES[model_type] != arch["embed_dim"]:
            raise ModelError(f"{p} is not a {model_type} checkpoint (image encoder width {arch['embed_dim']})",
                             hint=f"give sam:PATH to infer the type, or the right type ({EXPECTED})")
    model = build_sam(arch)
    try:
        model.load_state_dict(sd, strict=True)
    except RuntimeError as exc:
        first = str(exc).splitlines()[0][:200]
        raise ModelError(f"{p} does not match the segment-anything architecture: {first}", hint=f"expected {EXPECTED}") from None
    model.eval()
    return model.to("cuda" if torch.cuda.is_available() else "cpu")


class SamSegmenter(Segmenter):
    """segment-anything: automatic masks for regions, points/boxes for prompts."""

    proxy_side = 1024
    semantic = False

    def __init__(self, model: Any, *, points_per_side: int = 16, pred_iou_thresh: float = 0.8,
                 stability_score_thresh: float = 0.9, max_regions: int = 12) -> None:
        self.model = model
        self.points_per_side = points_per_side
        self.pred_iou_thresh = pred_iou_thresh
        self.stability_score_thresh = stability_score_thresh
        self.max_regions = max_regions
        self._lock = threading.Lock()

    @classmethod
    def from_spec(cls, rest: str) -> "SamSegmenter":
        """``"PATH"`` or ``"vit_b:PATH"`` (the part after ``sam:``)."""
        head, sep, tail = rest.partition(":")
        if sep and head in MODEL_TYPES:
            return cls(load_sam(tail, head))
        return cls(load_sam(rest))

    def segment(self, rgb: np.ndarray, cues: Any = None) -> list[Segment]:
        import torch
        from segment_anything import SamAutomaticMaskGenerator

        gen = SamAutomaticMaskGenerator(
            self.model, points_per_side=self.points_per_side, points_per_batch=64,
            pred_iou_thresh=self.pred_iou_thresh, stability_score_thresh=self.stability_score_thresh,
            min_mask_region_area=0)
        with self._lock, torch.inference_mode():
            found = gen.generate(np.ascontiguousarray(rgb))
        found.sort(key=lambda m: -m["area"])
        return [Segment(m["segmentation"].astype(np.float32), score=float(m["predicted_iou"]))
                for m in found[: self.max_regions]]

    def prompt(self, rgb: np.ndarray, *, points=None, boxes=None, text=None) -> np.ndarray | None:
        import torch
        from segment_anything import SamPredictor

        if text is not None and points is None and boxes is None:
            return None  # SAM has no text prompts
        pred = SamPredictor(self.model)
        with self._lock, torch.inference_mode():
            pred.set_image(np.ascontiguousarray(rgb))
            pc = np.asarray(points, np.float32) if points else None
            pl = np.ones(len(points), np.int64) if points else None
            box = np.asarray(boxes[0], np.float32) if boxes else None
            masks, scores, _ = pred.predict(point_coords=pc, point_labels=pl, box=box, multimask_output=True)
        return masks[int(np.argmax(scores))].astype(np.float32)
