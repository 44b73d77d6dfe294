"""The people's skin and hair: colour models in CIELAB inside the people's masks.

- :func:`skin_mask`: visible skin (face, neck, arms, hands, legs) of the people given,
  from a robust Lab Gaussian fitted on their faces (the face mesh's facial skin, else
  the inner faces the pose landmarks locate), the generic YCrCb skin rule as fallback.
- :func:`hair_mask`: hair above and beside each face box, by colour against the face's
  skin and connection to what is found above the forehead.

Inputs: uint8 RGB ``(h, w, 3)``; people as :class:`pertouch.tools.people.Person`
(``mask`` float32 ``(h, w)`` in [0, 1], ``landmarks`` ``(33, 4)`` or None); faces as
objects with ``.box`` (x0, y0, x1, y1) px (e.g. :class:`pertouch.tools.faces.Face`).
Outputs: float32 ``(h, w)`` in [0, 1], zero outside the people's masks. Coordinates
are pixels of the image given (x right, y down). No models: colour statistics only.

>>> skin = skin_mask(rgb, detect_people(rgb))          # doctest: +SKIP
>>> hair = hair_mask(rgb, people, detect_faces(rgb))   # doctest: +SKIP
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import cv2
import numpy as np

if TYPE_CHECKING:
    from pertouch.tools.people import Person


@dataclass
class ColourModel:
    """A Gaussian in CIELAB (L 0–100, a, b): ``mean`` (3,), inverse covariance (3, 3)."""

    mean: np.ndarray
    inv_cov: np.ndarray

    def chroma_distance(self, lab: np.ndarray) -> np.ndarray:
        """Mahalanobis distance of the (a, b) chroma alone (lightness ignored), ``(...)``."""
        inv_ab = np.linalg.inv(np.linalg.inv(self.inv_cov)[1:, 1:])
        d = lab.reshape(-1, 3)[:, 1:] - self.mean[1:]
        m = np.einsum("ij,jk,ik->i", d, inv_ab, d)
        return np.sqrt(np.maximum(m, 0)).astype(np.float32).reshape(lab.shape[:-1])

    def distance(self, lab: np.ndarray) -> np.ndarray:
        """Mahalanobis distance of ``(..., 3)`` Lab pixels, float32 ``(...)``."""
        d = lab.reshape(-1, 3) - self.mean
        m = np.einsum("ij,jk,ik->i", d, self.inv_cov, d)
        return np.sqrt(np.maximum(m, 0)).astype(np.float32).reshape(lab.shape[:-1])


def lab_of(rgb: np.ndarray) -> np.ndarray:
    """uint8 RGB → float32 CIELAB (L 0–100)."""
    return cv2.cvtColor(rgb.astype(np.float32) * (1.0 / 255.0), cv2.COLOR_RGB2LAB)


def fit_colour(lab_pixels: np.ndarray, l_slack: float = 2.0) -> ColourModel | None:
    """Robust Gaussian of ``(n, 3)`` Lab samples: fitted, its 25 % farthest samples dropped,
    refitted (twice). L's variance is multiplied by ``l_slack``² (limbs are lit unlike
    the face). None for fewer than 20 samples."""
    x = np.asarray(lab_pixels, np.float64).reshape(-1, 3)
    if len(x) < 20:
        return None
    for _ in range(3):
        mean = x.mean(0)
        cov = np.cov(x, rowvar=False) + np.diag([4.0, 1.0, 1.0])  # floor: ΔL 2, Δa/Δb 1
        inv = np.linalg.inv(cov)
        d = np.einsum("ij,jk,ik->i", x - mean, inv, x - mean)
        if len(x) < 40:
            break
        x = x[d <= np.quantile(d, 0.75)]
    cov = np.cov(x, rowvar=False) + np.diag([4.0, 1.0, 1.0])
    cov[0, :] *= l_slack
    cov[:, 0] *= l_slack
    return ColourModel(x.mean(0), np.linalg.inv(cov))


def generic_skin(rgb: np.ndarray) -> np.ndarray:
    """The classic YCrCb skin box (Chai & Ngan: 133 ≤ Cr ≤ 173, 77 ≤ Cb ≤ 127) with
    40 ≤ Y ≤ 250, as float32 {0, 1} ``(h, w)``: any skin tone under daylight-ish light,
    and also wood, sand, leather."""
    ycc = cv2.cvtColor(rgb, cv2.COLOR_RGB2YCrCb)
    y, cr, cb = ycc[..., 0], ycc[..., 1], ycc[..., 2]
    return ((cr >= 133) & (cr <= 173) & (cb >= 77) & (cb <= 127) & (y >= 40) & (y <= 250)).astype(np.float32)


def _face_seed(rgb: np.ndarray, people: list[Person]) -> np.ndarray:
    """Pixels of the inner faces (between the eyes and the mouth, from the landmarks of
    people whose face landmarks are visible) that pass the generic skin rule: bool."""
    h, w = rgb.shape[:2]
    seed = np.zeros((h, w), np.uint8)
    for p in people:
        lm = p.landmarks
        if lm is None or lm[[0, 2, 5, 9, 10], 3].min() < 0.5:
            continue
        eyes, mouth, nose = lm[[2, 5], :2], lm[[9, 10], :2], lm[0, :2]
        r = max(2, int(0.35 * np.linalg.norm(eyes[0] - eyes[1])))
        for c in (nose, (eyes.mean(0) + mouth.mean(0)) / 2, (eyes[0] + mouth[0]) / 2, (eyes[1] + mouth[1]) / 2):
            cv2.circle(seed, (int(c[0]), int(c[1])), r, 1, -1)
    return (seed > 0) & (generic_skin(rgb) > 0)


def skin_mask(rgb: np.ndarray, people: list[Person], face_skin: np.ndarray | None = None) -> np.ndarray:
    """float32 ``(h, w)`` in [0, 1]: the people's visible skin (face, neck, arms, hands, legs).

    A Gaussian colour model in Lab (:func:`fit_colour`) is fitted on ``face_skin`` (the
    face mesh's facial skin, > 0.5) when given, else on the inner faces the pose
    landmarks locate; pixels inside the people's masks count as skin by Mahalanobis
    distance (1 below 2.5, 0 above 4, linear between), times the person mask's
    confidence (0 below 0.35, 1 above 0.65: the soft fringes are background). Without
    a usable face (< 20 samples) the generic YCrCb rule is used instead. Nothing
    outside the people's masks counts (wooden tables, sand).
    """
    from pertouch.tools.people import people_mask  # lazy: people imports this module to re-export it

    h, w = rgb.shape[:2]
    person = people_mask(people, (h, w))
    inside = person > 0.05
    out = np.zeros((h, w), np.float32)
    if not inside.any():
        return out
    ys, xs = np.nonzero(inside)
    y0, y1, x0, x1 = ys.min(), ys.max() + 1, xs.min(), xs.max() + 1
    crop = rgb[y0:y1, x0:x1]
    lab = lab_of(crop)
    full_lab = None
    if face_skin is not None:
        sel = np.asarray(face_skin) > 0.5
        full_lab = lab_of(rgb)
        model_ = fit_colour(full_lab[sel])
    else:
        seed = _face_seed(rgb, people)
        model_ = fit_colour(lab_of(rgb)[seed]) if seed.sum() >= 20 else None
    if model_ is None:
        skin = generic_skin(crop)
    else:
        d = model_.distance(lab)
        skin = np.clip((4.0 - d) / 1.5, 0.0, 1.0)
    sure = np.clip((person[y0:y1, x0:x1] - 0.35) / 0.3, 0.0, 1.0)  # the people's confident pixels
    out[y0:y1, x0:x1] = skin * sure
    return out


def hair_mask(rgb: np.ndarray, people: list[Person], faces: list) -> np.ndarray:
    """float32 ``(h, w)`` in [0, 1]: hair, as far as a face box and colours tell.

    Per face box (size f, from ``tools/faces.py``), among the pixels of the person whose
    mask holds the box's centre: first those above the face (from 0.8 f above the box
    to 0.25 f below its top, 0.35 f wider each side), outside the face's inner
    ellipse, whose chroma is not that of a skin Gaussian fitted on the box's centre
    (Mahalanobis > 3 in a, b; lightness ignored: a shiny scalp or a shadowed temple
    is skin); if
    they are at least 3 % of f², the pixels beside the face (0.5 f out, down to 0.8 f
    below the chin) that match a Gaussian of that hair (Mahalanobis < 3) and connect
    to it join them.
    Soft at the person mask's edge. Empty without faces or people, and for bald heads.

    What it gets wrong: hats, caps and headscarves count as hair; hair the colour of the
    skin (some blond, grey on pale skin) is missed; fringes over the forehead below the
    eyebrow line are dropped; hair longer than the chin + 0.8 f is cut; beards and
    sideburns beside the face count as hair, a beard under the chin does not, a dark
    collar touching dark hair does; hair the person mask misses
    (flyaways against the background) is missed; profile faces, whose box is not
    centred on the head, place the band off the hair.
    """
    h, w = rgb.shape[:2]
    out = np.zeros((h, w), np.float32)
    if not faces or not people:
        return out
    lab = None
    for face in faces:
        bx0, by0, bx1, by1 = np.asarray(face.box, np.float64).reshape(4)
        f = max(bx1 - bx0, by1 - by0)
        cx, cy = (bx0 + bx1) / 2, (by0 + by1) / 2
        if f < 4 or not (0 <= cx < w and 0 <= cy < h):
            continue
        owner = max(people, key=lambda p: p.mask[int(cy), int(cx)])  # the person whose face it is
        if owner.mask[int(cy), int(cx)] <= 0.5:
            continue
        person = owner.mask
        X0, Y0 = int(max(bx0 - 0.5 * f, 0)), int(max(by0 - 0.8 * f, 0))
        X1, Y1 = int(min(bx1 + 0.5 * f, w)), int(min(by1 + 0.8 * f, h))
        if X1 <= X0 or Y1 <= Y0:
            continue
        if lab is None:
            lab = lab_of(rgb)
        yy, xx = np.mgrid[Y0:Y1, X0:X1].astype(np.float32)
        top = (xx >= bx0 - 0.35 * f) & (xx <= bx1 + 0.35 * f) & (yy <= by0 + 0.25 * f)
        side = ((xx <= bx0 + 0.1 * f) | (xx >= bx1 - 0.1 * f)) & (yy >= by0)
        inner = ((xx - cx) / (0.42 * (bx1 - bx0))) ** 2 + ((yy - cy) / (0.5 * (by1 - by0))) ** 2 <= 1.0
        # skin model from the face box's centre (generic-skin pixels there)
        c0, c1 = max(int(cx - 0.2 * f), 0), max(int(cx + 0.2 * f) + 1, 0)
        r0, r1 = max(int(cy - 0.1 * f), 0), max(int(cy + 0.3 * f) + 1, 0)
        centre = lab[r0:r1, c0:c1].reshape(-1, 3)
        cmask = generic_skin(rgb[r0:r1, c0:c1]).reshape(-1) > 0
        sk = fit_colour(centre[cmask], l_slack=1.5) if cmask.sum() >= 20 else None
        patch = lab[Y0:Y1, X0:X1]
        if sk is not None:
            differs = sk.chroma_distance(patch) > 3.0  # shadowed skin keeps its chroma
        else:
            differs = generic_skin(rgb[Y0:Y1, X0:X1]) < 0.5
        on_person = person[Y0:Y1, X0:X1] > 0.5
        hair = top & ~inner & differs & on_person
        # beside the face: only what has the colour of the hair found above it
        if hair.sum() < max(20.0, 0.03 * f * f):  # bald, shaved or hidden: no hair at all
            continue
        hm = fit_colour(patch[hair], l_slack=1.5)
        beside = side & ~inner & differs & on_person & (hm.distance(patch) < 3.0)
        n, labels = cv2.connectedComponents((hair | beside).astype(np.uint8), connectivity=8)
        touching = np.unique(labels[hair])
        hair = np.isin(labels, touching[touching > 0])  # only what hangs from the hair above
        np.maximum(out[Y0:Y1, X0:X1], hair.astype(np.float32) * person[Y0:Y1, X0:X1], out=out[Y0:Y1, X0:X1])
    return out
