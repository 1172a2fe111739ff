"""Stage: the MNIST numbers behind SPEC §7 claims 4-7 for one seed, with the checks they imply (claims.json).

    python -m musicsom.mnist_claims --seed 0 --classifier results/mnist/classifier.json \
        --inversion results/mnist/seed0/inversion.json --transition results/mnist/seed0/transition.json \
        --pairs results/mnist/seed0/pairs/*.csv --sweeps results/mnist/seed0/sweep_*.csv --n-steps 200 \
        --out results/mnist/seed0/claims.json

Checks (each a stated rule; a claim's ``held`` is True when all its checks pass):
- claim 4: on the "0" → "1" trajectory MUSIC crosses to the target class at an earlier step than
  linear interpolation and spends fewer steps in a third class; over all Table 2 trajectories the
  median crossing step (never = n_steps + 1) is earlier and the mean third-class steps are lower.
- claim 5 (MUSIC vs linear, Holm-adjusted Wilcoxon over the seed's 30 paired trajectories): mean
  confidence not significantly different; min confidence higher on more than half of the pairs;
  sharpness higher on every pair and significant; mean geodesic efficiency < 1; mean manifold
  distance higher.
- claim 6: the VAE has the lowest manifold distance and MUSIC the highest sharpness, both on the
  "0" → "1" trajectory and on the mean over all Table 2 trajectories.
- claim 7: mean confidence spans < 1 percentage point over the α sweep; continuity rises with λ
  (Spearman ρ > 0 over the λ grid); motion stalls at the largest λ (convergence ratio ≥ 0.5); every
  metric identical across the κ sweep (|difference| ≤ 1e-6) — reported with the first-step
  direction cosine, which shows whether the direction alone is invariant.
"""

from __future__ import annotations


import numpy as np
import pandas as pd
from scipy.stats import spearmanr

from . import _io
from .mnist import PAIR_METRICS, json_safe
from .stats import paired_comparison, wilcoxon_paired

SWEEP_METRICS = ["mean_confidence", "min_confidence", "continuity", "geodesic_efficiency", "convergence_ratio"]


def claim4(transition: dict, pairs: pd.DataFrame, n_steps: int) -> dict:
    demo = transition["methods"]
    mu, li = demo["music"], demo["linear"]
    never = n_steps + 1
    crossing = lambda s: np.where(s < 0, never, s)  # noqa: E731
    P = pairs.pivot(index=["pair", "start"], columns="method", values=["crossing_step", "third_class_steps", "crossing_fraction"])
    cm, cl = crossing(P["crossing_step"]["music"].to_numpy()), crossing(P["crossing_step"]["linear"].to_numpy())
    tm_, tl = P["third_class_steps"]["music"].to_numpy(), P["third_class_steps"]["linear"].to_numpy()
    out = {
        "demo": {
            f"{m}_{k}": demo[m][k]
            for m in ("music", "linear", "vae") for k in ("crossing_step", "commit_step", "crossing_fraction", "third_class_steps", "label_sequence")
        },
        "pairs": {
            "n_trajectories": int(cm.size),
            "median_crossing_step_music": float(np.median(cm)), "median_crossing_step_linear": float(np.median(cl)),
            "share_music_crosses_earlier": float(np.mean(cm < cl)), "p_crossing_step": wilcoxon_paired(cm, cl)[1],
            "median_crossing_fraction_music": float(np.nanmedian(P["crossing_fraction"]["music"])),
            "median_crossing_fraction_linear": float(np.nanmedian(P["crossing_fraction"]["linear"])),
            "share_never_crossed_music": float(np.mean(cm == never)), "share_never_crossed_linear": float(np.mean(cl == never)),
            "mean_third_class_steps_music": float(tm_.mean()), "mean_third_class_steps_linear": float(tl.mean()),
            "share_music_fewer_third": float(np.mean(tm_ < tl)), "p_third_class_steps": wilcoxon_paired(tm_, tl)[1],
        },
    }
    c = {
        "demo_crosses_earlier": bool(0 <= mu["crossing_step"] < (li["crossing_step"] if li["crossing_step"] >= 0 else never)),
        "demo_fewer_third_class_steps": bool(mu["third_class_steps"] < li["third_class_steps"]),
        "pairs_cross_earlier": bool(np.median(cm) < np.median(cl)),
        "pairs_fewer_third_class_steps": bool(tm_.mean() < tl.mean()),
    }
    out["checks"] = c
    out["held"] = all(c.values())
    return out


def tests(pairs: pd.DataFrame, other: str) -> dict:
    res = paired_comparison(pairs, list(PAIR_METRICS), "method", "music", other, ["seed", "pair", "start"], group_col="pair")
    return {r["metric"]: {k: (v.item() if hasattr(v, "item") else v) for k, v in r.items() if k != "metric"} for _, r in res.iterrows()}


