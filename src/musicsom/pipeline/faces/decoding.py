"""Helpers shared by the faces stages: loading a seed's face code, decoding latent states to
faces, and the strip figures of Figs 11, 12 and 14. They read files and draw; the experiment logic
lives in :mod:`musicsom.experiments.faces`.
"""

from __future__ import annotations

import numpy as np

from musicsom.encoding import PCAWhitening
from musicsom.pipeline import files


def load_autoencoder(path):
    """A seed's face code, :class:`~musicsom.experiments.models.face_autoencoder.FaceAutoencoder` (eval mode), of the faces_autoencoder rule."""
    from musicsom.experiments.models.face_autoencoder import FaceAutoencoder

    return files.load_model(path, FaceAutoencoder)


def load_whitening(latent: dict) -> PCAWhitening:
    """The fitted whitening stored in a latent ``.npz`` (as loaded by ``files.load_npz``)."""
    return PCAWhitening.from_arrays(latent["pca_mean"], latent["pca_components"], latent["pca_variance"],
                                    float(latent["pca_total_variance"]))


class LatentDecoder:
    """Whitened latent states → face images: undo the whitening, then the face code's decoder."""

    def __init__(self, checkpoint, latent: dict):

        self.model = load_autoencoder(checkpoint)
        self.pca = load_whitening(latent)

    def __call__(self, states) -> np.ndarray:
        """(n, D) states → (n, S, S, 3) uint8 images."""
        from musicsom.experiments.models.face_autoencoder import decode_codes

        return decode_codes(self.model, self.pca.decode(np.atleast_2d(states)))


def strip_figure(rows, row_labels, steps, marks=None, notes=None, title=None):
    """A grid of image strips: ``rows`` is a list of (n_frames, S, S, 3) uint8 arrays.

    ``marks[i][j]`` False draws a red border (no face detected); ``notes[i][j]`` is a short text under
    a frame; ``steps`` label the columns.
    """
    plt = files.setup_matplotlib()
    n_rows, n_cols = len(rows), len(steps)
    height = 1.08 * n_rows + 0.6
    fig, axes = plt.subplots(n_rows, n_cols, figsize=(0.95 * n_cols + 1.6, height), squeeze=False)
    for i, strip in enumerate(rows):
        for j in range(n_cols):
            ax = axes[i, j]
            ax.imshow(strip[j], interpolation="nearest")
            ax.set_xticks([])
            ax.set_yticks([])
            ok = True if marks is None else bool(marks[i][j])
            for sp in ax.spines.values():
                sp.set_color("#d62728" if not ok else "0.7")
                sp.set_linewidth(2.5 if not ok else 0.5)
            if i == 0:
                ax.set_title(f"t={steps[j]}", fontsize=7)
            if notes is not None and notes[i][j]:
                ax.set_xlabel(notes[i][j], fontsize=6, labelpad=3)
        axes[i, 0].set_ylabel(row_labels[i], fontsize=7, rotation=0, ha="right", va="center")
    if title:
        fig.suptitle(title, fontsize=9, y=1 - 0.12 / height)
    fig.subplots_adjust(wspace=0.05, hspace=0.25 if notes is not None else 0.08, left=0.16, top=1 - 0.5 / height, bottom=0.3 / height)
    return fig


def measure_paths(paths, decode, fid, W, clusters: dict, target_cluster: str | None = None, identity_every: int = 1,
                  detect_every: int = 1):
    """Decode and measure face trajectories: one row per frame (the table of ``faces.frames``).

    ``paths``: [(experiment, method, cluster name or "", start, states (T+1, D)), ...]. Every frame gets its
    latent distances (to the cluster's prototypes, to the nearest prototype, to frame 0); frames every
    ``detect_every`` steps (plus the last) are decoded and dlib's detector is run on them (``detected``,
    else empty); on the MUSIC and linear paths toward ``target_cluster`` (``faces.target_cluster``; None: no
    path) the identity drift (distance of dlib descriptors to frame 0's) every ``identity_every`` steps plus the last.
    """
    import pandas as pd

    from musicsom.experiments.face_id import identity_drift
    from musicsom.experiments.faces import cluster_distance, nearest_prototype_distance

    tables = []
    for experiment, method, cluster, start, states in paths:
        T = states.shape[0]
        units = clusters[cluster]["units"] if cluster else None
        table = pd.DataFrame({
            "experiment": experiment, "method": method, "cluster": cluster, "start": start, "step": np.arange(T),
            "cluster_distance": cluster_distance(states, W, units) if units is not None else np.nan,
            "nearest_prototype": nearest_prototype_distance(states, W),
            "start_distance": np.linalg.norm(states - states[0], axis=1),
        })
        det_steps = np.unique(np.r_[np.arange(0, T, detect_every), T - 1])
        want_id = target_cluster is not None and cluster == target_cluster and experiment in ("informed", "linear")
        id_steps = np.unique(np.r_[np.arange(0, T, identity_every), T - 1]) if want_id else np.zeros(0, dtype=int)
        steps = np.union1d(det_steps, id_steps)
        images = dict(zip(steps, decode(states[steps])))
        table["detected"] = np.nan
        table.loc[det_steps, "detected"] = fid.detect_many([images[s] for s in det_steps]).astype(float)
        table["identity_drift"] = np.nan
        if want_id:
            desc, _ = fid.describe_many([images[s] for s in id_steps])
            table.loc[id_steps, "identity_drift"] = identity_drift(desc, desc[0])
        tables.append(table)
    return pd.concat(tables, ignore_index=True)
