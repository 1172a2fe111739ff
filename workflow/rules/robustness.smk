# The sensitivity study (docs/METHOD.md §7): each setting the paper leaves open, moved alone around the default;
# the default point is the headline run's own checks. One job per block and seed runs every point of its axes: the
# rules robustness_<experiment> at the end of each experiment's file (the MNIST D axis in mnist.smk), on the first
# robustness.seeds seeds (the D axis: robustness.dim_seeds; the sweeps: robustness.sweep_seeds). This file gathers
# the blocks into the outcome of every check at every point, the sensitivity table (the report's robustness page), a
# figure per claim and the summary the report reads. robustness.enabled: false leaves the study out.


localrules:
    robustness_all,


# the seeds of the study's points (the faces: of the face seeds)
STUDY_SEEDS = SEEDS[: int(config["robustness"]["seeds"])]
STUDY_FACE_SEEDS = FACE_SEEDS[: int(config["robustness"]["seeds"])]
SWEEP_SEEDS = SEEDS[: int(config["robustness"]["sweep_seeds"])]
# the sensitivity figures, by claim (claim 1's, on the D axis, follows Fig 29)
STUDY_FIGURES = {3: 22, 4: 23, 5: 24, 6: 25, 7: 26, 8: 27, 9: 28, 1: 30}


rule robustness_all:
    input:
        (
            [
                "results/robustness/checks.csv",
                "results/robustness/sensitivity.csv",
                "results/robustness/summary.json",
                "results/tables/table6_inversion_vs_dim.csv",
            ]
            if config["robustness"]["enabled"]
            else []
        ),


# The MNIST D axis (rules robustness_mnist_* of mnist.smk): the dimensions besides mnist.dim, as they appear in
# paths ("dim400", "dimvar99.9", "dimfull"), on the first robustness.dim_seeds seeds.
D_SLICE = {
    "dim": [
        d
        for d in map(str, config["robustness"]["mnist"]["dims"])
        if d != str(config["mnist"]["dim"])
    ],
    "seed": SEEDS[: int(config["robustness"]["dim_seeds"])],
}


# Every block of the study (the rules robustness_<experiment> of the experiments' files) with the default run's
# checks as the default point: the outcome of every check and claim at every point, the sensitivity table (CSV, and
# its Markdown page with the figures), a figure per claim, and claim 1 against the MNIST dimension (Table 6, Fig 29).
rule robustness_collect:
    input:
        blocks=[
            *expand("results/robustness/gmm/seed{seed}/checks.json", seed=STUDY_SEEDS),
            *expand(
                "results/robustness/mnist/seed{seed}/checks.json", seed=STUDY_SEEDS
            ),
            *expand(
                "results/robustness/sweeps/seed{seed}/checks.json", seed=SWEEP_SEEDS
            ),
            *expand(
                "results/robustness/kmeans/seed{seed}/checks.json", seed=STUDY_SEEDS
            ),
            *expand(
                "results/robustness/faces/seed{seed}/checks.json",
                seed=STUDY_FACE_SEEDS,
            ),
            *expand(
                "results/robustness/mnist_dim/dim{dim}/seed{seed}/checks.json",
                **D_SLICE,
            ),
        ],
        default_checks=[
            "results/gmm/checks.json",
            *expand("results/mnist/seed{seed}/checks.json", seed=SEEDS),
            *expand("results/faces/seed{seed}/checks.json", seed=FACE_SEEDS),
            "results/kmeans/checks.json",
        ],
        dim_inversion=expand(
            "results/robustness/mnist_dim/dim{dim}/seed{seed}/inversion.json",
            **D_SLICE,
        ),
        default_inversion=expand("results/mnist/seed{seed}/inversion.json", seed=SEEDS),
        code=stage_code("robustness.collect"),
    output:
        table="results/robustness/checks.csv",
        points="results/robustness/points.csv",
        claims="results/robustness/claims.csv",
        sensitivity="results/robustness/sensitivity.csv",
        sensitivity_md="results/robustness/sensitivity.md",
        summary="results/robustness/summary.json",
        inversion="results/tables/table6_inversion_vs_dim.csv",
        inversion_md="results/tables/table6_inversion_vs_dim.md",
        figures=[
            report(
                f"results/figures/fig{n:02d}_robustness_claim{c}.png",
                caption="../report/fig22_28.rst",
                category=REPORT_ROBUST,
                subcategory="Claim figures",
            )
            for c, n in STUDY_FIGURES.items()
        ],
        figure_files=[
            f"results/figures/fig{n:02d}_robustness_claim{c}.{ext}"
            for c, n in STUDY_FIGURES.items()
            for ext in ("pdf", "csv")
        ],
        fig29=report(
            "results/figures/fig29_inversion_vs_dim.png",
            caption="../report/fig29.rst",
            category=REPORT_ROBUST,
            subcategory="Inversion against D",
        ),
        pdf29="results/figures/fig29_inversion_vs_dim.pdf",
        fig29_data="results/figures/fig29_inversion_vs_dim.csv",
    log:
        "results/logs/robustness/collect.log",
    benchmark:
        "results/benchmarks/robustness/collect.tsv"
    group:
        "figures"
    conda:
        ENV
    threads: rule_threads("robustness_collect")
    resources:
        **job_resources("robustness_collect"),
    params:
        dim=config["mnist"]["dim"],
        seeds=SEEDS,
        verdicts=section("verdicts"),
    shell:
        "python -m musicsom.pipeline.robustness.collect --blocks {input.blocks}"
        " --default-checks {input.default_checks} --dim-inversion {input.dim_inversion}"
        " --default-inversion {input.default_inversion} --seeds {params.seeds} --dim {params.dim}"
        " --verdicts {params.verdicts:q} --table {output.table} --points {output.points}"
        " --claims {output.claims} --sensitivity {output.sensitivity} --summary {output.summary}"
        " --figures results/figures --inversion-table {output.inversion} > {log} 2>&1"