def claim5(pairs: pd.DataFrame) -> dict:
    t = tests(pairs, "linear")
    c = {
        "mean_confidence_not_significant": bool(t["mean_confidence"]["p_holm"] >= 0.05),
        "min_confidence_higher_on_most_pairs": bool(t["min_confidence"]["groups_music_higher"] > t["min_confidence"]["n_groups"] / 2),
        "sharpness_higher_on_all_pairs": bool(t["sharpness"]["groups_music_higher"] == t["sharpness"]["n_groups"]),
        "sharpness_significant": bool(t["sharpness"]["p_holm"] < 0.05 and t["sharpness"]["mean_music"] > t["sharpness"]["mean_linear"]),
        "geodesic_efficiency_below_1": bool(t["geodesic_efficiency"]["mean_music"] < 1.0),
        "manifold_distance_higher": bool(t["manifold_distance"]["mean_music"] > t["manifold_distance"]["mean_linear"]),
    }
    return {"music_vs_linear": t, "checks": c, "held": all(c.values())}


def claim6(transition: dict, pairs: pd.DataFrame) -> dict:
    demo = {m: {k: transition["methods"][m][k] for k in ("manifold_distance", "sharpness", "mean_confidence")} for m in ("music", "linear", "vae")}
    means = pairs.groupby("method")[["manifold_distance", "sharpness", "mean_confidence"]].mean()
    allm = {m: means.loc[m].to_dict() for m in means.index}

    def lowest(d, key, m):
        return all(d[m][key] < d[o][key] for o in d if o != m)

    def highest(d, key, m):
        return all(d[m][key] > d[o][key] for o in d if o != m)

    c = {
        "demo_vae_closest_to_manifold": bool(lowest(demo, "manifold_distance", "vae")),
        "demo_music_sharpest": bool(highest(demo, "sharpness", "music")),
        "pairs_vae_closest_to_manifold": bool(lowest(allm, "manifold_distance", "vae")),
        "pairs_music_sharpest": bool(highest(allm, "sharpness", "music")),
    }
    return {"demo": demo, "pairs_mean": allm, "music_vs_vae": tests(pairs, "vae"), "checks": c, "held": all(c.values())}


def claim7(sweeps: dict) -> dict:
    ranges = {p: {m: [float(df[m].min()), float(df[m].max())] for m in SWEEP_METRICS} for p, df in sweeps.items()}
    out = {"ranges": ranges}
    c = {}
    if "alpha" in sweeps:
        a = sweeps["alpha"]
        out["alpha_mean_confidence_range_pp"] = float(100 * (a["mean_confidence"].max() - a["mean_confidence"].min()))
        c["alpha_confidence_within_1pp"] = out["alpha_mean_confidence_range_pp"] < 1.0
    if "lambda" in sweeps:
        lam = sweeps["lambda"].sort_values("value")
        rho = float(spearmanr(lam["value"], lam["continuity"]).statistic) if lam["continuity"].nunique() > 1 else float("nan")
        out["lambda"] = {"values": lam["value"].tolist(), "continuity": lam["continuity"].tolist(),
                         "convergence_ratio": lam["convergence_ratio"].tolist(), "spearman_continuity_vs_lambda": rho,
                         "convergence_ratio_at_largest_lambda": float(lam["convergence_ratio"].iloc[-1])}
        c["continuity_rises_with_lambda"] = bool(rho > 0)
        c["stalls_at_largest_lambda"] = bool(lam["convergence_ratio"].iloc[-1] >= 0.5)
    if "kappa" in sweeps:
        k = sweeps["kappa"]
        diffs = {m: float(k[m].max() - k[m].min()) for m in SWEEP_METRICS}
        out["kappa"] = {"max_minus_min": diffs, "min_first_step_cos_to_default": float(k["first_step_cos_to_default"].min()),
                        "share_clipped": k["share_clipped"].tolist()}
        c["kappa_no_effect"] = bool(max(abs(v) for v in diffs.values()) <= 1e-6)
        out["kappa_first_step_direction_invariant"] = bool(k["first_step_cos_to_default"].min() > 1 - 1e-9)
    out["checks"] = c
    out["held"] = all(c.values()) if c else None
    return out


def main(argv=None):
    p = _io.parser(__doc__.splitlines()[0])
    p.add_argument("--seed", type=int, required=True)
    p.add_argument("--classifier", required=True)
    p.add_argument("--inversion", required=True)
    p.add_argument("--transition", required=True)
    p.add_argument("--pairs", nargs="+", required=True)
    p.add_argument("--sweeps", nargs="+", required=True)
    p.add_argument("--n-steps", type=int, required=True, help="steps of the Table 2 trajectories (never crossing counts as n + 1)")
    p.add_argument("--out", required=True)
    a = p.parse_args(argv)
    read = lambda path: _io.load_json(path)  # noqa: E731
    transition = read(a.transition)
    pairs = pd.concat([pd.read_csv(f) for f in a.pairs], ignore_index=True)
    if set(pairs["seed"]) != {a.seed} or transition["seed"] != a.seed:
        raise _io.InputError(f"--pairs and --transition must all come from seed {a.seed}")
    sweeps = {str(df["param"].iloc[0]): df for df in (pd.read_csv(f) for f in a.sweeps)}
    inv = read(a.inversion)
    out = {
        "seed": a.seed,
        "classifier_test_accuracy": read(a.classifier)["test_accuracy"],
        "inversion": {k: inv[k] for k in ("median_relative_error", "max_relative_error", "n_test")},
        "claim4": claim4(transition, pairs, a.n_steps),
        "claim5": claim5(pairs),
        "claim6": claim6(transition, pairs),
        "claim7": claim7(sweeps),
    }
    _io.save_json(a.out, json_safe(out))


if __name__ == "__main__":
    _io.run_main(main)
