"""Detail transfer: a low-resolution edit carried to full resolution keeps the photo's detail."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from pertouch.engine.diffusion.detail import (
    apply_local_affine,
    default_radius,
    downsample,
    fit_local_affine,
    naive_upsample,
    transfer_detail,
)


def _psnr(a: np.ndarray, b: np.ndarray) -> float:
    return float(10 * np.log10(1.0 / np.mean((a.astype(np.float64) - b) ** 2)))


def _highpass(x: np.ndarray) -> np.ndarray:
    return x - cv2.GaussianBlur(x, (0, 0), 2.0)


def _edit(x: np.ndarray) -> np.ndarray:
    """A known retouch: tone curve, warmer white balance, more saturation, and a soft
    spatial brightening (in normalised coordinates, so it is the same edit at any size)."""
    y = np.clip(x + 0.25 * np.sin(np.pi * x) * (x - 0.3), 0, 1)
    y = np.clip(y * np.array([1.06, 1.0, 0.9], np.float32), 0, 1)
    luma = y @ np.array([0.2126, 0.7152, 0.0722], np.float32)
    y = np.clip(luma[..., None] + (y - luma[..., None]) * 1.3, 0, 1)
    h, w = x.shape[:2]
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    gain = 1 + 0.3 * np.exp(-(((xx / w) - 0.6) ** 2 + ((yy / h) - 0.4) ** 2) / 0.05)
    return np.clip(y * gain[..., None], 0, 1).astype(np.float32)


@pytest.mark.parametrize("name", ["astronaut", "coffee"])
def test_transfer_reconstructs_full_resolution_edit(name, request):
    full = request.getfixturevalue(name).astype(np.float32) / 255.0  # 512² and 400×600
    small_in = downsample(full, (128, 128))  # the model's square view, aspect distorted
    small_out = _edit(small_in)
    target = _edit(full)

    ours = transfer_detail(full, small_in, small_out)
    naive = naive_upsample(small_out, full.shape[:2])

    assert ours.shape == full.shape and ours.dtype == np.float32
    assert _psnr(ours, target) > 35.0
    assert _psnr(naive, target) < 30.0
    # the detail itself: high frequencies of the result match the edited photo's
    assert _psnr(_highpass(ours), _highpass(target)) > _psnr(_highpass(naive), _highpass(target)) + 8.0


def test_identity_edit_returns_input(astronaut):
    full = astronaut[::2, ::2].astype(np.float32) / 255.0
    small = downsample(full, (64, 64))
    out = transfer_detail(full, small, small.copy())
    assert np.abs(out - full).max() < 1e-4


def test_fit_is_exact_for_a_global_affine_colour_change(coffee):
    src = downsample(coffee.astype(np.float32) / 255.0, (64, 96))
    m = np.array([[0.9, 0.1, 0.0], [0.05, 0.8, 0.1], [0.0, 0.1, 0.7]], np.float32)
    dst = src @ m.T + np.array([0.02, 0.0, 0.05], np.float32)
    a, b = fit_local_affine(src, dst, radius=3)
    assert a.shape == (64, 96, 3, 3) and b.shape == (64, 96, 3)
    assert np.abs(a - m).max() < 1e-3
    assert np.abs(b - [0.02, 0.0, 0.05]).max() < 1e-3


def test_strips_match_one_full_resize():
    rng = np.random.default_rng(1)
    a = rng.random((20, 30, 3, 3)).astype(np.float32)
    b = rng.random((20, 30, 3)).astype(np.float32)
    full = rng.random((97, 131, 3)).astype(np.float32)
    got = apply_local_affine(full, a, b, strip_rows=7)
    au = cv2.resize(a.reshape(20, 30, 9), (131, 97), interpolation=cv2.INTER_LINEAR).reshape(97, 131, 3, 3)
    bu = cv2.resize(b, (131, 97), interpolation=cv2.INTER_LINEAR)
    want = np.einsum("hwij,hwj->hwi", au, full) + bu
    assert np.abs(got - want).max() < 1e-4


def test_deterministic_and_clipped(astronaut):
    full = astronaut[::4, ::4].astype(np.float32) / 255.0
    small = downsample(full, (32, 32))
    out1 = transfer_detail(full, small, np.clip(small * 1.8, 0, 1))
    out2 = transfer_detail(full, small, np.clip(small * 1.8, 0, 1))
    assert np.array_equal(out1, out2)
    assert out1.min() >= 0.0 and out1.max() <= 1.0


def test_bad_shapes_are_rejected():
    with pytest.raises(ValueError):
        transfer_detail(np.zeros((8, 8, 3), np.float32), np.zeros((4, 4, 3), np.float32), np.zeros((4, 5, 3), np.float32))
    with pytest.raises(ValueError):
        fit_local_affine(np.zeros((4, 4), np.float32), np.zeros((4, 4), np.float32), 1)


def test_default_radius_scales_with_size():
    assert default_radius((512, 512)) == 4
    assert default_radius((64, 64)) == 2
