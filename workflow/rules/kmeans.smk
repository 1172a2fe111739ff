# The k-means control (beyond the paper): its §6 says unstructured prototypes such as k-means give
# unstable, uninterpretable MUSIC motion but never shows it. Same K, encoding, pairs, starts and
# MUSIC settings as MNIST Table 2; only the prototypes differ.

KMEANS = "results/kmeans/seed{seed}"


localrules:
    kmeans_all,


rule kmeans_all:
    input:
        "results/tables/table5_kmeans_vs_som.csv",
        "results/figures/fig21_kmeans_vs_som.png",
        "results/kmeans/checks.json",


rule kmeans_fit:
    input:
        latent="results/mnist/latent.npz",
        code=stage_code("kmeans.fit"),
    output:
        f"{KMEANS}/prototypes.npz",
    log:
        "results/logs/kmeans/fit_seed{seed}.log",
    benchmark:
        "results/benchmarks/kmeans/fit_seed{seed}.tsv"
    priority: LONG_JOBS_FIRST
    conda:
        ENV
    threads: rule_threads("kmeans_fit")
    resources:
        **job_resources("kmeans_fit"),
    params:
        k=kmeans_k(config),
        n_init=cfg("kmeans/n_init"),
        max_iter=cfg("kmeans/max_iter"),
    shell:
        "python -m musicsom.pipeline.kmeans.fit --latent {input.latent} --k {params.k} --n-init {params.n_init}"
        " --max-iter {params.max_iter} --seed {wildcards.seed} --threads {threads} --out {output} > {log} 2>&1"


use rule mnist_labels as kmeans_labels with:
    input:
        latent="results/mnist/latent.npz",
        som=f"{KMEANS}/prototypes.npz",
        code=stage_code("mnist.labels"),
    output:
        labels=f"{KMEANS}/labels.npz",
        summary=f"{KMEANS}/labels.json",
    log:
        "results/logs/kmeans/labels_seed{seed}.log",
    benchmark:
        "results/benchmarks/kmeans/labels_seed{seed}.tsv"
    threads: rule_threads("kmeans_labels")
    resources:
        **job_resources("kmeans_labels"),


use rule mnist_trajectories as kmeans_trajectories with:
    input:
        data="results/data/digits.npz",
        encoding="results/mnist/encoding.npz",
        latent="results/mnist/latent.npz",
        som=f"{KMEANS}/prototypes.npz",
        labels=f"{KMEANS}/labels.npz",
        classifier="results/mnist/classifier.pt",
        vae="results/mnist/vae.pt",
        code=stage_code("mnist.trajectories"),
    output:
        f"{KMEANS}/pairs.csv",
    log:
        "results/logs/kmeans/trajectories_seed{seed}.log",
    benchmark:
        "results/benchmarks/kmeans/trajectories_seed{seed}.tsv"
    threads: rule_threads("kmeans_trajectories")
    resources:
        **job_resources("kmeans_trajectories"),


rule kmeans_fig21_table5:
    input:
        som_pairs=mnist_pair_csvs(SEEDS),
        kmeans_pairs=kmeans_pair_csvs(SEEDS),
        code=stage_code("kmeans.fig21_table5"),
    output:
        table="results/tables/table5_kmeans_vs_som.csv",
        markdown="results/tables/table5_kmeans_vs_som.md",
        figure=report(
            "results/figures/fig21_kmeans_vs_som.png",
            caption="../report/fig21.rst",
            category=REPORT_KMEANS,
            subcategory="Figures",
        ),
        pdf="results/figures/fig21_kmeans_vs_som.pdf",
        data="results/figures/fig21_kmeans_vs_som.csv",
    log:
        "results/logs/kmeans/compare.log",
    benchmark:
        "results/benchmarks/kmeans/compare.tsv"
    group:
        "figures"
    conda:
        ENV
    threads: rule_threads("kmeans_fig21_table5")
    resources:
        **job_resources("kmeans_fig21_table5"),
    shell:
        "python -m musicsom.pipeline.kmeans.fig21_table5 --som-pairs {input.som_pairs}"
        " --kmeans-pairs {input.kmeans_pairs} --table {output.table} --figure {output.figure} > {log} 2>&1"


rule kmeans_claims:
    input:
        som_pairs=mnist_pair_csvs(SEEDS),
        kmeans_pairs=kmeans_pair_csvs(SEEDS),
        code=stage_code("kmeans.claims"),
    output:
        "results/kmeans/checks.json",
    log:
        "results/logs/kmeans/claims.log",
    benchmark:
        "results/benchmarks/kmeans/claims.tsv"
    group:
        "figures"
    conda:
        ENV
    threads: rule_threads("kmeans_claims")
    resources:
        **job_resources("kmeans_claims"),
    params:
        verdicts=verdict_args(cfg("verdicts")),
    shell:
        "python -m musicsom.pipeline.kmeans.claims --som-pairs {input.som_pairs}"
        " --kmeans-pairs {input.kmeans_pairs} {params.verdicts} --out {output} > {log} 2>&1"
