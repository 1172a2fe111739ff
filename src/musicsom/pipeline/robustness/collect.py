"""Stage: gather the robustness study: one tidy table, where each claim holds, a figure per claim.

    python -m musicsom.pipeline.robustness.collect --checks results/robustness/*/seed*/checks.csv ... \
        --dim-inversion results/robustness/mnist_dim/dim*/seed*/inversion.json \
        --default-inversion results/mnist/seed*/inversion.json --default-checks results/mnist/seed*/checks.json \
        --seeds 0 1 2 --study '{"dims": [100, 200, 400, "full"], ...}' --paper '{"mnist_dim": "full", ...}' \
        --music '{"alpha": 0.5, ...}' --dim 50 --table results/robustness/checks.csv \
        --claims results/robustness/claims.csv --summary results/robustness/summary.json \
        --figures results/figures --inversion-table results/tables/table6_inversion_vs_dim.csv

Outputs: the tidy checks table of every grid point, seed, claim and check (setting, seed, claim, check,
value, interval, threshold, held, verdict, and the setting's axes); the claim verdict at every grid point
(over its checks and seeds, as the report decides); a summary per claim (points, share held, the axis
values where it holds, the verdict at the default and at the paper's setup); one figure per claim
(``fig22_robustness_claim3`` … ``fig28_robustness_claim9``: the verdict of every check at every point);
and inversion error and condition number against the MNIST dimension (Table 6, Fig 29), with the largest D
at which claim 1 still holds. Claim 1 at the default dimension is the default MNIST stages' own check
(``--default-checks``): the first point of the D slice's grid (:func:`musicsom.experiments.robustness.dim_grid`
of ``--study``, ``--paper``, ``--music`` and ``--dim``).
"""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import pandas as pd

from musicsom.experiments.claims import across_seeds, claim_module
from musicsom.experiments.robustness import ALL, AXES, claim_verdicts, dim_grid, summarise
from musicsom.music import MusicParams
from musicsom.pipeline import files
from musicsom.pipeline.check_records import load_checks
from musicsom.pipeline.robustness.blocks import add_study_args, block_table, dimension
from musicsom.pipeline.sections import add_section, build

log = logging.getLogger("musicsom.pipeline.robustness.collect")

COLOURS = {"held": "#2ca02c", "partly": "#ff7f0e", "failed": "#d62728", "inconclusive": "#c7c7c7", "not judged": "#ffffff"}
SHORT = {"energy": {"plain": "plain", "per_row_mean": "per-row"}}
FIGURE_OF_CLAIM = {3: 22, 4: 23, 5: 24, 6: 25, 7: 26, 8: 27, 9: 28}


def label(row) -> str:
    """A compact name of a grid point for a figure's axis."""
    parts = []
    for k in AXES:
        v = row.get(k, "")
        if v == "" or (isinstance(v, float) and np.isnan(v)):
            continue
        if k == "energy":
            parts.append(SHORT["energy"].get(v, str(v)))
        elif k == "alpha":
            parts.append(f"α={float(v):g}")
        elif k == "preserve":  # "all" (every other prototype) or the size of the ring around the BMU
            parts.append(ALL if str(v) == ALL else f"{int(float(v))}-ring")
        elif k == "eta":
            parts.append(f"η={float(v):g}")
        elif k == "dim":
            parts.append(f"D={v}")
        elif k == "free_eta":
            parts.append(f"free η={float(v):g}")
        elif k == "free_steps":
            parts.append(f"{int(float(v))} steps")
        else:
            parts.append(str(v))
    tag = " [default]" if row.get("is_default") else ""
    tag += " [paper]" if row.get("is_paper") else ""
    return " ".join(parts) + tag


