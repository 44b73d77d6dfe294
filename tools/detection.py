"""People and faces in one photo, found once per photo by the offline models.

:func:`detect` runs the face detector and face mesh (:mod:`pertouch.tools.faces`) and
the person detector with pose landmarks and instance masks (:mod:`pertouch.tools.people`)
on a proxy whose long side is :data:`DETECT_SIDE` (a face of 24 px in a 12 MP photo is
still ~6 px there: the detectors tile the proxy for small faces), and keeps the results
in :class:`Detections` at that proxy's size. Perception turns them into:

- the person cue the builtin labeller uses (:meth:`Detections.evidence`),
- instance regions (``person_1``, ``face_2`` …) and parts (face skin, eyes, lips,
  eyebrows, skin, hair) on request (:meth:`Detections.part`).
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from functools import lru_cache

import cv2
import numpy as np

from pertouch.tools.person import PersonEvidence

#: Long side of the proxy the detectors see.
DETECT_SIDE = 1024
#: Score a pose needs to be a person (:func:`pertouch.tools.people.detect_people`).
MIN_PERSON_SCORE = 0.5
#: Run the whole-frame face pass in a worker thread beside the pose models: the same
#: calls on the same inputs (identical results), overlapped (LiteRT releases the GIL).
PARALLEL = True
#: Parts of people found on request, and what each needs.
FACE_PARTS = ("face", "face_skin", "eyes", "eyebrows", "lips")
BODY_PARTS = ("skin", "hair")


@dataclass
class Detections:
    """People and faces at ``shape`` = (h, w) of the detection proxy ``rgb`` (made on
    demand from ``source``, the photo, when not given: see :meth:`proxy`)."""

    shape: tuple[int, int]
    people: list = field(default_factory=list)
    faces: list = field(default_factory=list)
    rgb: np.ndarray | None = field(default=None, repr=False)
    ms: float = 0.0
    source: np.ndarray | None = field(default=None, repr=False)

    def proxy(self) -> np.ndarray | None:
        """The detection proxy (uint8 RGB at :attr:`shape`)."""
        if self.rgb is None and self.source is not None:
            self.rgb = detection_proxy(self.source)
        return self.rgb

    def people_union(self) -> np.ndarray:
        if not self.people:
            return np.zeros(self.shape, np.float32)
        return np.maximum.reduce([p.mask for p in self.people]).astype(np.float32)

    def evidence(self, cue_shape: tuple[int, int]) -> PersonEvidence:
        """The person cue at the labeller's proxy size (``cue_shape`` = (h, w))."""
        h, w = cue_shape
        if not self.people:
            return PersonEvidence(np.zeros((h, w), np.float32), 0.0, [], "no person detected")
        m = cv2.resize(self.people_union(), (w, h), interpolation=cv2.INTER_AREA)
        sy, sx = h / self.shape[0], w / self.shape[1]
        faces = [(int(f.box[0] * sx), int(f.box[1] * sy), int(f.box[2] * sx), int(f.box[3] * sy)) for f in self.faces]
        conf = float(max(p.score for p in self.people))
        n = len(self.people)
        return PersonEvidence(m, min(0.97, conf), faces, f"{n} {'person' if n == 1 else 'people'} (pose model)")

    def face_mask(self, face, part: str = "face") -> np.ndarray:
        from pertouch.tools.faces import face_part_mask

        return face_part_mask(self.shape, face, part)

    def part(self, name: str) -> np.ndarray | None:
        """Union mask of a part over every person, at :attr:`shape`; None when absent."""
        if name in FACE_PARTS:
            from pertouch.tools.faces import face_parts_mask

            if not self.faces or (name != "face" and not any(f.landmarks is not None for f in self.faces)):
                return None
            m = face_parts_mask(self.shape, [f for f in self.faces if name == "face" or f.landmarks is not None], name)
        elif name == "skin":
            from pertouch.tools.skin import skin_mask

            if not self.people and not self.faces:
                return None
            face_skin = self.part("face_skin") if self.faces else None
            people = self.people
            m = skin_mask(self.proxy(), people, face_skin)
            if face_skin is not None:
                m = np.maximum(m, face_skin)
        elif name == "hair":
            from pertouch.tools.skin import hair_mask

            if not self.faces:
                return None
            m = hair_mask(self.proxy(), self.people, self.faces)
        else:
            raise KeyError(name)
        return m.astype(np.float32) if m is not None and float((m > 0.5).mean()) > 0.0002 else None


