"""Stage: Table 3, MUSIC vs the baselines on faces over every seed and start, with Wilcoxon tests.

    python -m musicsom.pipeline.faces.table3 --per-start results/faces/seed0/per_start.csv results/faces/seed1/per_start.csv \
        --calibration results/faces/seed0/identity_calibration.json results/faces/seed1/identity_calibration.json \
        --face-code results/faces/seed0/autoencoder.json results/faces/seed1/autoencoder.json \
        --target-cluster female --out results/tables/table3_faces.csv

For each comparison (free evolution: MUSIC vs radial; toward the target cluster ``faces.target_cluster``:
informed MUSIC vs linear interpolation to the cluster mean) and metric: the mean of each method over the starts, the
median paired difference, and a two-sided Wilcoxon signed-rank test over the starts, Holm-adjusted
across the comparison's metrics (musicsom.stats). Scopes: each seed (with n starts the smallest possible
two-sided p-value is 2 / 2**n: 6e-5 for the default 15) and all seeds pooled (seeds × starts pairs). The drift
read against the identity calibration (faces.identity_calibration) is a comparison of its own (its own Holm
family); the calibration's bands are listed in the notes, and so is each seed's face code (held-out PSNR / SSIM
of the code, of its PCA reconstruction alone and through the SOM's latent).
"""

from __future__ import annotations

import logging

import pandas as pd

from musicsom.pipeline import files
from musicsom.experiments.faces import comparison_table, comparisons, has_calibration
from musicsom.pipeline.faces.options import add_target_cluster
from musicsom.stats import paired_comparison

log = logging.getLogger("musicsom.pipeline.faces.table3")

NOTES = """\
Rows: a comparison of two methods on the same start faces (held-out people), one metric each. mean_A / mean_B:
means over the starts of method A (MUSIC) and method B (radial baseline or linear interpolation); median_diff:
median of A − B; p_value: two-sided Wilcoxon signed-rank test over the paired starts; p_holm: Holm-adjusted across
the metrics of that comparison and scope. Scope "seed s" pairs the starts of one seed (with n starts no p-value
can be below 2 / 2**n); "all seeds" pools every seed's starts.
detection_rate: share of decoded frames in which dlib's frontal face detector finds a face. identity drift:
distance between dlib's 128-d descriptors of a decoded frame and of frame 0 (same person below 0.6).
final_cluster_distance: mean whitened-latent distance to the {target} cluster's prototypes at the last step.
drift_at_half_distance: identity drift at the first step whose cluster distance is half the initial one (matched progress).
nearest_prototype: whitened-latent distance to the nearest SOM prototype (distance from the mapped face data).
Drift against the identity calibration (dlib distances of LFW pairs.txt pairs, both faces decoded through the
latent): share_below_same_person_median: share of a path's measured frames whose drift is below the median
same-person distance; *_same_person_pct / *_different_people_pct: the mean drift (mean_*) and the drift at half
the cluster distance (half_*) as percentiles (0-100) of the same-person and different-people distances.
Gender and skin-tone labels are apparent attributes (AFIF4 lists; an automatic classifier), not self-identified.
"""


def table3(per_start: pd.DataFrame, target_cluster: str) -> pd.DataFrame:
    comp = comparison_table(per_start, target_cluster)
    out = []
    scopes = [(f"seed {s}", comp[comp["seed"] == s]) for s in sorted(comp["seed"].unique())]
    if comp["seed"].nunique() > 1:
        scopes.append(("all seeds", comp))
    for name, (a, b, metrics) in comparisons(target_cluster, has_calibration(per_start)).items():
        for scope, frame in scopes:
            sub = frame[frame["comparison"] == name]
            res = paired_comparison(sub, metrics, "method", a, b, ["seed", "start"])
            res = res.rename(columns={f"mean_{a}": "mean_A", f"mean_{b}": "mean_B"})
            res.insert(0, "scope", scope)
            res.insert(0, "method_B", b)
            res.insert(0, "method_A", a)
            res.insert(0, "comparison", name)
            out.append(res[["comparison", "method_A", "method_B", "scope", "metric", "n", "mean_A", "mean_B",
                            "median_diff", "statistic", "p_value", "p_holm"]])
    return pd.concat(out, ignore_index=True)


def calibration_note(summary: dict) -> str:
    """One line of the notes: the bands of an identity calibration (faces decoded through the latent)."""
    try:
        b, auc = summary["bands"], summary["separation"]
        q = lambda k: (f"{b[k]['median']:.3g} ({b[k]['q25']:.3g}-{b[k]['q75']:.3g}, n = {b[k]['n']})" if b[k]["n"]  # noqa: E731
                       else "not measured (no such pair)")
        a = lambda v: "not measured" if auc[v]["auc"] is None else f"{auc[v]['auc']:.3g}"  # noqa: E731
        return (f"Identity calibration (face code of seed {summary['seed']}; median (quartiles) of dlib distances): two "
                f"decodings of one photo {q('same_image')}; a photo and its decoding {q('photo_vs_decoding')}; decoded "
                f"same-person pairs {q('same_person')}; decoded different-people pairs {q('different_people')}; ROC area "
                f"same vs different people {a('latent')} decoded, {a('original')} on the photos.\n")
    except (KeyError, TypeError) as exc:
        raise files.InputError(f"not an identity calibration summary (no {exc}); rerun faces_identity_calibration") from None


def face_code_note(summary: dict) -> str:
    """One line of the notes: how well one seed's face code reconstructs the held-out people (faces.autoencoder)."""
    try:
        h, d = summary["heldout"], summary["latent_components"]
        q = lambda k: f"{h[k]['psnr_mean']:.2f} dB / {h[k]['ssim_mean']:.3f}"  # noqa: E731
        return (f"Face code of seed {summary['seed']} (held-out people, mean PSNR / SSIM): code {q('code')}; its PCA "
                f"reconstruction alone {q('pca')}; through the {d}-d latent the map lives in {q('latent')}; built in "
                f"{summary['train_seconds']:.0f} s on {summary['threads']} thread(s).\n")
    except (KeyError, TypeError) as exc:
        raise files.InputError(f"not a face code summary (no {exc}); rerun faces_autoencoder") from None


def main(argv=None):
    p = files.parser(__doc__.splitlines()[0])
    p.add_argument("--per-start", nargs="+", required=True, help="per-start metrics, one CSV per seed (faces.summary)")
    p.add_argument("--face-code", nargs="+", required=True,
                   help="the face code summaries, one JSON per seed (faces.autoencoder), whose quality the notes list")
    p.add_argument("--calibration", nargs="+", required=True,
                   help="the identity calibration summaries (JSON of faces.identity_calibration) whose bands the notes list")
    add_target_cluster(p, "the cluster the MUSIC and linear paths are compared toward")
    p.add_argument("--out", required=True, help="table CSV (a Markdown copy is written beside it)")
    args = p.parse_args(argv)

    per = pd.concat([files.load_csv(f, keep_default_na=True) for f in args.per_start], ignore_index=True)
    per["cluster"] = per["cluster"].fillna("")
    table = table3(per, args.target_cluster)
    files.save_table(args.out, table, title="Table 3: faces, MUSIC vs baselines (Wilcoxon over start faces)",
                     notes=NOTES.format(target=args.target_cluster)
                     + "".join(calibration_note(files.load_json(f)) for f in args.calibration)
                     + "".join(face_code_note(files.load_json(f)) for f in args.face_code))


if __name__ == "__main__":
    files.run_main(main)
