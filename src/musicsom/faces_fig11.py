"""Stage: Fig 11, free evolution of held-out faces (MUSIC preserving the 4 nearest prototypes vs radial steps).

    python -m musicsom.faces_fig11 --latent results/faces/latent.npz --checkpoint results/faces/autoencoder.pt \
        --free results/faces/seed0/free.npz --frames results/faces/seed0/frames.csv --n-starts 3 --n-frames 11 \
        --figure results/figures/fig11_faces_free_evolution.png

Decoded strips, two rows per start face (MUSIC, radial), frames evenly spaced over the run; a red
frame marks a decoded image in which dlib's detector finds no face. The CSV beside the PNG holds the
shown frames' step, detection and latent distance to the nearest prototype, and each method's
detection rate per start. Faces are of real people: the figure stays under results/.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from . import _io


def strip_figure(rows, row_labels, steps, marks=None, notes=None, title=None):
    """A grid of image strips: ``rows`` is a list of (n_frames, S, S, 3) uint8 arrays.

    ``marks[i][j]`` False draws a red border (no face detected); ``notes[i][j]`` is a short text under
    a frame; ``steps`` label the columns.
    """
    plt = _io.setup_matplotlib()
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
                ax.set_xlabel(notes[i][j], fontsize=6, labelpad=1)
        axes[i, 0].set_ylabel(row_labels[i], fontsize=7, rotation=0, ha="right", va="center")
    if title:
        fig.suptitle(title, fontsize=9, y=1 - 0.12 / height)
    fig.subplots_adjust(wspace=0.05, hspace=0.25 if notes is not None else 0.08, left=0.16, top=1 - 0.5 / height, bottom=0.3 / height)
    return fig


def frame_steps(n_steps: int, n_frames: int) -> np.ndarray:
    return np.unique(np.linspace(0, n_steps, max(int(n_frames), 2)).round().astype(int))


def main(argv=None):
    p = _io.parser(__doc__.splitlines()[0])
    for name in ("latent", "checkpoint", "free", "frames", "figure"):
        p.add_argument(f"--{name}", required=True)
    p.add_argument("--n-starts", type=int, default=3, help="start faces shown")
    p.add_argument("--n-frames", type=int, default=11, help="frames per strip")
    args = p.parse_args(argv)

    from .faces_latent import LatentDecoder

    lat = _io.load_npz(args.latent, required=("x_test",))
    free = _io.load_npz(args.free, required=("states", "methods"))
    frames = pd.read_csv(args.frames)
    frames = frames[frames["experiment"] == "free"]
    decode = LatentDecoder(args.checkpoint, lat)
    S = free["states"]
    steps = frame_steps(S.shape[2] - 1, args.n_frames)
    rate = frames.groupby(["method", "start"])["detected"].mean()
    rows, labels, marks, data = [], [], [], []
    for s in range(min(args.n_starts, S.shape[0])):
        for m, method in enumerate(free["methods"].astype(str)):
            rows.append(decode(S[s, m, steps]))
            f = frames[(frames["method"] == method) & (frames["start"] == s)].set_index("step").loc[steps]
            marks.append(f["detected"].astype(bool).tolist())
            name = "MUSIC" if method == "music" else "radial"
            labels.append(f"start {s}\n{name}\nfaces {100 * rate[(method, s)]:.0f}%")
            data.append(pd.DataFrame({"start": s, "method": method, "step": steps, "detected": f["detected"].to_numpy(),
                                      "nearest_prototype": f["nearest_prototype"].to_numpy(),
                                      "detection_rate_of_run": rate[(method, s)]}))
    overall = frames.groupby("method")["detected"].mean()
    title = "Free evolution: MUSIC (4 nearest preserved) vs radial; equal step length. Faces found: " + ", ".join(
        f"{'MUSIC' if k == 'music' else k} {100 * v:.0f}%" for k, v in overall.items())
    fig = strip_figure(rows, labels, steps, marks, title=title)
    _io.save_figure(fig, args.figure, pd.concat(data, ignore_index=True))


if __name__ == "__main__":
    _io.run_main(main)
