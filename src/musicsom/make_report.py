"""Stage: write results/REPORT.md, claim by claim, from the pipeline's result files.

    python -m musicsom.make_report --config config.yaml --gmm-inversion results/gmm/inversion_summary.json \
        --schema workflow/schemas/config.schema.yaml --gmm-noise results/gmm/noise_summary.json --gmm-claims results/gmm/claims.json \
        [--mnist-claims ...] [--faces-claims ...] [--kmeans-claims ...] \
        --benchmarks results/benchmarks --evidence results/report/evidence.csv --out results/REPORT.md

No number in the report is typed by hand: each measured value is read from a result file and is
also written, with the file it came from, to the evidence CSV that the report cites.
"""

from __future__ import annotations

import json
import os
import platform
import re
from importlib import metadata
from pathlib import Path

import pandas as pd
import yaml

from . import _io
from . import report as R

PACKAGES = ["numpy", "scipy", "scikit-learn", "pandas", "matplotlib", "statsmodels", "torch", "snakemake", "pooch"]


def fmt(v: float) -> str:
    return f"{v:.4g}"


def read_benchmark_jobs(bench_dir: Path) -> pd.DataFrame:
    """One row per Snakemake benchmark TSV under ``bench_dir``: stage (its first folder), job, s, max_rss, cpu_time."""
    rows = []
    for tsv in sorted(Path(bench_dir).rglob("*.tsv")):
        frame = pd.read_csv(tsv, sep="\t")
        if frame.empty:
            continue
        rec = frame.iloc[-1].to_dict()  # one line per repeat; Snakemake writes one unless asked for more
        rel = tsv.relative_to(bench_dir)
        rec["stage"] = rel.parts[0] if len(rel.parts) > 1 else "(top)"
        rec["job"] = str(rel.with_suffix(""))
        rows.append(rec)
    jobs = pd.DataFrame(rows, columns=None if rows else ["stage", "job", "s", "max_rss", "cpu_time"])
    for col in ("s", "max_rss", "cpu_time"):
        jobs[col] = pd.to_numeric(jobs.get(col), errors="coerce")
    return jobs


def stage_times(bench_dir: Path) -> pd.DataFrame:
    """Wall time and peak memory per stage from Snakemake's benchmark TSVs."""
    jobs = read_benchmark_jobs(bench_dir)
    if jobs.empty:
        return pd.DataFrame(columns=["stage", "jobs", "seconds", "peak_rss_mb"])
    return (
        jobs.groupby("stage")
        .agg(jobs=("job", "count"), seconds=("s", "sum"), peak_rss_mb=("max_rss", "max"))
        .reset_index()
        .sort_values("seconds", ascending=False)
    )


