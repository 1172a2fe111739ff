"""Stage: Figs 14-15, linear interpolation to the target cluster's mean vs informed MUSIC toward the cluster.

    python -m musicsom.pipeline.faces.fig14_15 --latent results/faces/seed0/latent.npz --checkpoint results/faces/seed0/autoencoder.pt \
        --informed results/faces/seed0/informed.npz --linear results/faces/seed0/linear.npz \
        --frames results/faces/seed0/frames.csv --calibration results/faces/seed0/identity_calibration.json \
        --figures '{"n_starts": 3, "n_frames": 11}' \
        --fig14 results/figures/fig14_faces_linear_vs_music_strips.png --fig15 results/figures/fig15_faces_identity_drift.png

Fig 14: decoded strips, two rows per start (linear, MUSIC), the identity drift under each frame and
a red frame where dlib finds no face. Fig 15: per step, the mean distance to the cluster's prototypes
and the identity drift (dlib descriptor distance to frame 0; dashed: the 0.6 same-person threshold),
every start thin and the mean thick, over the bands of the identity calibration (faces.identity_calibration,
faces decoded through the latent): the median distance between two decodings of one photo (same image), the
median and quartiles of LFW's same-person pairs and of its different-people pairs. The target cluster
(``faces.target_cluster``) is the one the linear paths went to (``cluster`` of the linear ``.npz``).
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


#: the calibration bands of Fig 15: key of the summary's ``bands`` -> (colour, what it is)
BANDS = {
    "same_image": ("tab:green", "same photo, two decodings"),
    "same_person": ("tab:purple", "same person (LFW pairs)"),
    "different_people": ("tab:red", "different people (LFW pairs)"),
}


def calibration_bands(ax, calibration: dict) -> pd.DataFrame:
    """Shade the quartiles and draw the median of each calibration band (decoded faces) across the drift axis;
    returns the bands drawn (band, n, q25, median, q75) for the figure's CSV."""
    bands = calibration.get("bands") if isinstance(calibration, dict) else None
    if not isinstance(bands, dict) or any(k not in bands for k in BANDS):
        raise files.InputError(f"the identity calibration lacks the bands {sorted(BANDS)}; rerun faces_identity_calibration")
    rows = []
    for key, (color, what) in BANDS.items():
        b = bands[key]
        if not b.get("n"):
            continue  # no pair of this kind in the calibration (a tiny run): nothing to draw
        ax.axhspan(b["q25"], b["q75"], color=color, alpha=0.12, lw=0)
        ax.axhline(b["median"], color=color, lw=1, ls=":", label=f"{what}: median {b['median']:.3g}, quartiles shaded")
        rows.append({"band": key, "n": b["n"], "q25": b["q25"], "median": b["median"], "q75": b["q75"]})
    return pd.DataFrame(rows, columns=["band", "n", "q25", "median", "q75"])


def main(argv=None):
    p = files.parser(__doc__.splitlines()[0])
    add_files(p, "latent", "checkpoint", "informed", "linear", "frames")  # of the first seed
    p.add_argument("--calibration", required=True,
                   help="the identity calibration's summary (JSON of faces.identity_calibration): Fig 15's bands")
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
    fig, axes = plt.subplots(1, 2, figsize=(8, 3.8))
    for method in ("linear", "music"):
        g = frames[frames["method"] == method]
        name = METHOD_NAMES[method]
        for ax, col in zip(axes, ("cluster_distance", "identity_drift")):
            piv = g.pivot(index="step", columns="start", values=col).dropna(how="all")
            ax.plot(piv.index, piv.to_numpy(), color=COLORS[method], lw=0.6, alpha=0.4)
            ax.plot(piv.index, piv.mean(axis=1), color=COLORS[method], lw=2, label=name)
    axes[0].set_ylabel("mean distance to the cluster's prototypes")
    bands = calibration_bands(axes[1], files.load_json(args.calibration))
    axes[1].axhline(SAME_PERSON_THRESHOLD, color="k", ls="--", lw=1, label="dlib same-person threshold 0.6")
    axes[1].set_ylabel("identity drift (dlib distance to frame 0)")
    for ax in axes:
        ax.set_xlabel("step")
    axes[0].legend(fontsize=7)
    # the bands' legend is long: under both axes, so that it hides no curve
    handles, labels = axes[1].get_legend_handles_labels()
    keep = [i for i, name in enumerate(labels) if name not in {METHOD_NAMES[m] for m in COLORS}]
    fig.tight_layout(rect=(0, 0.15, 1, 1))
    fig.legend([handles[i] for i in keep], [labels[i] for i in keep], loc="lower center", ncol=2, fontsize=6.5,
               frameon=False, title="identity calibration (faces decoded through the SOM's latent)", title_fontsize=7)
    curve = frames[["method", "start", "step", "cluster_distance", "identity_drift", "detected"]]
    curve = curve.sort_values(["method", "start", "step"]).reset_index(drop=True)
    # the bands as rows of their own (method "calibration"), their quartiles and median in band_* columns
    band_rows = bands.rename(columns={"q25": "band_q25", "median": "band_median", "q75": "band_q75", "n": "band_n"})
    files.save_figure(fig, args.fig15, pd.concat([curve, band_rows.assign(method="calibration")], ignore_index=True))


if __name__ == "__main__":
    files.run_main(main)
