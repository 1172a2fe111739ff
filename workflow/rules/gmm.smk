# Gaussian-mixture experiments (paper §5.2): Figs 1, 2, 3, 5, 6 and Table 1.
# Per seed: synthesise -> standardise -> SOM -> inversion (against m, under noise) and trajectories; Table 1 and
# the claims (1-3) gather the seeds. The illustrations (Figs 1, 2, 3, 5, 6) use the first seed.

GMM = "results/gmm/seed{seed}"
GMM0 = f"results/gmm/seed{SEEDS[0]}"


localrules:
    gmm_all,


rule gmm_all:
    input:
        "results/figures/fig01_noise_bound.png",
        "results/figures/fig02_naive_vs_consistent.png",
        "results/figures/fig03_radial_tangential.png",
        "results/figures/fig05_inversion_vs_m.png",
        "results/figures/fig06_gmm_trajectories.png",
        "results/tables/table1_gmm_metrics.csv",
        "results/gmm/checks.json",


rule gmm_synthesise:
    input:
        code=stage_code("gmm.synthesise"),
    output:
        f"{GMM}/raw.npz",
    log:
        "results/logs/gmm/synthesise_seed{seed}.log",
    benchmark:
        "results/benchmarks/gmm/synthesise_seed{seed}.tsv"
    conda:
        ENV
    threads: rule_threads("gmm_synthesise")
    resources:
        **job_resources("gmm_synthesise"),
    params:
        mixture=section("gmm", "mixture"),
    shell:
        "python -m musicsom.pipeline.gmm.synthesise --mixture {params.mixture:q} --seed {wildcards.seed}"
        " --out {output} > {log} 2>&1"


rule gmm_standardise:
    input:
        raw=f"{GMM}/raw.npz",
        code=stage_code("gmm.standardise"),
    output:
        f"{GMM}/data.npz",
    log:
        "results/logs/gmm/standardise_seed{seed}.log",
    benchmark:
        "results/benchmarks/gmm/standardise_seed{seed}.tsv"
    conda:
        ENV
    threads: rule_threads("gmm_standardise")
    resources:
        **job_resources("gmm_standardise"),
    params:
        standardise=config["gmm"]["standardise"],
    shell:
        "python -m musicsom.pipeline.gmm.standardise --raw {input.raw} --standardise {params.standardise}"
        " --out {output} > {log} 2>&1"


rule gmm_som:
    input:
        data=f"{GMM}/data.npz",
        code=stage_code("train_som"),
    output:
        f"{GMM}/som.npz",
    log:
        "results/logs/gmm/som_seed{seed}.log",
    benchmark:
        "results/benchmarks/gmm/som_seed{seed}.tsv"
    conda:
        ENV
    threads: rule_threads("gmm_som")
    resources:
        **job_resources("gmm_som"),
    params:
        som=section("gmm", "som"),
        backend=config["som_backend"],
        device=config["device"],
    shell:
        "python -m musicsom.pipeline.train_som --data {input.data} --som {params.som:q} --seed {wildcards.seed}"
        " --threads {threads} --backend {params.backend} --device {params.device} --out {output} > {log} 2>&1"


# Per seed: the inversion error against m (claim 1) and under activation noise (claim 2); Figs 5 and 1 draw the
# first seed's.
rule gmm_inversion:
    input:
        data=f"{GMM}/data.npz",
        som=f"{GMM}/som.npz",
        code=stage_code("gmm.inversion"),
    output:
        table=f"{GMM}/inversion_vs_m.csv",
        summary=f"{GMM}/inversion_summary.json",
        errors=f"{GMM}/inversion_errors.npz",
    log:
        "results/logs/gmm/inversion_seed{seed}.log",
    benchmark:
        "results/benchmarks/gmm/inversion_seed{seed}.tsv"
    conda:
        ENV
    threads: rule_threads("gmm_inversion")
    resources:
        **job_resources("gmm_inversion"),
    params:
        inversion=section("gmm", "inversion"),
    shell:
        "python -m musicsom.pipeline.gmm.inversion --data {input.data} --som {input.som} --inversion {params.inversion:q}"
        " --seed {wildcards.seed} --table {output.table} --summary {output.summary} --errors {output.errors} > {log} 2>&1"