def deviations(config: dict) -> list[str]:
    g = config["gmm"]
    lines = [
        "The paper's text lost its numbers; settings it no longer states use the defaults of SPEC §6, which live in "
        "`config.yaml` and are documented in `workflow/schemas/config.schema.yaml`.",
        f"GMM: {g['components']} components, means on a regular polygon of radius {g['radius']} in the first two of "
        f"{g['dim']} coordinates (spread {g['spread']}, noise {g['noise']} elsewhere), {g['n_train']} train / "
        f"{g['n_test']} test points, standardised `{g['standardise']}`; SOM {g['som']['rows']}×{g['som']['cols']} "
        f"{g['som']['topology']}, {g['som']['epochs']} batch epochs.",
        f"MUSIC on the GMM: alpha = {g['trajectories']['alpha']}, lambda = {g['trajectories']['lam']}, kappa = "
        f"{g['trajectories']['kappa']}, eta = {g['trajectories']['eta']}, plain energy terms (not averaged per row), "
        "all other prototypes preserved; the paper's own values are unknown.",
        "Our batch SOM (Gaussian neighbourhood, geometric width decay, PCA or random initialisation) stands in for "
        "the paper's SOM training, whose details are not stated.",
        f"Seeds: the claim-carrying experiments (GMM Table 1, MNIST 0 -> 1 and Table 2, the face summary, the k-means "
        f"control) run once per seed {config['seeds']}; the GMM inversion and noise figures (claims 1, 2) use the first "
        "seed's map only.",
    ]
    m, mm = config["mnist"], config["mnist"]["music"]
    lines += [
        f"MNIST: {'all 60,000' if not m['n_train'] else m['n_train']} training images, PCA whitening to D = {m['dim']} "
        f"fit on them and decoded back to pixels through the same PCA; SOM {m['som']['rows']}×{m['som']['cols']} "
        f"{m['som']['topology']}, {m['som']['epochs']} batch epochs, {m['som']['init']} initialisation; classifier an "
        f"MLP {m['classifier']['hidden']} in the whitened space (the paper's classifier is not described).",
        f"MNIST MUSIC: alpha = {mm['alpha']}, lambda = {mm['lam']}, kappa = {mm['kappa']}, eta = {mm['eta']}, energy "
        f"terms {'averaged per row' if mm['per_row_mean'] else 'plain'}; the target is the prototype of the target class "
        f"nearest the source among those whose label purity is >= {mm['target_min_purity']}; linear interpolation runs "
        "in the same whitened space to the same prototype with the same number of frames.",
        f"MNIST VAE: ours, {m['vae']['latent_dim']}-d latent, {m['vae']['hidden']} hidden units, {m['vae']['epochs']} "
        "epochs on pixels; it interpolates between the encodings of the start image and of the decoded target "
        f"prototype. Table 2 uses {m['table2']['n_starts']} seeded start images per pair of SPEC §6; the manifold "
        f"distance (mean distance to the {m['knn_k']} nearest training images) is computed on every "
        f"{m['table2']['knn_stride']}th frame of Table 2 paths to bound the cost.",
    ]
    f, fa, fm = config["faces"], config["faces"]["autoencoder"], config["faces"]["music"]
    lfw = config["data"]["lfw"]
    faces_used = "all 13,233 images" if not f["n_faces"] else f"a seeded subset of {f['n_faces']} of the 13,233 images"
    lines += [
        "Faces: the paper's pretrained face autoencoder is not available here (no pretrained weights can be "
        f"fetched), so a convolutional autoencoder (channels {fa['channels']}, {fa['code_dim']}-d code, {fa['epochs']} "
        f"epochs) is trained by the pipeline on {100 - round(100 * fa['holdout'])} % of the people, split by person; "
        "its reconstructions are blurrier than a large pretrained model's would be.",
        f"Faces data: LFW deep-funneled ({faces_used}), "
        f"centre crop {lfw['crop']} px resized to {lfw['size']}×{lfw['size']} RGB, not the paper's (unstated) face "
        f"preprocessing; PCA whitening of the codes to {f['pca_components']} components; SOM {f['som']['rows']}×"
        f"{f['som']['cols']} {f['som']['topology']}.",
        "Faces clusters: the paper picked its clusters by eye; here they are the connected lattice regions around the "
        "prototype with the highest share of apparent-female hits (AFIF4 gender lists) and of apparent darker-skinned "
        f"hits (DFI `Black` attribute), grown while the share stays >= {f['clusters']['threshold']} up to "
        f"{f['clusters']['max_size']} prototypes, plus {f['clusters']['n_random']} seeded random prototypes. These "
        "labels are third-party annotations of apparent attributes, not facts about the people.",
        f"Faces MUSIC: alpha = {fm['alpha']}, lambda = {fm['lam']}, kappa = {fm['kappa']}, eta = {fm['eta']} for every "
        f"face run; free evolution preserves the {f['free']['n_preserve']} nearest prototypes; identity drift is the "
        "distance between dlib's 128-d face descriptors (threshold 0.6), and face-likeness is dlib's HOG detector "
        f"finding a face in the decoded frame resized to {f['identity']['size']} px; {f['starts']['n_starts']} start "
        "faces of held-out people per seed.",
        f"k-means control (beyond the paper): scikit-learn KMeans with the MNIST SOM's K, n_init = "
        f"{config['kmeans']['n_init']}, max_iter = {config['kmeans']['max_iter']}, on the same encoding, pairs, starts "
        "and MUSIC settings as Table 2.",
    ]
    return lines


