"""Reference fidelity: how close a render is to a target photo (PSNR, SSIM, CIEDE2000 ΔE, LPIPS).

PSNR (dB, higher is closer; capped at 100 dB), SSIM (structural similarity over the three channels, 1 is
identical) and the mean CIEDE2000 ΔE (perceptual colour difference in CIELAB, 0 is
identical; ≈ 2.3 is a just-noticeable difference) come from scikit-image. LPIPS
needs the ``lpips`` package and its AlexNet backbone weights already on this machine
(nothing downloads): when either is missing, :func:`lpips_status` says so and LPIPS is
not computed — never guessed.
"""

from __future__ import annotations

import threading
from pathlib import Path

import numpy as np

NO_LPIPS = "LPIPS: not computed (no local weights)"
#: The torchvision AlexNet checkpoint ``lpips.LPIPS(net="alex")`` loads (from the torch hub folder).
ALEXNET_FILE = "alexnet-owt-7be5be79.pth"
#: PSNR of identical photos (infinite) is reported as this many dB.
PSNR_CAP = 100.0

_LPIPS: dict[str, object] = {}
_LOCK = threading.Lock()


def _unit(image: np.ndarray) -> np.ndarray:
    x = np.asarray(image)[..., :3]
    if x.dtype == np.uint8:
        return x.astype(np.float64) / 255.0
    if x.dtype == np.uint16:
        return x.astype(np.float64) / 65535.0
    return np.clip(x.astype(np.float64), 0.0, 1.0)


def psnr(render: np.ndarray, target: np.ndarray) -> float:
    from skimage.metrics import peak_signal_noise_ratio

    a, b = _unit(render), _unit(target)
    if np.mean((a - b) ** 2) < 1e-10:  # identical photos: capped, so means stay finite
        return PSNR_CAP
    return min(PSNR_CAP, float(peak_signal_noise_ratio(b, a, data_range=1.0)))


def ssim(render: np.ndarray, target: np.ndarray) -> float:
    from skimage.metrics import structural_similarity

    a, b = _unit(render), _unit(target)
    win = min(7, *[s if s % 2 else s - 1 for s in a.shape[:2]])
    return float(structural_similarity(b, a, data_range=1.0, channel_axis=2, win_size=max(3, win)))


def delta_e(render: np.ndarray, target: np.ndarray) -> float:
    """Mean CIEDE2000 ΔE between the two photos (sRGB → CIELAB, D65)."""
    from skimage.color import deltaE_ciede2000, rgb2lab

    return float(np.mean(deltaE_ciede2000(rgb2lab(_unit(target)), rgb2lab(_unit(render)))))


def lpips_status() -> str | None:
    """``None`` when LPIPS can be computed here, else why not (:data:`NO_LPIPS`)."""
    try:
        import lpips  # noqa: F401
        import torch
    except ImportError:
        return NO_LPIPS
    if not (Path(torch.hub.get_dir()) / "checkpoints" / ALEXNET_FILE).is_file():
        return NO_LPIPS
    return None


def lpips(render: np.ndarray, target: np.ndarray) -> float | None:
    """LPIPS (AlexNet) distance, lower is closer; ``None`` when :func:`lpips_status` says it cannot be computed."""
    if lpips_status() is not None:
        return None
    import torch

    with _LOCK:
        if "alex" not in _LPIPS:
            import lpips as lp

            _LPIPS["alex"] = lp.LPIPS(net="alex", verbose=False).eval()
    model = _LPIPS["alex"]

    def t(x):
        return torch.from_numpy(_unit(x).astype(np.float32) * 2.0 - 1.0).permute(2, 0, 1)[None]

    with torch.no_grad():
        return float(model(t(render), t(target)).item())


def fidelity(render: np.ndarray, target: np.ndarray) -> dict[str, float | None]:
    """``{"psnr", "ssim", "delta_e", "lpips"}`` of ``render`` against ``target`` (same size)."""
    if render.shape[:2] != target.shape[:2]:
        raise ValueError(f"render {render.shape[:2]} and target {target.shape[:2]} differ in size")
    return {"psnr": psnr(render, target), "ssim": ssim(render, target), "delta_e": delta_e(render, target),
            "lpips": lpips(render, target)}
