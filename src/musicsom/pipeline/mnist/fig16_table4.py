"""Stage (Fig 16, Table 4): MUSIC vs the baseline arms (linear, kNN path, VAE, VAE slerp) on manifold distance and sharpness.

    python -m musicsom.pipeline.mnist.fig16_table4 --trajectory results/mnist/seed0/transition.npz \
        --summaries results/mnist/seed*/transition.json --pairs results/mnist/seed*/pairs.csv \
        --reference results/mnist/reference.json --transition '{"strip_frames": 11, ...}' \
        --figure results/figures/fig16_vae_comparison.png --table results/tables/table4_vae.csv

Figure (first seed, the "0" → "1" start and target of Fig 8): decoded strips of every arm the
demonstration holds (:data:`musicsom.experiments.mnist.METHODS`; ``mnist.transition.strip_frames`` frames
each), then per frame the Laplacian sharpness and the mean distance to the k nearest training images.
Table: per seed, the same two numbers (and the mean confidence) on the "0" → "1" trajectory, and
their means over every Table 2 trajectory of that seed, with the equal-decoder columns where the
trajectory CSVs have them (``<metric>_pca``: every arm's frames through the PCA decoder; ``<metric>_vae``:
through the VAE round trip); pooled over seeds; then the reference rows of ``mnist_reference`` (real
test images and their PCA / VAE reconstructions, decoded prototypes).
"""

from __future__ import annotations


import numpy as np
import pandas as pd

from musicsom.experiments.common import frame_steps
from musicsom.experiments.mnist import ARM_NAMES, DECODER_METRICS, DECODERS
from musicsom.experiments.mnist import METHODS as ARMS
from musicsom.pipeline import files
from musicsom.pipeline.sections import add_section, require

#: the arms the paper's Fig 16 shows; a demonstration without them is refused
REQUIRED = ("music", "linear", "vae")


