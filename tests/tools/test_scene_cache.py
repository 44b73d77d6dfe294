"""The disk cache: detections come back exactly, keyed by photo and by code + models."""

from __future__ import annotations

import numpy as np

from pertouch.tools import scene_cache
from pertouch.tools.detection import Detections, detect
from pertouch.tools.faces import Face
from pertouch.tools.people import Person
from pertouch.tools.scene_cache import detections_file, load_detections, save_detections


def _same(a: Detections, b: Detections) -> None:
    assert a.shape == b.shape and len(a.people) == len(b.people) and len(a.faces) == len(b.faces)
    assert np.array_equal(a.proxy(), b.proxy())
    for p, q in zip(a.people, b.people):
        assert p.box == q.box and p.score == q.score and np.array_equal(p.mask, q.mask)
        assert p.mask.dtype == q.mask.dtype == np.float32
        assert (p.landmarks is None and q.landmarks is None) or np.array_equal(p.landmarks, q.landmarks)
    for f, g in zip(a.faces, b.faces):
        assert f.box == g.box and f.score == g.score and np.array_equal(f.keypoints, g.keypoints)
        assert (f.landmarks is None and g.landmarks is None) or np.array_equal(f.landmarks, g.landmarks)


def test_real_detections_round_trip_exactly(astronaut):
    det = detect(astronaut)
    assert det.people and det.faces
    save_detections("astro", det)
    _same(det, load_detections("astro", astronaut))


def test_people_without_landmarks_and_faces_without_mesh_round_trip():
    rgb = np.random.default_rng(0).integers(0, 255, (300, 400, 3), dtype=np.uint8)
    mask = np.zeros((300, 400), np.float32)
    mask[50:120, 30:90] = np.linspace(0.1, 1.0, 60, dtype=np.float32)
    det = Detections((300, 400), [Person(mask, (30.0, 50.0, 90.0, 120.0), 0.7, None),
                                  Person(np.zeros((300, 400), np.float32), (0.0, 0.0, 1.0, 1.0), 0.6, None)],
                     [Face((1.0, 2.0, 30.0, 40.0), 0.8, np.ones((6, 2), np.float32), None)], rgb, 3.0)
    save_detections("synthetic", det)
    _same(det, load_detections("synthetic", rgb))


def test_miss_corrupt_file_and_wrong_photo():
    rgb = np.zeros((64, 80, 3), np.uint8)
    assert load_detections("nothing", rgb) is None
    path = detections_file("broken")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"not an npz")
    assert load_detections("broken", rgb) is None and not path.exists()
    save_detections("small", Detections((64, 80), [], [], rgb, 1.0))
    assert load_detections("small", np.zeros((640, 800, 3), np.uint8)) is None  # another photo's size


def test_key_changes_with_models_and_versions(monkeypatch):
    import importlib.metadata as md

    before = detections_file("abc")
    scene_cache.code_fingerprint.cache_clear()
    assert detections_file("abc") == before
    real = md.version
    with monkeypatch.context() as m:
        m.setattr(md, "version", lambda d: "9.9" if d == "ai-edge-litert" else real(d))
        scene_cache.code_fingerprint.cache_clear()
        assert detections_file("abc") != before  # a new LiteRT: detections made again
    scene_cache.code_fingerprint.cache_clear()
    assert detections_file("abc") == before


def test_fingerprint_follows_code_data_and_model_bytes(tmp_path):
    (tmp_path / "data").mkdir()
    files = {"mod.py": b"x = 1", "data/table.json": b"{}", "data/model.tflite": b"weights"}
    for name, content in files.items():
        (tmp_path / name).write_bytes(content)
    first = scene_cache.fingerprint(tmp_path)
    assert scene_cache.fingerprint(tmp_path) == first
    for name, content in files.items():
        (tmp_path / name).write_bytes(content + b"!")
        assert scene_cache.fingerprint(tmp_path) != first, name
        (tmp_path / name).write_bytes(content)
    assert scene_cache.fingerprint(tmp_path) == first
