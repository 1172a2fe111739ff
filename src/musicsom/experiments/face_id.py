"""dlib face detection and 128-d face descriptors for decoded faces (identity drift, face-likeness).

Models: dlib's HOG frontal face detector (``dlib.get_frontal_face_detector``), the 5-point shape
predictor and the ResNet face-recognition model ``dlib_face_recognition_resnet_model_v1.dat``. The
two model files come inside the ``face-recognition-models`` package (nothing is downloaded); they
are located through the package's folder without importing it (its ``__init__`` needs the removed
``pkg_resources``).

Decoded faces are small (64×64 or less), so each image is first resized to ``size``×``size`` pixels
(bicubic) before detection; the detector may upsample further (``detector_upsample``). The
descriptor is computed on the largest detected face; when no face is found it is computed on the
full-frame box instead (the crops are tight face crops, so the frame is roughly the face) and the
frame counts as *not detected*. Two descriptors closer than 0.6 (Euclidean) are, by dlib's usual
threshold, the same person. No file I/O beyond reading the two model files.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np

__all__ = ["SAME_PERSON_THRESHOLD", "model_paths", "available", "FaceID", "identity_drift"]

SAME_PERSON_THRESHOLD = 0.6  # dlib's usual same-person distance between descriptors


def model_paths() -> dict[str, Path]:
    """Paths of the shape predictor and the recognition model shipped in ``face-recognition-models``."""
    spec = importlib.util.find_spec("face_recognition_models")
    if spec is None or not spec.submodule_search_locations:
        raise ImportError("the package face-recognition-models is not installed (pip install face-recognition-models)")
    root = Path(list(spec.submodule_search_locations)[0]) / "models"
    paths = {
        "shape_predictor": root / "shape_predictor_5_face_landmarks.dat",
        "recognition": root / "dlib_face_recognition_resnet_model_v1.dat",
    }
    missing = [str(p) for p in paths.values() if not p.is_file()]
    if missing:
        raise ImportError(f"face-recognition-models lacks {missing}; reinstall it")
    return paths


def available() -> bool:
    """True when dlib and the model files can be loaded."""
    try:
        import dlib  # noqa: F401

        model_paths()
    except ImportError:
        return False
    return True


def _rgb_uint8(image) -> np.ndarray:
    a = np.asarray(image)
    if a.ndim != 3 or a.shape[2] != 3:
        raise ValueError(f"a face image must be (H, W, 3) RGB; got shape {a.shape}")
    if a.dtype != np.uint8:
        a = (np.clip(a, 0, 1) * 255 + 0.5).astype(np.uint8)
    return np.ascontiguousarray(a)


class FaceID:
    """Detect faces and compute dlib descriptors of small RGB images.

    Parameters
    ----------
    size : side the image is resized to before detection (bicubic); 0 keeps the original size.
    detector_upsample : how many times dlib's detector upsamples the image (0 = none).
    """

    def __init__(self, size: int = 150, detector_upsample: int = 0):
        import dlib

        if int(size) < 0 or int(detector_upsample) < 0:
            raise ValueError(f"size and detector_upsample must be >= 0; got {size}, {detector_upsample}")
        paths = model_paths()
        self.size = int(size)
        self.detector_upsample = int(detector_upsample)
        self._dlib = dlib
        self.detector = dlib.get_frontal_face_detector()
        self.shape_predictor = dlib.shape_predictor(str(paths["shape_predictor"]))
        self.recognizer = dlib.face_recognition_model_v1(str(paths["recognition"]))

    def prepare(self, image) -> np.ndarray:
        """The uint8 RGB image resized to ``size`` (what the detector and descriptor see)."""
        a = _rgb_uint8(image)
        if self.size and a.shape[:2] != (self.size, self.size):
            from PIL import Image

            a = np.asarray(Image.fromarray(a).resize((self.size, self.size), Image.Resampling.BICUBIC))
        return np.ascontiguousarray(a)

    def _box(self, img):
        rects = self.detector(img, self.detector_upsample)
        if len(rects) == 0:
            h, w = img.shape[:2]
            return self._dlib.rectangle(0, 0, w - 1, h - 1), False
        return max(rects, key=lambda r: r.area()), True

    def detect(self, image) -> bool:
        """Whether the detector finds a face in the (resized) image."""
        return self._box(self.prepare(image))[1]

    def describe(self, image) -> tuple[np.ndarray, bool]:
        """(128-d descriptor, detected); the descriptor uses the full frame when no face is detected."""
        img = self.prepare(image)
        box, found = self._box(img)
        shape = self.shape_predictor(img, box)
        return np.asarray(self.recognizer.compute_face_descriptor(img, shape), dtype=np.float64), found

    def detect_many(self, images) -> np.ndarray:
        return np.array([self.detect(im) for im in images], dtype=bool)

    def describe_many(self, images) -> tuple[np.ndarray, np.ndarray]:
        out = [self.describe(im) for im in images]
        if not out:
            return np.zeros((0, 128)), np.zeros(0, bool)
        return np.stack([d for d, _ in out]), np.array([f for _, f in out], dtype=bool)


def identity_drift(descriptors, reference) -> np.ndarray:
    """Euclidean distances between descriptors (n, 128) and one reference descriptor (128,)."""
    D = np.atleast_2d(np.asarray(descriptors, dtype=np.float64))
    r = np.asarray(reference, dtype=np.float64)
    if D.shape[1] != r.size:
        raise ValueError(f"descriptor sizes differ: {D.shape[1]} vs {r.size}")
    return np.linalg.norm(D - r[None, :], axis=1)