def claim_figure(claim: int, table: pd.DataFrame, verdicts: pd.DataFrame, path: Path) -> None:
    plt = files.setup_matplotlib()
    sub = table[table["claim"] == claim]
    meta = sub.drop_duplicates("setting").set_index("setting")
    order = list(meta.sort_values(["is_default", "is_paper"], ascending=False).index)
    checks = list(dict.fromkeys(sub["check"]))
    cells = np.empty((len(order), len(checks) + 1), dtype=object)
    for i, s in enumerate(order):
        for j, c in enumerate(checks):
            v = sub[(sub["setting"] == s) & (sub["check"] == c)]["verdict"]
            cells[i, j] = across_seeds(v) if len(v) else "not judged"
        cells[i, -1] = verdicts[(verdicts["claim"] == claim) & (verdicts["setting"] == s)]["verdict"].iloc[0]
    rgb = np.array([[tuple(int(COLOURS[x][k:k + 2], 16) / 255 for k in (1, 3, 5)) for x in row] for row in cells])
    height = 1.2 + 0.22 * len(order)
    fig, ax = plt.subplots(figsize=(2.2 + 0.55 * (len(checks) + 1) + 2.6, height))
    ax.imshow(rgb, aspect="auto", interpolation="nearest")
    ax.set_yticks(range(len(order)))
    ax.set_yticklabels([label(meta.loc[s].to_dict()) for s in order], fontsize=6)
    ax.set_xticks(range(len(checks) + 1))
    ax.set_xticklabels(checks + ["CLAIM"], rotation=40, ha="right", fontsize=6)
    ax.set_xticks(np.arange(-0.5, len(checks) + 1), minor=True)
    ax.set_yticks(np.arange(-0.5, len(order)), minor=True)
    ax.grid(which="minor", color="white", lw=0.6)
    ax.tick_params(which="minor", length=0)
    held = sum(cells[:, -1] == "held")
    ax.set_title(f"Claim {claim}: {claim_module(claim).TITLE}\nheld at {held} of {len(order)} grid points "
                 f"(every check's interval clears its threshold on every seed)", fontsize=8)
    keys = ("held", "partly", "failed", "inconclusive", "not judged")
    handles = [plt.Rectangle((0, 0), 1, 1, facecolor=COLOURS[k], edgecolor="0.6", lw=0.5) for k in keys]
    ax.legend(handles, ["held", "partly (claim)", "failed", "inconclusive", "not judged here"], fontsize=6, loc="upper left",
              bbox_to_anchor=(1.01, 1.0), frameon=False)
    data = pd.DataFrame([{"setting": s, "check": c, "verdict": cells[i, j]} for i, s in enumerate(order)
                         for j, c in enumerate(checks + ["CLAIM"])])
    files.save_figure(fig, path, data)


def inversion_vs_dim(dim_files, default_files, default_dim) -> pd.DataFrame:
    rows = []
    for path, label_ in [(f, None) for f in dim_files] + [(f, str(default_dim)) for f in default_files]:
        d = files.load_json(path)
        rows.append({"dim_label": str(d.get("dim_label", label_)), "dim": int(d["dim"]), "seed": d.get("seed"),
                     "n_points": d.get("n_points", d.get("n_test")), "median_relative_error": d.get("median_relative_error"),
                     "max_relative_error": d.get("max_relative_error"), "median_condition_number": d.get("median_condition_number"),
                     "max_condition_number": d.get("max_condition_number"), "reason": d.get("reason", "") or "", "source": str(path)})
    return pd.DataFrame(rows)


