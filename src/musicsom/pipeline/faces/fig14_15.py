"""Stage: Figs 14-15, linear interpolation to the target cluster's mean vs informed MUSIC toward the cluster.

    python -m musicsom.pipeline.faces.fig14_15 --latent results/faces/latent.npz --checkpoint results/faces/autoencoder.pt \
        --informed results/faces/seed0/informed.npz --linear results/faces/seed0/linear.npz \
        --frames results/faces/seed0/frames.csv --figures '{"n_starts": 3, "n_frames": 11}' \
        --fig14 results/figures/fig14_faces_linear_vs_music_strips.png --fig15 results/figures/fig15_faces_identity_drift.png

Fig 14: decoded strips, two rows per start (linear, MUSIC), the identity drift under each frame and
a red frame where dlib finds no face. Fig 15: per step, the mean distance to the cluster's prototypes
and the identity drift (dlib descriptor distance to frame 0; dashed: the 0.6 same-person threshold),
every start thin and the mean thick. The target cluster (``faces.target_cluster``) is the one the linear
paths went to (``cluster`` of the linear ``.npz``).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from musicsom.pipeline import files
from musicsom.experiments.face_id import SAME_PERSON_THRESHOLD
from musicsom.experiments.common import METHOD_NAMES, frame_steps
from musicsom.pipeline.faces.decoding import strip_figure
from musicsom.pipeline.faces.options import add_files, add_sections, section

COLORS = {"music": "tab:blue", "linear": "tab:orange"}
#: the target cluster as Fig 14's title names it
TOWARD = {"female": "the apparent-female cluster", "darker_skinned": "the apparent darker-skinned cluster",
          "random": "the random cluster"}


def main(argv=None):
    p = files.parser(__doc__.splitlines()[0])
    add_files(p, "latent", "checkpoint", "informed", "linear", "frames")  # of the first seed
    add_sections(p, "figures")
    p.add_argument("--fig14", required=True, help="PNG of Fig 14 to write (PDF and CSV beside it)")
    p.add_argument("--fig15", required=True, help="PNG of Fig 15 to write (PDF and CSV beside it)")
    args = p.parse_args(argv)
    fig_cfg = section(args, "figures")

    from musicsom.pipeline.faces.decoding import LatentDecoder

    lat = files.load_npz(args.latent, required=("x_test",))
    inf = files.load_npz(args.informed, required=("states", "clusters"))
    lin = files.load_npz(args.linear, required=("states", "cluster"))
    cluster = str(lin["cluster"])
    c = list(inf["clusters"].astype(str)).index(cluster)
    frames = files.load_csv(args.frames)
    frames = frames[(frames["cluster"] == cluster) & frames["experiment"].isin(["informed", "linear"])]
    decode = LatentDecoder(args.checkpoint, lat)
    T = lin["states"].shape[1] - 1
    steps = frame_steps(T, fig_cfg["n_frames"])
    # show frames whose drift was measured: the nearest measured step to each even spacing
    measured = np.sort(frames.loc[frames["identity_drift"].notna(), "step"].unique())
    steps = np.unique([measured[np.abs(measured - s).argmin()] for s in steps]) if measured.size else steps
    paths = {"linear": lin["states"], "music": inf["states"][:, c]}
    rows, labels, marks, notes, data = [], [], [], [], []
    for s in range(min(fig_cfg["n_starts"], lin["states"].shape[0])):
        for method in ("linear", "music"):
            rows.append(decode(paths[method][s, steps]))
            f = frames[(frames["method"] == method) & (frames["start"] == s)].set_index("step").loc[steps]
            marks.append(f["detected"].astype(bool).tolist())
            notes.append([f"id {v:.2f}" if np.isfinite(v) else "" for v in f["identity_drift"]])
            labels.append(f"start {s}\n{METHOD_NAMES[method]}")
            data.append(pd.DataFrame({"start": s, "method": method, "step": steps, "detected": f["detected"].to_numpy(),
                                      "identity_drift": f["identity_drift"].to_numpy(),
                                      "cluster_distance": f["cluster_distance"].to_numpy()}))
    fig = strip_figure(rows, labels, steps, marks, notes,
                       title=f"Toward {TOWARD.get(cluster, cluster)}: linear interpolation to its mean vs informed MUSIC (id = identity drift)")
    files.save_figure(fig, args.fig14, pd.concat(data, ignore_index=True))

    plt = files.setup_matplotlib()
    fig, axes = plt.subplots(1, 2, figsize=(8, 3))
    for method in ("linear", "music"):
        g = frames[frames["method"] == method]
        name = METHOD_NAMES[method]
        for ax, col in zip(axes, ("cluster_distance", "identity_drift")):
            piv = g.pivot(index="step", columns="start", values=col).dropna(how="all")
            ax.plot(piv.index, piv.to_numpy(), color=COLORS[method], lw=0.6, alpha=0.4)
            ax.plot(piv.index, piv.mean(1), color=COLORS[method], lw=2, label=name)
    axes[0].set_ylabel("mean distance to the cluster's prototypes")
    axes[1].axhline(SAME_PERSON_THRESHOLD, color="k", ls="--", lw=1, label="dlib same-person threshold 0.6")
    axes[1].set_ylabel("identity drift (descriptor distance to frame 0)")
    for ax in axes:
        ax.set_xlabel("step")
        ax.legend(fontsize=7)
    fig.tight_layout()
    curve = frames[["method", "start", "step", "cluster_distance", "identity_drift", "detected"]]
    files.save_figure(fig, args.fig15, curve.sort_values(["method", "start", "step"]).reset_index(drop=True))


if __name__ == "__main__":
    files.run_main(main)
