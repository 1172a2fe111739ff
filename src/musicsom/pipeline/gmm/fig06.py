"""Stage (Fig 6): informed convergence and cluster exploration drawn over the SOM and the data (first two coordinates).

    python -m musicsom.pipeline.gmm.fig06 --data data.npz --som som.npz --trajectories trajectories.npz \
        --figure results/figures/fig06_gmm_trajectories.png
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from musicsom.pipeline import files


def main(argv=None):
    p = files.parser(__doc__.splitlines()[0])
    p.add_argument("--data", required=True, help="the standardised mixture of the first seed (.npz)")
    p.add_argument("--som", required=True, help="its SOM (.npz)")
    p.add_argument("--trajectories", required=True, help="its trajectories (.npz of gmm.trajectories)")
    p.add_argument("--figure", required=True, help="PNG to write (PDF and CSV beside it)")
    a = p.parse_args(argv)
    d = files.load_npz(a.data, required=("x_train", "y_train"))
    som = files.load_npz(a.som, required=("prototypes", "grid_shape"))
    t = files.load_npz(a.trajectories, required=("informed_states", "cluster_states", "target", "cluster"))
    W = som["prototypes"]
    rows, cols = (int(v) for v in som["grid_shape"])
    plt = files.setup_matplotlib()
    fig, axes = plt.subplots(1, 2, figsize=(10, 4.6), sharex=True, sharey=True)
    records = []
    sub = d["x_train"][:: max(1, len(d["x_train"]) // 3000)]
    lab = d["y_train"][:: max(1, len(d["x_train"]) // 3000)]
    G = W.reshape(rows, cols, -1)
    for ax, regime, title in ((axes[0], "informed", "(a) informed convergence to one prototype"), (axes[1], "cluster", "(b) cluster exploration (random target in the component)")):
        ax.scatter(sub[:, 0], sub[:, 1], c=lab, s=2, cmap="tab10", vmin=0, vmax=9, alpha=0.15)
        for r in range(rows):
            ax.plot(G[r, :, 0], G[r, :, 1], color="0.6", lw=0.4)
        for c in range(cols):
            ax.plot(G[:, c, 0], G[:, c, 1], color="0.6", lw=0.4)
        ax.plot(W[t["cluster"], 0], W[t["cluster"], 1], "s", mfc="none", color="C2", ms=3, label="component prototypes")
        ax.plot(*W[int(t["target"]), :2], "r*", ms=12, label="target prototype")
        S = t[f"{regime}_states"]
        for i, traj in enumerate(S):
            ax.plot(traj[:, 0], traj[:, 1], "-", lw=0.8, color="k", alpha=0.7)
            ax.plot(traj[0, 0], traj[0, 1], "o", ms=3, color="C0")
            ax.plot(traj[-1, 0], traj[-1, 1], "x", ms=4, color="C3")
            records.append(pd.DataFrame({"regime": regime, "trajectory": i, "step": np.arange(len(traj)), "x0": traj[:, 0], "x1": traj[:, 1]}))
        ax.set_title(title, fontsize=9)
        ax.set_xlabel("coordinate 1 (standardised)")
    axes[0].set_ylabel("coordinate 2 (standardised)")
    axes[0].legend(fontsize=7, loc="lower left")
    fig.suptitle(f"MUSIC trajectories on the mixture SOM: {len(t['informed_states'])} starts from all components, {t['informed_states'].shape[1] - 1} steps")
    files.save_figure(fig, a.figure, pd.concat(records, ignore_index=True))


if __name__ == "__main__":
    files.run_main(main)
