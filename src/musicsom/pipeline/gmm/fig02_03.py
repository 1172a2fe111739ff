"""Stage (Figs 2 and 3): the two geometry illustrations.

    python -m musicsom.pipeline.gmm.fig02_03 --data data.npz --som som.npz --seed 0 --geometry '{"delta_d": 0.3}' \
        --fig02 results/figures/fig02_naive_vs_consistent.png --fig03 results/figures/fig03_radial_tangential.png

Fig 2: editing one squared distance in the activation vector is not realisable; inverting the
edited vector moves the point so that many other distances change and the wanted change is not
met, while a consistent (MUSIC) move changes the chosen distance and little else.
Fig 3: the radial/tangential decomposition in 3-D, and how the effect of a tangential step on
the other distances shrinks with the dimension (S2).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from musicsom.pipeline import files
from musicsom.pipeline.sections import add_section, require
from musicsom.experiments.gmm import naive_vs_consistent, tangential_effect_vs_dim


def fig02(x, W, j, delta_d, path, plt):
    res = naive_vs_consistent(x, W, j, delta_d)
    order = np.argsort(((x - W) ** 2).sum(1))
    df = pd.DataFrame(
        {
            "prototype": order,
            "rank_by_distance": np.arange(order.size),
            "is_target": order == j,
            "wanted_change": res["wanted"][order],
            "naive_change": res["naive"][order],
            "naive_all_change": res["naive_all"][order],
            "radial_change": res["radial"][order],
            "consistent_change": res["consistent"][order],
        }
    )
    others = ~df["is_target"]
    panels = (
        ("naive_change", "naive: edit $a_j$, invert the minimal system"),
        ("radial_change", "radial move along $\\hat r_j$"),
        ("consistent_change", "consistent: MUSIC move (others preserved)"),
    )
    fig, axes = plt.subplots(1, 3, figsize=(12, 3.8), layout="constrained")
    for ax, (key, title) in zip(axes, panels):
        rms = float(np.sqrt(np.mean(df.loc[others, key] ** 2)))
        ax.plot(df["rank_by_distance"][others], df[key][others], ".", ms=3, color="C0", label="other prototypes")
        t = df[df["is_target"]]
        ax.plot(t["rank_by_distance"], t["wanted_change"], "r*", ms=10, label="wanted change of $a_j$")
        ax.plot(t["rank_by_distance"], t[key], "ko", mfc="none", ms=8, label="obtained change of $a_j$")
        ax.axhline(0, color="k", lw=0.5)
        ax.set_yscale("symlog", linthresh=0.1)
        ax.set_title(f"{title}\nRMS change of the others: {rms:.3g}", fontsize=9)
        ax.set_xlabel("prototypes ranked by distance to x")
    axes[0].set_ylabel("change of squared distance $\\Delta a_i$")
    axes[0].legend(fontsize=7)
    fig.suptitle(f"Changing one squared distance (prototype {j}, Δd = {delta_d}): only a consistent move keeps the others")
    files.save_figure(fig, path, df)


def fig03(rng, path, plt):
    # (a) a 3-D scene: point x, target prototype w_j, radial and tangential components of a step
    W = np.array([[0.0, 0.0, 0.0], [2.0, 0.3, 0.2], [0.4, 2.2, -0.3], [0.2, -0.4, 2.0]])
    x = np.array([1.2, 1.0, 0.9])
    r = x - W[0]
    rhat = r / np.linalg.norm(r)
    eps, dd = 1.3, -0.8
    t = np.cross(rhat, [0.0, 0.0, 1.0])
    t /= np.linalg.norm(t)
    d_par = dd * rhat
    d_perp = np.sqrt(eps**2 - dd**2) * t
    geo = tangential_effect_vs_dim([3, 10, 30, 100, 300, 1000], n_protos=50, rng=rng, n_trials=30)
    df = pd.DataFrame(geo)
    df["sqrt_dim_times_tangential"] = df["tangential"] * np.sqrt(df["dim"])
    fig = plt.figure(figsize=(11, 4.4), layout="constrained")
    ax = fig.add_subplot(1, 2, 1, projection="3d")
    ax.scatter(*W.T, c="k", s=25, label="prototypes $w_i$")
    ax.scatter(*x, c="C3", s=30, label="x")
    ax.text(*W[0], "  $w_j$")
    ax.quiver(*x, *d_par, color="C0", lw=2, label="radial $\\delta_\\parallel$ (changes $d_j$)")
    ax.quiver(*x, *d_perp, color="C2", lw=2, label="tangential $\\delta_\\perp$")
    ax.quiver(*x, *(d_par + d_perp), color="C1", lw=2, label="step $\\delta$")
    u, v = np.mgrid[0 : 2 * np.pi : 30j, 0 : np.pi : 15j]
    R = np.linalg.norm(r)
    ax.plot_wireframe(R * np.cos(u) * np.sin(v), R * np.sin(u) * np.sin(v), R * np.cos(v), color="0.85", lw=0.3)
    ax.set_box_aspect((1, 1, 1))
    ax.set_title("sphere $\\|x - w_j\\| = d_j$ and the step split")
    ax.legend(fontsize=6, loc="upper left")
    ax2 = fig.add_subplot(1, 2, 2)
    ax2.loglog(df["dim"], df["radial"], "o-", label="radial step")
    ax2.loglog(df["dim"], df["tangential"], "s-", label="tangential step")
    ax2.loglog(df["dim"], df["tangential"].iloc[0] * np.sqrt(df["dim"].iloc[0] / df["dim"]), "k--", lw=1, label="$\\propto 1/\\sqrt{D}$")
    ax2.set_xlabel("dimension D")
    ax2.set_ylabel("mean |Δ other distances| / step length")
    ax2.set_title("tangential steps barely move other distances")
    ax2.legend(fontsize=7)
    files.save_figure(fig, path, df)


def main(argv=None):
    p = files.parser(__doc__.splitlines()[0])
    p.add_argument("--data", required=True, help="the standardised mixture (.npz)")
    p.add_argument("--som", required=True, help="its SOM (.npz)")
    p.add_argument("--seed", type=int, required=True, help="seed of the input drawn (the first of the config's seeds)")
    add_section(p, "geometry", "gmm.geometry", "delta_d: the wanted change of the distance to the target prototype (Fig 2)")
    p.add_argument("--fig02", required=True, help="PNG of Fig 2 to write (PDF and CSV beside it)")
    p.add_argument("--fig03", required=True, help="PNG of Fig 3 to write (PDF and CSV beside it)")
    a = p.parse_args(argv)
    geometry = require(a.geometry, "gmm.geometry", ("delta_d",))
    X = files.load_npz(a.data, required=("x_test",))["x_test"]
    W = files.load_npz(a.som, required=("prototypes",))["prototypes"]
    rng = np.random.default_rng(a.seed)
    x = X[rng.integers(len(X))]
    # target: the 5th nearest prototype, so that the edit is not about the BMU itself
    j = int(np.argsort(((x - W) ** 2).sum(1))[4])
    plt = files.setup_matplotlib()
    fig02(x, W, j, geometry["delta_d"], a.fig02, plt)
    fig03(rng, a.fig03, plt)


if __name__ == "__main__":
    files.run_main(main)