rule gmm_noise:
    input:
        data=f"{GMM}/data.npz",
        som=f"{GMM}/som.npz",
        code=stage_code("gmm.noise"),
    output:
        cases=f"{GMM}/noise_cases.csv",
        summary=f"{GMM}/noise_summary.json",
    log:
        "results/logs/gmm/noise_seed{seed}.log",
    benchmark:
        "results/benchmarks/gmm/noise_seed{seed}.tsv"
    conda:
        ENV
    threads: rule_threads("gmm_noise")
    resources:
        **job_resources("gmm_noise"),
    params:
        inversion=section("gmm", "inversion"),
    shell:
        "python -m musicsom.pipeline.gmm.noise --data {input.data} --som {input.som} --inversion {params.inversion:q}"
        " --seed {wildcards.seed} --cases {output.cases} --summary {output.summary} > {log} 2>&1"


rule gmm_fig05:
    input:
        table=f"{GMM0}/inversion_vs_m.csv",
        code=stage_code("gmm.fig05"),
    output:
        figure=report(
            "results/figures/fig05_inversion_vs_m.png",
            caption="../report/fig05.rst",
            category=REPORT_GMM,
            subcategory="Figures",
        ),
        pdf="results/figures/fig05_inversion_vs_m.pdf",
        data="results/figures/fig05_inversion_vs_m.csv",
    log:
        "results/logs/gmm/fig05.log",
    benchmark:
        "results/benchmarks/gmm/fig05.tsv"
    conda:
        ENV
    threads: rule_threads("gmm_fig05")
    resources:
        **job_resources("gmm_fig05"),
    shell:
        "python -m musicsom.pipeline.gmm.fig05 --table {input.table} --figure {output.figure} > {log} 2>&1"


rule gmm_fig01:
    input:
        cases=f"{GMM0}/noise_cases.csv",
        code=stage_code("gmm.fig01"),
    output:
        figure=report(
            "results/figures/fig01_noise_bound.png",
            caption="../report/fig01.rst",
            category=REPORT_GMM,
            subcategory="Figures",
        ),
        pdf="results/figures/fig01_noise_bound.pdf",
        data="results/figures/fig01_noise_bound.csv",
    log:
        "results/logs/gmm/fig01.log",
    benchmark:
        "results/benchmarks/gmm/fig01.tsv"
    conda:
        ENV
    threads: rule_threads("gmm_fig01")
    resources:
        **job_resources("gmm_fig01"),
    shell:
        "python -m musicsom.pipeline.gmm.fig01 --cases {input.cases} --figure {output.figure} > {log} 2>&1"


rule gmm_fig02_03:
    input:
        data=f"{GMM0}/data.npz",
        som=f"{GMM0}/som.npz",
        code=stage_code("gmm.fig02_03"),
    output:
        fig02=report(
            "results/figures/fig02_naive_vs_consistent.png",
            caption="../report/fig02.rst",
            category=REPORT_GMM,
            subcategory="Figures",
        ),
        pdf02="results/figures/fig02_naive_vs_consistent.pdf",
        csv02="results/figures/fig02_naive_vs_consistent.csv",
        fig03=report(
            "results/figures/fig03_radial_tangential.png",
            caption="../report/fig03.rst",
            category=REPORT_GMM,
            subcategory="Figures",
        ),
        pdf03="results/figures/fig03_radial_tangential.pdf",
        csv03="results/figures/fig03_radial_tangential.csv",
    log:
        "results/logs/gmm/geometry.log",
    benchmark:
        "results/benchmarks/gmm/geometry.tsv"
    conda:
        ENV
    threads: rule_threads("gmm_fig02_03")
    resources:
        **job_resources("gmm_fig02_03"),
    params:
        geometry=section("gmm", "geometry"),
        seed=SEEDS[0],
    shell:
        "python -m musicsom.pipeline.gmm.fig02_03 --data {input.data} --som {input.som} --seed {params.seed}"
        " --geometry {params.geometry:q} --fig02 {output.fig02} --fig03 {output.fig03} > {log} 2>&1"


rule gmm_trajectories:
    input:
        data=f"{GMM}/data.npz",
        som=f"{GMM}/som.npz",
        code=stage_code("gmm.trajectories"),
    output:
        trajectories=f"{GMM}/trajectories.npz",
        metrics=f"{GMM}/per_trajectory.csv",
    log:
        "results/logs/gmm/trajectories_seed{seed}.log",
    benchmark:
        "results/benchmarks/gmm/trajectories_seed{seed}.tsv"
    conda:
        ENV
    threads: rule_threads("gmm_trajectories")
    resources:
        **job_resources("gmm_trajectories"),
    params:
        trajectories=section("gmm", "trajectories"),
        music=section("gmm", "music"),
    shell:
        "python -m musicsom.pipeline.gmm.trajectories --data {input.data} --som {input.som}"
        " --trajectories {params.trajectories:q} --music {params.music:q} --seed {wildcards.seed} --out {output.trajectories} --metrics {output.metrics} > {log} 2>&1"


