# The robustness study (docs/METHOD.md §7): every check of claims 1 and 3-9 over the settings the paper does not
# state. One job per experiment and seed runs a whole grid block at once: the rules robustness_<experiment> at the
# end of each experiment's file (the MNIST D slice in mnist.smk). This file gathers the blocks into one table, a
# figure per claim and the summary the report reads. robustness.enabled: false leaves the study out.


localrules:
    robustness_all,


rule robustness_all:
    input:
        (
            [
                "results/robustness/checks.csv",
                "results/robustness/summary.json",
                "results/tables/table6_inversion_vs_dim.csv",
            ]
            if config["robustness"]["enabled"]
            else []
        ),


# The MNIST D slice (rules robustness_mnist_* of mnist.smk): the dimensions besides mnist.dim, as they appear in
# paths ("dim400", "dimfull"), on the first robustness.dim_seeds seeds.
D_SLICE = {
    "dim": [
        d
        for d in map(str, config["robustness"]["mnist"]["dims"])
        if d != str(config["mnist"]["dim"])
    ],
    "seed": SEEDS[: int(config["robustness"]["dim_seeds"])],
}


# Every block of the study (the rules robustness_<experiment> of the experiments' files) in one table, the verdict
# of each claim at each grid point, a figure per claim, and claim 1 against the MNIST dimension (Table 6, Fig 29),
# whose default point is the default MNIST stages' own check.
rule robustness_collect:
    input:
        checks=[
            *expand("results/robustness/gmm/seed{seed}/checks.csv", seed=SEEDS),
            *expand("results/robustness/mnist/seed{seed}/checks.csv", seed=SEEDS),
            *expand("results/robustness/sweeps/seed{seed}/checks.csv", seed=SEEDS),
            *expand("results/robustness/kmeans/seed{seed}/checks.csv", seed=SEEDS),
            *expand("results/robustness/faces/seed{seed}/checks.csv", seed=FACE_SEEDS),
            *expand(
                "results/robustness/mnist_dim/dim{dim}/seed{seed}/checks.csv",
                **D_SLICE,
            ),
        ],
        dim_inversion=expand(
            "results/robustness/mnist_dim/dim{dim}/seed{seed}/inversion.json",
            **D_SLICE,
        ),
        default_inversion=expand("results/mnist/seed{seed}/inversion.json", seed=SEEDS),
        default_checks=expand("results/mnist/seed{seed}/checks.json", seed=SEEDS),
        code=stage_code("robustness.collect"),
    output:
        table="results/robustness/checks.csv",
        claims="results/robustness/claims.csv",
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
            for c, n in zip(range(3, 10), range(22, 29))
        ],
        figure_files=[
            f"results/figures/fig{n:02d}_robustness_claim{c}.{ext}"
            for c, n in zip(range(3, 10), range(22, 29))
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
        study=section("robustness", "mnist"),
        paper=section("robustness", "paper"),
        music=section("mnist", "music"),
        dim=config["mnist"]["dim"],
        seeds=SEEDS,
    shell:
        "python -m musicsom.pipeline.robustness.collect --checks {input.checks}"
        " --dim-inversion {input.dim_inversion} --default-inversion {input.default_inversion}"
        " --default-checks {input.default_checks} --seeds {params.seeds} --study {params.study:q}"
        " --paper {params.paper:q} --music {params.music:q} --dim {params.dim} --table {output.table}"
        " --claims {output.claims} --summary {output.summary} --figures results/figures"
        " --inversion-table {output.inversion} > {log} 2>&1"
