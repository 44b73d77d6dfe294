"""``hf:PATH`` — a local transformers vision-language model (Qwen2.5-VL, Qwen3-VL,
SmolVLM, LLaVA… anything ``AutoModelForImageTextToText`` loads) from a folder.

Loaded once, on the first call, with ``local_files_only`` (nothing downloads);
CPU or GPU (``device=auto|cpu|cuda``). The prompt goes through the processor's chat
template (a system turn is folded into the user turn for templates that refuse
one); generation is greedy. The answer is parsed as JSON and validated against
the role's schema; an invalid answer is retried once with the error shown, then
:class:`VLMError` (see :class:`~pertouch.graph.vlm.chat_base.ChatVLM`).

Options in the spec: ``hf:/models/qwen?device=cuda&max_new_tokens=768&dtype=bfloat16``.
"""

from __future__ import annotations

import logging
import threading
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from pertouch.core.errors import ModelError
from pertouch.graph.vlm.base import VLMError
from pertouch.graph.vlm.calls import Reply
from pertouch.graph.vlm.chat_base import ChatVLM

log = logging.getLogger(__name__)


class HFVLM(ChatVLM):
    """A local image-text-to-text model as a VLM (see the module docstring)."""

    def __init__(self, path: str | Path, *, device: str = "auto", max_new_tokens: int | str = 512,
                 dtype: str = "auto") -> None:
        self.path = Path(path).expanduser()
        self.name = f"hf:{self.path.name or self.path}"
        if not self.path.is_dir():
            raise ModelError(f"no model folder at {self.path}",
                             hint="hf:PATH needs a local folder saved with save_pretrained (config.json, weights, processor)")
        if not (self.path / "config.json").is_file():
            raise ModelError(f"{self.path} has no config.json, so it is not a transformers model folder",
                             hint="point hf: at the folder that holds config.json and the weights")
        self.device_option, self.dtype_option = device, dtype
        self.max_new_tokens = int(max_new_tokens)
        self._loaded: tuple[Any, Any, str] | None = None
        self._lock = threading.Lock()

    def load(self) -> tuple[Any, Any, str]:
        """``(processor, model, device)``, loading on first use."""
        with self._lock:
            if self._loaded is None:
                import torch
                from transformers import AutoModelForImageTextToText, AutoProcessor

                device = self.device_option
                if device == "auto":
                    device = "cuda" if torch.cuda.is_available() else "cpu"
                dtype = self.dtype_option
                if dtype == "auto":
                    dtype = torch.bfloat16 if device.startswith("cuda") else torch.float32
                elif isinstance(dtype, str):
                    dtype = getattr(torch, dtype)
                try:
                    processor = AutoProcessor.from_pretrained(self.path, local_files_only=True)
                    model = AutoModelForImageTextToText.from_pretrained(self.path, local_files_only=True, dtype=dtype)
                except Exception as exc:
                    raise ModelError(f"cannot load a vision-language model from {self.path}: "
                                     f"{type(exc).__name__}: {str(exc)[:200]}",
                                     hint="the folder needs a processor (chat template) and an image-text-to-text model") from None
                model.to(device).eval()
                self._loaded = (processor, model, device)
            return self._loaded

    @staticmethod
    def to_hf(messages: list[dict[str, Any]], fold_system: bool = False) -> tuple[list[dict[str, Any]], list[Any]]:
        """Chat-template messages (content parts) and the images in order of appearance."""
        out: list[dict[str, Any]] = []
        images: list[Any] = []
        pending_system = ""
        for m in messages:
            if m["role"] == "system" and fold_system:
                pending_system = m["text"] + "\n\n"
                continue
            parts: list[dict[str, Any]] = [{"type": "image"} for _ in m["images"]]
            images += list(m["images"])
            parts.append({"type": "text", "text": pending_system + m["text"]})
            pending_system = ""
            out.append({"role": m["role"], "content": parts})
        return out, images

    def prompt(self, processor: Any, messages: list[dict[str, Any]]) -> tuple[str, list[Any]]:
        hf, images = self.to_hf(messages)
        try:
            return processor.apply_chat_template(hf, add_generation_prompt=True, tokenize=False), images
        except Exception:  # templates without a system role
            hf, images = self.to_hf(messages, fold_system=True)
            return processor.apply_chat_template(hf, add_generation_prompt=True, tokenize=False), images

    def generate(self, prompt: str, images: list[Any]) -> str:
        """Greedy generation for one prompt → the new text."""
        import torch

        processor, model, device = self.load()
        inputs = processor(text=[prompt], images=images or None, return_tensors="pt").to(device)
        with torch.inference_mode():
            out = model.generate(**inputs, max_new_tokens=self.max_new_tokens, do_sample=False)
        prompt_n = int(inputs["input_ids"].shape[1])
        new = out[:, prompt_n:]
        tokens = {"prompt": prompt_n, "completion": int(new.shape[1]), "total": prompt_n + int(new.shape[1])}
        return Reply(processor.batch_decode(new, skip_special_tokens=True)[0], tokens)

    def complete(self, messages: list[dict[str, Any]], schema: type[BaseModel], role: str) -> str:
        processor, _, _ = self.load()
        try:
            prompt, images = self.prompt(processor, messages)
            return self.generate(prompt, images)
        except VLMError:
            raise
        except Exception as exc:
            raise VLMError(f"generation failed: {type(exc).__name__}: {str(exc)[:200]}", role=role,
                           provider=self.name) from None
