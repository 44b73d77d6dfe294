"""People and faces together: one body per face, faces joining their person, the cue."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np

from pertouch.tools.detection import Detections, _faces_into_people, _one_body_per_face


def _person(score, nose, box=(0, 0, 10, 10), mask=None):
    lm = np.zeros((33, 4), np.float32)
    lm[0, :2] = nose
    return SimpleNamespace(score=score, landmarks=lm, box=box, mask=mask)


def test_two_poses_with_their_noses_in_one_face_are_one_person():
    face = SimpleNamespace(box=(100, 100, 160, 170), score=0.9)
    real, spliced, other = _person(0.97, (130, 140)), _person(0.69, (110, 165)), _person(0.8, (300, 140))
    kept = _one_body_per_face([real, spliced, other], [face])
    assert kept == [real, other]
    assert _one_body_per_face([real, spliced], []) == [real, spliced]  # no face, no evidence


def test_a_face_joins_the_person_that_covers_it():
    shape = (60, 80)
    body = np.zeros(shape, np.float32)
    body[30:, 20:50] = 1  # the pose mask stops at the neck
    face = SimpleNamespace(box=(25, 10, 45, 30), score=0.9, landmarks=None, keypoints=np.zeros((6, 2), np.float32))
    person = _person(0.9, (35, 20), box=(20, 10, 50, 60), mask=body.copy())
    det = Detections(shape, [person], [face])
    det.face_mask = lambda f, part="face": _box_mask(shape, f.box)
    body[10:30, 25:45] = 0.4  # some of the face under the pose mask: enough to know whose it is
    person.mask = body.copy()
    _faces_into_people(det)
    assert person.mask[15:28, 28:42].min() == 1.0


def _box_mask(shape, box):
    m = np.zeros(shape, np.float32)
    x0, y0, x1, y1 = (int(v) for v in box)
    m[y0:y1, x0:x1] = 1
    return m


def test_the_person_cue_is_at_the_labellers_size():
    shape = (100, 200)
    m = np.zeros(shape, np.float32)
    m[20:80, 50:100] = 1
    det = Detections(shape, [SimpleNamespace(score=0.8, mask=m, box=(50, 20, 100, 80))],
                     [SimpleNamespace(box=(60, 20, 80, 40), score=0.9)])
    ev = det.evidence((50, 100))
    assert ev.mask.shape == (50, 100) and abs(ev.confidence - 0.8) < 1e-6
    assert ev.faces == [(30, 10, 40, 20)]
    assert Detections(shape).evidence((50, 100)).confidence == 0.0


def _summary(det):
    return ([(p.box, p.score, float(p.mask.sum())) for p in det.people],
            [(f.box, f.score, None if f.landmarks is None else f.landmarks.tobytes()) for f in det.faces])


def test_face_pass_beside_the_pose_models_gives_the_same_detections(monkeypatch):
    from pertouch.evals.photos import load_photo
    from pertouch.tools import detection

    rgb = load_photo("wheel:ultralytics==8.4.190:ultralytics/assets/zidane.jpg")
    monkeypatch.setattr(detection, "PARALLEL", False)
    serial = detection.detect(rgb)
    monkeypatch.setattr(detection, "PARALLEL", True)
    parallel = detection.detect(rgb)
    assert len(serial.people) == 2 and len(serial.faces) == 2
    assert _summary(parallel) == _summary(serial)