def main(argv=None):
    p = files.parser(__doc__.splitlines()[0])
    p.add_argument("--trajectory", required=True, help="the 0 -> 1 demonstration of mnist.transition, first seed (.npz)")
    p.add_argument("--summaries", nargs="+", required=True, help="the demonstration's summary of every seed (transition.json)")
    p.add_argument("--pairs", nargs="+", required=True, help="the Table 2 trajectory CSVs of every seed (mnist.trajectories)")
    p.add_argument("--reference", required=True, help="reference.json of mnist_reference (real and reconstructed images)")
    add_section(p, "transition", "mnist.transition", "the demonstration (this stage reads strip_frames: frames per strip)")
    p.add_argument("--figure", required=True, help="PNG to write (PDF and CSV beside it)")
    p.add_argument("--table", required=True, help="Table 4 CSV to write (Markdown beside it)")
    a = p.parse_args(argv)
    n_frames = int(require(a.transition, "mnist.transition", ("strip_frames",))["strip_frames"])
    plt = files.setup_matplotlib()
    t = files.load_npz(a.trajectory, required=tuple(f"{m}_images" for m in REQUIRED))
    shown = [m for m in ARMS if f"{m}_images" in t]
    n = t["music_images"].shape[0]
    steps = frame_steps(n - 1, n_frames)
    k_arms = len(shown)
    height = 1.25 * k_arms + 3.6
    fig = plt.figure(figsize=(1.2 * steps.size, height))
    # the strips start half an inch below the title, whatever the number of arms
    gs = fig.add_gridspec(k_arms + 2, steps.size, height_ratios=[1] * k_arms + [0.35, 2.6], hspace=0.15, top=1 - 0.55 / height)
    for i, m in enumerate(shown):
        for j, s in enumerate(steps):
            ax = fig.add_subplot(gs[i, j])
            ax.imshow(1.0 - t[f"{m}_images"][s], cmap="gray", vmin=0, vmax=1)
            ax.set_xticks([])
            ax.set_yticks([])
            if i == 0:
                ax.set_title(f"t={s}", fontsize=7)
            if j == 0:
                ax.set_ylabel(ARM_NAMES.get(m, m), fontsize=9)
    half = steps.size // 2
    ax_s = fig.add_subplot(gs[k_arms + 1, :half])
    ax_m = fig.add_subplot(gs[k_arms + 1, half:])
    frames = []
    for k, m in enumerate(shown):
        sh, md = t[f"{m}_sharpness"], t[f"{m}_manifold_distance"]
        x = np.arange(sh.size)
        ax_s.plot(x, sh, color=f"C{k}", label=f"{ARM_NAMES.get(m, m)} (mean {np.mean(sh):.4f})")
        ok = np.isfinite(md)
        ax_m.plot(x[ok], md[ok], color=f"C{k}", label=f"{ARM_NAMES.get(m, m)} (mean {np.nanmean(md):.3f})")
        frames.append(pd.DataFrame({"method": m, "step": x, "sharpness": sh, "manifold_distance": md}))
    ax_s.set_title("Laplacian sharpness per frame", fontsize=9)
    ax_m.set_title("mean distance to the k nearest training images", fontsize=9)
    for ax in (ax_s, ax_m):
        ax.set_xlabel("step")
        ax.legend(fontsize=7)
        ax.grid(alpha=0.3)
    fig.suptitle(f"'{int(t['source'])}' → '{int(t['target'])}': MUSIC, linear and kNN path (whitened PCA latent), VAE line and slerp "
                 "(the VAE's latent)", fontsize=9)
    files.save_figure(fig, a.figure, pd.concat(frames, ignore_index=True))

    rows = []
    for path in a.summaries:
        s = files.load_json(path)
        for m in [m for m in ARMS if m in s["methods"]]:
            r = s["methods"][m]
            rows.append({"scope": f"'{s['source']}'->'{s['target']}' trajectory", "seed": s["seed"], "method": m, "n_trajectories": 1,
                         "manifold_distance": r["manifold_distance"], "sharpness": r["sharpness"], "mean_confidence": r["mean_confidence"]})
    pairs = pd.concat([files.load_csv(f) for f in a.pairs], ignore_index=True)
    cols = ["manifold_distance", "sharpness", "mean_confidence"]
    cols += [c for c in (f"{k}_{d}" for d in DECODERS for k in DECODER_METRICS) if c in pairs]
    arms = [m for m in ARMS if m in set(pairs["method"])]
    for seed, g in list(pairs.groupby("seed")) + [("pooled", pairs)]:
        for m in arms:
            gm = g[g["method"] == m]
            rows.append({"scope": "all Table 2 trajectories", "seed": seed, "method": m, "n_trajectories": len(gm), **gm[cols].mean().to_dict()})
    ref = files.load_json(a.reference)
    for name, r in ref["sets"].items():
        rows.append({"scope": f"reference: {name}", "seed": "", "method": "", "n_trajectories": r["n"],
                     "manifold_distance": r["manifold_distance"], "sharpness": r["sharpness"], "mean_confidence": float("nan")})
    table = pd.DataFrame(rows)
    table["seed"] = table["seed"].astype(str)
    files.save_table(a.table, table, title="Table 4: MUSIC vs linear, kNN-path, VAE and VAE-slerp interpolation (manifold distance: mean "
                   "k-NN distance to the training images, pixels in [0, 1]; sharpness: variance of the discrete Laplacian)",
                   notes="Reference rows: the same metrics on a seeded sample of test images, on their PCA reconstructions (the "
                   "decoder of every MUSIC, linear and kNN-path frame), on their VAE reconstructions (the decoder of every VAE "
                   "and slerp frame) and on decoded SOM prototypes (first seed). Columns ending _pca / _vae: the Table 2 "
                   "trajectories' frames of every arm through the PCA decoder / the VAE round trip (an arm's own decoder "
                   "repeats its plain value), which separates the path from the decoder.")


if __name__ == "__main__":
    files.run_main(main)