def detect(rgb: np.ndarray) -> Detections:
    """Faces and people in a uint8 RGB photo ``(H, W, 3)`` (any size)."""
    import time

    from pertouch.tools.faces import detect_faces, merge_faces
    from pertouch.tools.people import detect_people
    from pertouch.tools.pose import find_poses

    t0 = time.perf_counter()
    small = detection_proxy(rgb)
    if min(small.shape[:2]) < 32:
        return Detections(small.shape[:2], rgb=small)
    # faces the whole-frame passes see seed people the pose model misses; small faces are
    # then looked for only where people are (their tiles cost most of face detection)
    memo: dict = {}  # the two face passes share the detector's downscaled copy
    if PARALLEL:  # the whole-frame face pass runs beside the pose models (it needs no pose)
        job = _pool().submit(detect_faces, small, within=[], memo=memo)
        poses = find_poses(small, MIN_PERSON_SCORE)
        faces = job.result()
    else:
        faces, poses = detect_faces(small, within=[], memo=memo), None
    people = detect_people(small, faces=faces, poses=poses, min_score=MIN_PERSON_SCORE)
    heads = [_head_box(p.box) for p in people]
    if heads:
        faces = merge_faces(faces, detect_faces(small, within=heads, whole=False, memo=memo))
    det = Detections(small.shape[:2], _one_body_per_face(people, faces), faces, small, 0.0)
    _faces_into_people(det)
    det.ms = (time.perf_counter() - t0) * 1000
    return det


def proxy_shape(shape: tuple[int, ...]) -> tuple[int, int]:
    """``(h, w)`` of the detection proxy of a photo of ``shape``."""
    h, w = shape[:2]
    s = min(1.0, DETECT_SIDE / max(h, w))
    return (h, w) if s >= 1 else (max(1, round(h * s)), max(1, round(w * s)))


def detection_proxy(rgb: np.ndarray) -> np.ndarray:
    """The image the detectors see: ``rgb`` with its long side at most :data:`DETECT_SIDE` (INTER_AREA)."""
    h, w = proxy_shape(rgb.shape)
    return rgb if (h, w) == rgb.shape[:2] else cv2.resize(rgb, (w, h), interpolation=cv2.INTER_AREA)


@lru_cache(maxsize=1)
def _pool() -> ThreadPoolExecutor:
    return ThreadPoolExecutor(max_workers=1, thread_name_prefix="pertouch-faces")


def _one_body_per_face(people: list, faces: list) -> list:
    """A face has one body: of two poses whose noses both lie in one detected face's box
    (a pose spliced from a person's face and a neighbour's arm, seen on the coaches
    photo), the surer one is kept."""
    drop: set[int] = set()
    for f in faces:
        x0, y0, x1, y1 = f.box
        mx, my = 0.1 * (x1 - x0), 0.1 * (y1 - y0)
        inside = [i for i, p in enumerate(people) if p.landmarks is not None
                  and x0 - mx <= p.landmarks[0, 0] <= x1 + mx and y0 - my <= p.landmarks[0, 1] <= y1 + my]
        if len(inside) > 1:
            best = max(inside, key=lambda i: people[i].score)
            drop |= set(inside) - {best}
    return [p for i, p in enumerate(people) if i not in drop]


def _head_box(box: tuple[float, float, float, float]) -> tuple[float, float, float, float]:
    """Where a person's head may be: the top 40 % of the box, widened by a quarter."""
    x0, y0, x1, y1 = box
    w, h = x1 - x0, y1 - y0
    return (x0 - 0.25 * w, y0 - 0.1 * h, x1 + 0.25 * w, y0 + 0.4 * h)


def _faces_into_people(det: Detections) -> None:
    """A face is part of its person: the pose model's coarse mask often cuts an open
    mouth or a chin against a blurred background, so each face's mesh mask joins the
    person whose mask covers most of the face box (people without a face are unchanged)."""
    if not det.people or not det.faces:
        return
    for f in det.faces:
        x0, y0, x1, y1 = (int(round(v)) for v in f.box)
        x0, y0 = max(0, x0), max(0, y0)
        if x1 <= x0 or y1 <= y0:
            continue
        cover = [float(p.mask[y0:y1, x0:x1].mean()) for p in det.people]
        best = int(np.argmax(cover))
        if cover[best] > 0.3:
            p = det.people[best]
            p.mask = np.maximum(p.mask, det.face_mask(f, "face")).astype(np.float32)