def render(claims: list[R.ClaimResult], config: dict, times: pd.DataFrame, evidence_rel: str, extra_deviations: list[str]) -> str:
    out = [
        "# Reproduction report: Inverting Self-Organizing Maps (Londei et al., 2026)",
        "",
        f"Written by the `report` rule from the result files of this run (seeds {config['seeds']}). Every measured "
        f"number below is read from a result file and listed, with that file, in [{evidence_rel}]({evidence_rel}). "
        "A claim carried by several seeds counts as held only if it holds for every seed.",
        "",
        "## Verdicts",
        "",
        "| # | claim | verdict | seeds held |",
        "|---|---|---|---|",
    ]
    for c in claims:
        out.append(f"| {c.number} | {c.title} | **{c.verdict}** | {c.seed_rate} |")
    for c in claims:
        out += ["", f"## Claim {c.number}: {c.title}", "", f"*Paper:* {c.paper}", "", f"*Rule:* {c.rule}", ""]
        if c.missing:
            out += [f"**Not judged:** {c.missing}"]
            continue
        out += [f"*Verdict:* **{c.verdict}** ({c.seed_rate})", "", "*Measured* (from [" + evidence_rel + "](" + evidence_rel + ")):", ""]
        for seed, checks in c.checks_by_seed.items():
            tag = "" if seed is None else f" (seed {seed})"
            for ch in checks:
                values = "; ".join(f"{e.quantity} = {fmt(e.value)}" for e in ch.evidence)
                out.append(f"- {'✔' if ch.passed else '✘'} {ch.name}{tag}: {values}")
        failed = R.failed_checks(c)
        expl = c.explanation or (
            "Every check passed on every seed." if not failed else "Failed checks: " + ", ".join(failed) + "."
        )
        out += ["", f"*Explanation:* {expl}"]
    out += ["", "## Deviations from the paper", ""] + [f"- {d}" for d in deviations(config) + extra_deviations]
    out += ["", "## Environment", ""]
    out += [f"- Python {platform.python_version()} on {platform.system()} {platform.machine()}, {os.cpu_count()} cores"]
    versions = []
    for p in PACKAGES:
        try:
            versions.append(f"{p} {metadata.version(p)}")
        except metadata.PackageNotFoundError:
            versions.append(f"{p} (not installed)")
    out += ["- " + ", ".join(versions), ""]
    if len(times):
        out += ["Wall time and peak memory per stage (sums of job wall times; peak = largest job), from Snakemake's benchmark files:", ""]
        out.append(_io.markdown_table(times.rename(columns={"seconds": "wall time (s)", "peak_rss_mb": "peak RSS (MB)"}), "{:.1f}").rstrip())
        out += ["", f"Total job wall time: {times['seconds'].sum() / 60:.1f} min."]
    return "\n".join(out) + "\n"


def with_defaults(config: dict, schema: dict) -> dict:
    """Fill the schema's defaults into ``config`` (as Snakemake's validate does) so the report sees the values used."""
    config = dict(config)
    for key, sub in schema.get("properties", {}).items():
        if key not in config and "default" in sub:
            config[key] = json.loads(json.dumps(sub["default"]))
        if sub.get("type") == "object" and isinstance(config.get(key), dict):
            config[key] = with_defaults(config[key], sub)
    return config


