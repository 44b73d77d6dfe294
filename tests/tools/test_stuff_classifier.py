"""The learned stuff classifier: shipped weights load, match the feature list, and tell a
synthetic sky from synthetic grass."""

import numpy as np

from pertouch.tools import stuff_classifier as sc
from pertouch.tools.labels import compute_cues, group_features
from pertouch.tools.person import PersonEvidence
from pertouch.tools.segmenters.builtin import superpixels


def _cues(rgb):
    h, w = rgb.shape[:2]
    return compute_cues(rgb, PersonEvidence(np.zeros((h, w), np.float32), 0.0, [], ""))


def test_shipped_weights_load_and_name_their_features():
    m = sc.stuff_model()
    assert m is not None
    assert tuple(str(s) for s in m["features"]) == sc.FEATURES
    assert m["W0"].shape[0] == len(sc.FEATURES)


def test_sky_above_grass_is_told_apart():
    rng = np.random.default_rng(0)
    h, w = 192, 256
    rgb = np.zeros((h, w, 3), np.uint8)
    ramp = np.linspace(0, 1, h // 2)[:, None, None]
    rgb[: h // 2] = (np.array([90, 150, 230]) * (1 - 0.3 * ramp) + np.array([170, 200, 240]) * 0.3 * ramp).astype(np.uint8)
    grass = np.array([60, 120, 40]) + rng.normal(0, 28, (h - h // 2, w, 1)) * np.array([0.6, 1.0, 0.5])
    rgb[h // 2:] = np.clip(grass, 0, 255).astype(np.uint8)
    cues = _cues(rgb)
    sp, n = superpixels(cues)  # as the builtin segmenter sees the photo
    f = group_features(cues, sp, n)
    x = sc.stuff_features(f, sp, n, cues.lab, cues.grad, cues.lines, cues.grey)
    assert x.shape == (n, len(sc.FEATURES))
    logp = sc.predict_log_proba(x)
    np.testing.assert_allclose(np.exp(logp).sum(axis=1), 1.0, rtol=1e-6)
    label = np.array(sc.CLASSES)[logp.argmax(axis=1)][sp]
    assert (label[: h // 2] == "sky").mean() > 0.8
    assert (label[h // 2:] == "vegetation").mean() > 0.8