def main(argv=None):
    p = files.parser(__doc__.splitlines()[0])
    p.add_argument("--checks", nargs="+", required=True, help="tidy checks tables of the grid blocks")
    p.add_argument("--dim-inversion", nargs="*", default=[], help="inversion summaries of the D slice (none without one)")
    p.add_argument("--default-inversion", nargs="+", required=True,
                   help="inversion summaries of the default MNIST stages (at --dim), one per seed of --seeds")
    p.add_argument("--default-checks", nargs="+", required=True,
                   help="the checks files of the default MNIST stages (claim 1 at the default dimension)")
    p.add_argument("--seeds", type=int, nargs="+", required=True, help="the config's seeds: the seed of each --default-inversion file")
    add_study_args(p, "mnist")
    add_section(p, "music", "mnist.music", "the default MUSIC settings of MNIST (they name the default point of the D slice)")
    p.add_argument("--dim", type=dimension, required=True, help="the default MNIST dimension D (config mnist.dim): an integer or full")
    p.add_argument("--table", required=True, help="the tidy checks table of the whole study (CSV) to write")
    p.add_argument("--claims", required=True, help="the verdict of every claim at every grid point (CSV) to write")
    p.add_argument("--summary", required=True, help="the summary per claim (JSON) to write, which the report reads")
    p.add_argument("--figures", required=True, help="folder of the per-claim figures and Fig 29")
    p.add_argument("--inversion-table", required=True, help="Table 6, inversion against D (CSV; Markdown beside it)")
    a = p.parse_args(argv)
    music = build(MusicParams, a.music, "mnist.music")
    frames = [files.load_csv(f, keep_default_na=True) for f in a.checks]
    # claim 1 at the default dimension is the default stages' own check: the D slice's default point
    point = dim_grid(a.study, music, a.paper, a.dim)[0]
    c1 = [c for path in a.default_checks for c in load_checks(path) if c.claim == 1]
    frames.append(block_table([(point, c1)], "mnist"))
    table = pd.concat([f for f in frames if len(f)], ignore_index=True)
    for k in AXES:
        if k in table:
            table[k] = table[k].astype(object).where(table[k].notna(), "")
    table["reason"] = table["reason"].fillna("")
    files.save_csv(a.table, table)
    verdicts = pd.DataFrame(claim_verdicts(table))
    files.save_csv(a.claims, verdicts)
    meta = {r.setting: {"axes": {k: getattr(r, k) for k in AXES if getattr(r, k) != ""}, "is_default": bool(r.is_default),
                        "is_paper": bool(r.is_paper)} for r in table.drop_duplicates("setting").itertuples()}
    summary = summarise(verdicts.to_dict("records"), meta)
    # the study's inversion against the dimension (claim 1 on MNIST)
    inv = inversion_vs_dim(a.dim_inversion, a.default_inversion, a.dim)
    if len(inv):
        inv.loc[inv["seed"].isna(), "seed"] = a.seeds[: int(inv["seed"].isna().sum())]
    # claim 1 holds at a D when its check does (interval, every seed), as the report decides it
    by_dim = {}
    for r in inv.itertuples():
        by_dim.setdefault(r.dim, []).append(r)
    c1 = table[(table["claim"] == 1) & (table["dim"] != "")]
    verdict_of_label = {str(lab): across_seeds(g.drop_duplicates(["seed"])["verdict"]) for lab, g in c1.groupby("dim")}
    label_of_dim = {int(r.dim): str(r.dim_label) for r in inv.itertuples()}
    holds = {d: verdict_of_label.get(label_of_dim[d]) == "held" for d in by_dim}
    summary["inversion_vs_dim"] = {"largest_dim_where_claim1_holds": max([d for d, ok in holds.items() if ok], default=None),
                                   "dims": sorted(by_dim), "holds": {str(d): ok for d, ok in holds.items()}}
    files.save_json(a.summary, summary)
    agg = (inv.groupby(["dim", "dim_label"], as_index=False)
           .agg(seeds=("seed", "nunique"), n_points=("n_points", "max"), median_relative_error=("median_relative_error", "median"),
                worst_median_relative_error=("median_relative_error", "max"), max_relative_error=("max_relative_error", "max"),
                median_condition_number=("median_condition_number", "median"), max_condition_number=("max_condition_number", "max"),
                cannot_invert=("reason", lambda r: int((r != "").sum())))
           .sort_values("dim")) if len(inv) else pd.DataFrame()
    if len(agg):
        agg["claim1_holds"] = [holds[d] for d in agg["dim"]]
    files.save_table(a.inversion_table, agg, title="Table 6: MNIST inversion against the whitening dimension D",
                   notes="Relative inversion error ||x̂ − x|| / ||x|| of test codes (anchored on the BMU, all K prototypes) "
                         "and the condition number of the anchored systems, over seeds; claim 1 holds at a D when its check "
                         "holds there (the bootstrap interval of the median error at most 1e-10 on every seed). cannot_invert counts seeds where the "
                         "prototypes do not span the whitened space (recorded as a failure of claim 1 there).")
    figs = Path(a.figures)
    for claim, num in FIGURE_OF_CLAIM.items():
        if (table["claim"] == claim).any():
            claim_figure(claim, table, verdicts, figs / f"fig{num}_robustness_claim{claim}.png")
    if len(agg):
        plt = files.setup_matplotlib()
        fig, ax = plt.subplots(1, 2, figsize=(8.5, 3.2))
        ok = agg["median_relative_error"].notna()
        ax[0].semilogy(agg.loc[ok, "dim"], agg.loc[ok, "median_relative_error"], "o-", label="median over seeds")
        ax[0].semilogy(agg.loc[ok, "dim"], agg.loc[ok, "max_relative_error"], "s--", label="largest")
        ax[0].axhline(claim_module(1).ROUND_OFF, color="k", ls=":", lw=1, label="round-off threshold 1e-10")
        ax[0].set_xlabel("whitening dimension D")
        ax[0].set_ylabel("relative inversion error")
        ax[0].legend(fontsize=7)
        ax[1].semilogy(agg.loc[ok, "dim"], agg.loc[ok, "median_condition_number"], "o-", label="median over anchors and seeds")
        ax[1].semilogy(agg.loc[ok, "dim"], agg.loc[ok, "max_condition_number"], "s--", label="largest")
        ax[1].set_xlabel("whitening dimension D")
        ax[1].set_ylabel("condition number\n(anchored system)")
        ax[1].legend(fontsize=7)
        # one tick per dimension of the slice, named as the config names it ("full (625)"); the dimensions
        # whose prototypes cannot span the space have no error to plot and say so under their tick
        ticks = [f"{lab} ({d})" if str(lab) != str(d) else str(d) for d, lab in zip(agg["dim"], agg["dim_label"])]
        ticks = [t + ("\ncannot invert" if not has else "") for t, has in zip(ticks, ok)]
        for a_ in ax:
            a_.set_xscale("log" if agg["dim"].max() > 4 * agg["dim"].min() else "linear")
            a_.set_xticks(list(agg["dim"]), ticks)
            a_.minorticks_off()
            a_.set_xlim(agg["dim"].min() / 1.3, agg["dim"].max() * 1.3)
        cond = agg.loc[ok, ["median_condition_number", "max_condition_number"]].to_numpy(float)
        if cond.size and np.nanmax(cond) < 10 * np.nanmin(cond):  # under a decade: a linear axis reads plainly
            ax[1].set_yscale("linear")
        big = summary["inversion_vs_dim"]["largest_dim_where_claim1_holds"]
        fig.suptitle(f"MNIST: exact inversion against D ({'round-off up to D = ' + str(big) if big else 'no D gives round-off'})",
                     fontsize=9)
        fig.tight_layout()
        files.save_figure(fig, figs / "fig29_inversion_vs_dim.png", agg)
    for claim, s in sorted((k, v) for k, v in summary.items() if isinstance(k, int)):
        log.info("claim %d: held at %d of %d points (%.0f %%); default %s; paper %s", claim, s["counts"]["held"],
                 s["n_settings"], 100 * s["share_held"], s["default"], s["paper"])


if __name__ == "__main__":
    files.run_main(main)