MNIST_CLAIMS = [
    (
        4, "MNIST: earlier crossing, fewer third-class steps", "claim4",
        "MUSIC crosses from source to target class earlier than linear interpolation and spends fewer steps in a third class.",
        "per seed, as evaluated by the MNIST stage: on the 0 -> 1 demonstration and pooled over the Table 2 pairs, "
        "MUSIC's crossing step is earlier and its third-class steps fewer than linear interpolation's",
        {
            "demo_crosses_earlier": ["demo.music_crossing_step", "demo.linear_crossing_step"],
            "demo_fewer_third_class_steps": ["demo.music_third_class_steps", "demo.linear_third_class_steps"],
            "pairs_cross_earlier": ["pairs.median_crossing_step_music", "pairs.median_crossing_step_linear", "pairs.share_music_crosses_earlier"],
            "pairs_fewer_third_class_steps": ["pairs.mean_third_class_steps_music", "pairs.mean_third_class_steps_linear"],
        },
    ),
    (
        5, "MNIST: MUSIC vs linear over the 10 pairs", "claim5",
        "Mean confidence not significantly different; minimum confidence higher for MUSIC on most pairs; sharpness "
        "higher for MUSIC on all pairs (significant); geodesic efficiency below 1 for MUSIC; manifold distance higher for MUSIC.",
        "per seed, Wilcoxon signed-rank on paired trajectories, Holm-adjusted across metrics (p < 0.05), win counts over pairs",
        {
            "mean_confidence_not_significant": ["music_vs_linear.mean_confidence.median_music", "music_vs_linear.mean_confidence.median_linear", "music_vs_linear.mean_confidence.p_holm"],
            "min_confidence_higher_on_most_pairs": ["music_vs_linear.min_confidence.groups_music_higher", "music_vs_linear.min_confidence.n_groups"],
            "sharpness_higher_on_all_pairs": ["music_vs_linear.sharpness.groups_music_higher", "music_vs_linear.sharpness.n_groups"],
            "sharpness_significant": ["music_vs_linear.sharpness.median_music", "music_vs_linear.sharpness.median_linear", "music_vs_linear.sharpness.p_holm"],
            "geodesic_efficiency_below_1": ["music_vs_linear.geodesic_efficiency.median_music"],
            "manifold_distance_higher": ["music_vs_linear.manifold_distance.median_music", "music_vs_linear.manifold_distance.median_linear", "music_vs_linear.manifold_distance.p_holm"],
        },
    ),
    (
        6, "MNIST: VAE closest to the manifold, MUSIC sharpest", "claim6",
        "The VAE stays closest to the data manifold; MUSIC is sharpest.",
        "per seed, on the 0 -> 1 demonstration and on the Table 2 medians: the VAE has the smallest manifold "
        "distance and MUSIC the highest Laplacian sharpness of the three methods",
        {
            "demo_music_sharpest": ["demo.music.sharpness", "demo.linear.sharpness", "demo.vae.sharpness"],
            "demo_vae_closest_to_manifold": ["demo.music.manifold_distance", "demo.linear.manifold_distance", "demo.vae.manifold_distance"],
            "pairs_music_sharpest": ["music_vs_vae.sharpness.median_music", "music_vs_vae.sharpness.median_vae"],
            "pairs_vae_closest_to_manifold": ["music_vs_vae.manifold_distance.median_music", "music_vs_vae.manifold_distance.median_vae"],
        },
    ),
    (
        7, "MNIST sweeps: alpha, lambda, kappa", "claim7",
        "Mean confidence varies by under one percentage point across alpha; continuity rises with lambda and motion "
        "stalls at large lambda; kappa has no effect in informed mode.",
        "per seed, on the 0 -> 1 sweeps as evaluated by the MNIST stage",
        {
            "alpha_confidence_within_1pp": ["alpha_mean_confidence_range_pp"],
            "continuity_rises_with_lambda": ["lambda.spearman_continuity_vs_lambda"],
            "stalls_at_largest_lambda": ["lambda.convergence_ratio_at_largest_lambda"],
            "kappa_no_effect": ["kappa.min_first_step_cos_to_default", "kappa.max_minus_min.mean_confidence"],
        },
    ),
]


def load_seeds(paths) -> dict:
    """{seed: claims dict} from per-seed claims files (each holds its seed, or its folder name says it)."""
    out = {}
    for path in paths:
        d = _io.load_json(path)
        seed = d.get("seed")
        if seed is None:
            m = re.search(r"seed(\d+)", str(path))
            seed = int(m.group(1)) if m else len(out)
        out[int(seed)] = d
    return out


