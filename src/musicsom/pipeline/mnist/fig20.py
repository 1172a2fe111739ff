"""Stage (Fig 20): the L-curve of λ (``lam``) for informed MUSIC on the "0" → "1" trajectory.

    python -m musicsom.pipeline.mnist.fig20 <the context options of mnist.sweep> --transition '{"source": 0, ...}' \
        --sweep '{"n_starts": 5, "lcurve_lam": [1e-6, 100.0], "lcurve_points": 41, ...}' --music '{"alpha": 0.5, ...}' \
        --lam-sweep results/mnist/seed0/sweep_lam.csv --figure results/figures/fig20_lcurve_lam.png

Residual norm (the data-fit part of the MUSIC energy) against the norm of the unclipped step, both
on log axes, for a dense grid of λ (``mnist.sweep.lcurve_points`` values over the range
``mnist.sweep.lcurve_lam``) at the start image (line) and averaged along each trajectory of the λ sweep
(points, labelled with λ). The corner marks where more regularisation starts to cost fit faster than it
shrinks the step.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd

from musicsom.experiments import mnist as mn
from musicsom.music import Music, MusicParams
from musicsom.pipeline import files
from musicsom.pipeline.mnist.context import add_context_args, add_sweep_args, load_context, transition_pair
from musicsom.pipeline.sections import build, require


def main(argv=None):
    p = files.parser(__doc__.splitlines()[0])
    add_context_args(p, vae=False, knn=False)
    add_sweep_args(p, "n_starts: their draw of start images, the first one is used; lcurve_lam and lcurve_points: "
                   "the dense grid of lam")
    p.add_argument("--lam-sweep", required=True, help="the lam sweep's CSV of mnist.sweep (with its L-curve columns)")
    p.add_argument("--figure", required=True, help="PNG to write (PDF and CSV beside it)")
    a = p.parse_args(argv)
    plt = files.setup_matplotlib()
    source, target_class = transition_pair(a)
    s = require(a.sweep, "mnist.sweep", ("n_starts", "lcurve_lam", "lcurve_points"))
    params = build(MusicParams, a.music, "mnist.music")
    ctx = load_context(a, knn=False, vae=False)
    idx = int(mn.choose_starts(ctx.y_test, source, target_class, int(s["n_starts"]), a.seed)[0])
    x0 = ctx.z_test[idx]
    target, _ = mn.choose_target(ctx.W, ctx.labels, ctx.purity, x0, target_class, ctx.min_purity)
    P = Music(ctx.W, params, ctx.grid_shape, ctx.topology).preserved_set(x0, [target])
    low, high = (float(v) for v in s["lcurve_lam"])
    lams = np.geomspace(low, high, int(s["lcurve_points"]))
    curve = np.array([mn.music_residual(x0, ctx.W, target, P, dataclasses.replace(params, lam=float(l))) for l in lams])
    sweep = files.load_csv(a.lam_sweep)
    sweep = sweep[sweep["start"] == 0].sort_values("value")
    if sweep["mean_residual_norm"].isna().all():
        raise files.InputError(f"{a.lam_sweep} has no L-curve columns; it must be the lam sweep of mnist.sweep (--param lam)")
    fig, ax = plt.subplots(figsize=(5.5, 4.5))
    ax.loglog(curve[:, 1], curve[:, 0], "-", color="C0", label="at the start image (dense λ grid)")
    last = None
    for l, (res, step) in zip(lams, curve):
        decade = np.isclose(np.log10(l) % 1, 0) or np.isclose(np.log10(l) % 1, 1)
        # label decades, skipping those that would overprint the previous label (where the curve flattens)
        if decade and (last is None or np.hypot(*np.log10([step / last[0], res / last[1]])) > 0.08):
            ax.annotate(f"{l:g}", (step, res), fontsize=7, color="C0", xytext=(2, 2), textcoords="offset points")
            last = (step, res)
    ax.loglog(sweep["mean_step_norm_unclipped"], sweep["mean_residual_norm"], "o", color="C3", label="mean along each sweep trajectory")
    for _, r in sweep.iterrows():
        ax.annotate(f"λ={r['value']:g}", (r["mean_step_norm_unclipped"], r["mean_residual_norm"]), fontsize=7, color="C3",
                    xytext=(3, -8), textcoords="offset points")
    ax.axvline(params.eta, color="0.6", ls=":", lw=0.8, label=f"trust radius η = {params.eta:g}")
    ax.set_xlabel("||δ|| (unclipped step norm)")
    ax.set_ylabel("residual norm")
    ax.set_title("L-curve of the Tikhonov weight λ ('0' → '1')", fontsize=9)
    ax.legend(fontsize=7)
    fig.tight_layout()
    data = pd.concat([
        pd.DataFrame({"kind": "start_dense", "lam": lams, "residual_norm": curve[:, 0], "step_norm": curve[:, 1]}),
        pd.DataFrame({"kind": "trajectory_mean", "lam": sweep["value"].to_numpy(), "residual_norm": sweep["mean_residual_norm"].to_numpy(),
                      "step_norm": sweep["mean_step_norm_unclipped"].to_numpy()}),
    ], ignore_index=True)
    files.save_figure(fig, a.figure, data)


if __name__ == "__main__":
    files.run_main(main)