rule gmm_fig06:
    input:
        data=f"{GMM0}/data.npz",
        som=f"{GMM0}/som.npz",
        trajectories=f"{GMM0}/trajectories.npz",
        code=stage_code("gmm.fig06"),
    output:
        figure=report(
            "results/figures/fig06_gmm_trajectories.png",
            caption="../report/fig06.rst",
            category=REPORT_GMM,
            subcategory="Figures",
        ),
        pdf="results/figures/fig06_gmm_trajectories.pdf",
        data="results/figures/fig06_gmm_trajectories.csv",
    log:
        "results/logs/gmm/fig06.log",
    benchmark:
        "results/benchmarks/gmm/fig06.tsv"
    group:
        "figures"
    conda:
        ENV
    threads: rule_threads("gmm_fig06")
    resources:
        **job_resources("gmm_fig06"),
    shell:
        "python -m musicsom.pipeline.gmm.fig06 --data {input.data} --som {input.som}"
        " --trajectories {input.trajectories} --figure {output.figure} > {log} 2>&1"


rule gmm_table1:
    input:
        metrics=expand(f"{GMM}/per_trajectory.csv", seed=SEEDS),
        code=stage_code("gmm.table1"),
    output:
        table="results/tables/table1_gmm_metrics.csv",
        markdown="results/tables/table1_gmm_metrics.md",
    log:
        "results/logs/gmm/table1.log",
    benchmark:
        "results/benchmarks/gmm/table1.tsv"
    group:
        "figures"
    conda:
        ENV
    threads: rule_threads("gmm_table1")
    resources:
        **job_resources("gmm_table1"),
    shell:
        "python -m musicsom.pipeline.gmm.table1 --metrics {input.metrics} --table {output.table} > {log} 2>&1"


rule gmm_claims:
    input:
        inversion_errors=expand(f"{GMM}/inversion_errors.npz", seed=SEEDS),
        noise=expand(f"{GMM}/noise_cases.csv", seed=SEEDS),
        per_trajectory=expand(f"{GMM}/per_trajectory.csv", seed=SEEDS),
        code=stage_code("gmm.claims"),
    output:
        "results/gmm/checks.json",
    log:
        "results/logs/gmm/claims.log",
    benchmark:
        "results/benchmarks/gmm/claims.tsv"
    group:
        "figures"
    conda:
        ENV
    threads: rule_threads("gmm_claims")
    resources:
        **job_resources("gmm_claims"),
    params:
        verdicts=section("verdicts"),
    shell:
        "python -m musicsom.pipeline.gmm.claims --inversion-errors {input.inversion_errors} --noise {input.noise}"
        " --per-trajectory {input.per_trajectory} --verdicts {params.verdicts:q}"
        " --out {output} > {log} 2>&1"


# the sensitivity study's block of the mixture (workflow/rules/robustness.smk gathers every block)
rule robustness_gmm:
    input:
        data=f"{GMM}/data.npz",
        som=f"{GMM}/som.npz",
        code=stage_code("gmm.robustness"),
    output:
        checks="results/robustness/gmm/seed{seed}/checks.json",
        trajectories="results/robustness/gmm/seed{seed}/trajectories.csv",
    log:
        "results/logs/robustness/gmm_seed{seed}.log",
    benchmark:
        "results/benchmarks/robustness/gmm_seed{seed}.tsv"
    conda:
        ENV
    threads: rule_threads("robustness_gmm")
    resources:
        **job_resources("robustness_gmm"),
    params:
        study=section("robustness", "gmm"),
        trajectories=section("gmm", "trajectories"),
        music=section("gmm", "music"),
        verdicts=section("verdicts"),
    shell:
        "python -m musicsom.pipeline.gmm.robustness --data {input.data} --som {input.som} --study {params.study:q}"
        " --trajectories {params.trajectories:q} --music {params.music:q} --seed {wildcards.seed}"
        " --verdicts {params.verdicts:q} --checks {output.checks} --metrics {output.trajectories} > {log} 2>&1"
