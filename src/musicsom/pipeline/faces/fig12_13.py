"""Stage: Figs 12-13, informed MUSIC exploration toward the darker-skinned, female and random clusters.

    python -m musicsom.pipeline.faces.fig12_13 --latent results/faces/seed0/latent.npz --checkpoint results/faces/seed0/autoencoder.pt \
        --informed results/faces/seed0/informed.npz --frames results/faces/seed0/frames.csv \
        --clusters results/faces/seed0/clusters.json --figures '{"n_starts": 3, "n_frames": 11}' \
        --fig12 results/figures/fig12_faces_informed_strips.png --fig13 results/figures/fig13_faces_cluster_distance.png

Fig 12: decoded strips, one row per (start face, cluster); a red frame marks no detected face.
Fig 13: the mean latent distance to the cluster's prototypes per step, every start (thin) and their
mean (thick), one panel per cluster. Cluster labels are apparent attributes.
"""

from __future__ import annotations


import pandas as pd

from musicsom.pipeline import files
from musicsom.experiments.common import frame_steps
from musicsom.pipeline.faces.decoding import strip_figure
from musicsom.pipeline.faces.options import add_files, add_sections, section

TITLES = {"darker_skinned": "apparent darker skin", "female": "apparent female", "random": "5 random prototypes"}


def main(argv=None):
    p = files.parser(__doc__.splitlines()[0])
    add_files(p, "latent", "checkpoint", "informed", "frames", "clusters")  # of the first seed
    add_sections(p, "figures")
    p.add_argument("--fig12", required=True, help="PNG of Fig 12 to write (PDF and CSV beside it)")
    p.add_argument("--fig13", required=True, help="PNG of Fig 13 to write (PDF and CSV beside it)")
    args = p.parse_args(argv)
    fig_cfg = section(args, "figures")

    from musicsom.pipeline.faces.decoding import LatentDecoder

    lat = files.load_npz(args.latent, required=("x_test",))
    inf = files.load_npz(args.informed, required=("states", "clusters"))
    clusters = files.load_json(args.clusters)
    frames = files.load_csv(args.frames)
    frames = frames[frames["experiment"] == "informed"]
    names = inf["clusters"].astype(str)
    S = inf["states"]
    steps = frame_steps(S.shape[2] - 1, fig_cfg["n_frames"])
    decode = LatentDecoder(args.checkpoint, lat)
    rows, labels, marks, data = [], [], [], []
    for s in range(min(fig_cfg["n_starts"], S.shape[0])):
        for c, name in enumerate(names):
            rows.append(decode(S[s, c, steps]))
            f = frames[(frames["cluster"] == name) & (frames["start"] == s)].set_index("step").loc[steps]
            marks.append(f["detected"].astype(bool).tolist())
            labels.append(f"start {s}\n{TITLES.get(name, name)}")
            data.append(pd.DataFrame({"start": s, "cluster": name, "step": steps, "detected": f["detected"].to_numpy(),
                                      "cluster_distance": f["cluster_distance"].to_numpy()}))
    fig = strip_figure(rows, labels, steps, marks, title="Informed MUSIC toward labelled clusters (one random cluster prototype per step)")
    files.save_figure(fig, args.fig12, pd.concat(data, ignore_index=True))

    plt = files.setup_matplotlib()
    fig, axes = plt.subplots(1, len(names), figsize=(3.2 * len(names), 2.8), squeeze=False)
    for c, name in enumerate(names):
        ax = axes[0, c]
        g = frames[frames["cluster"] == name].pivot(index="step", columns="start", values="cluster_distance")
        ax.plot(g.index, g.to_numpy(), color="tab:blue", lw=0.6, alpha=0.5)
        ax.plot(g.index, g.mean(1), color="tab:blue", lw=2, label="mean over starts")
        info = clusters[name]
        extra = f", share {info['share']:.2f}" if info.get("share") is not None else ""
        ax.set_title(f"{TITLES.get(name, name)} ({info['size']} prototypes{extra})", fontsize=8)
        ax.set_xlabel("step")
        if c == 0:
            ax.set_ylabel("mean distance to the cluster's prototypes")
            ax.legend(fontsize=7)
    fig.tight_layout()
    curve = frames[["cluster", "start", "step", "cluster_distance"]].sort_values(["cluster", "start", "step"])
    files.save_figure(fig, args.fig13, curve.reset_index(drop=True))


if __name__ == "__main__":
    files.run_main(main)