def main(argv=None):
    p = _io.parser(__doc__.splitlines()[0])
    p.add_argument("--config", required=True, help="the run's config.yaml (for the deviations section)")
    p.add_argument("--schema", required=True, help="the config schema (its defaults complete the config)")
    p.add_argument("--gmm-inversion", required=True)
    p.add_argument("--gmm-noise", required=True)
    p.add_argument("--gmm-claims", required=True)
    p.add_argument("--mnist-claims", nargs="*", default=[], help="per-seed MNIST claims files")
    p.add_argument("--mnist-inversion", nargs="*", default=[], help="per-seed MNIST inversion summaries")
    p.add_argument("--faces-claims", nargs="*", default=[], help="per-seed faces claims files")
    p.add_argument("--kmeans-claims", default=None, help="the k-means control's claims file")
    p.add_argument("--benchmarks", required=True, help="results/benchmarks (read as it is when the report runs)")
    p.add_argument("--evidence", required=True, help="CSV of every number the report quotes, with its source")
    p.add_argument("--out", required=True)
    a = p.parse_args(argv)
    with open(a.config) as f, open(a.schema) as g:
        config = with_defaults(yaml.safe_load(f) or {}, yaml.safe_load(g))

    extra = []
    for path in a.mnist_inversion:
        d = _io.load_json(path)
        if "median_relative_error" in d:
            m = re.search(r"seed(\d+)", path)
            name = "round-off on the MNIST test set" + (f" (seed {m.group(1)})" if m else "")
            extra.append((name, float(d["median_relative_error"]), path, 1e-10))
    claims = [
        R.claim1_inversion(_io.load_json(a.gmm_inversion), a.gmm_inversion, extra),
        R.claim2_noise(_io.load_json(a.gmm_noise), a.gmm_noise),
        R.claim3_gmm_regimes(_io.load_json(a.gmm_claims), a.gmm_claims),
    ]
    mnist = load_seeds(a.mnist_claims)
    src_of = {int(re.search(r"seed(\d+)", p).group(1)): p for p in a.mnist_claims if re.search(r"seed(\d+)", p)}
    for number, title, block, paper, rule, paths in MNIST_CLAIMS:
        if mnist:
            c = R.claim_from_stage_checks(number, title, paper, rule, mnist, block, paths, "")
            for e in c.evidence():
                e.source = src_of.get(e.seed, a.mnist_claims[0])
        else:
            c = R.ClaimResult(number, title, paper, rule, missing="the MNIST stage did not run")
        claims.append(c)
    faces = load_seeds(a.faces_claims)
    if faces:
        c = R.claim8_faces(faces, "")
        fsrc = {int(re.search(r"seed(\d+)", p).group(1)): p for p in a.faces_claims if re.search(r"seed(\d+)", p)}
        for e in c.evidence():
            e.source = fsrc.get(e.seed, a.faces_claims[0])
        claims.append(c)
    else:
        claims.append(R.ClaimResult(8, "Faces", "see SPEC §7 claim 8", "", missing="the faces stage did not run"))
    if a.kmeans_claims:
        claims.append(R.claim9_kmeans(_io.load_json(a.kmeans_claims), a.kmeans_claims))
    else:
        claims.append(R.ClaimResult(9, "k-means prototypes give unstable motion (beyond the paper)", "", "", missing="the k-means control did not run"))
    rows = [
        {"claim": c.number, "seed": "" if e.seed is None else e.seed, "quantity": e.quantity, "value": e.value, "source": e.source}
        for c in claims
        for e in c.evidence()
    ]
    _io.save_csv(a.evidence, pd.DataFrame(rows))
    evidence_rel = os.path.relpath(a.evidence, os.path.dirname(os.path.abspath(a.out)) or ".")
    text = render(claims, config, stage_times(Path(a.benchmarks)), evidence_rel, [])
    with _io.atomic_path(a.out, suffix=".md") as tmp:
        tmp.write_text(text)


if __name__ == "__main__":
    _io.run_main(main)
