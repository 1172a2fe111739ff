# The k-means control (beyond the paper): its §6 says unstructured prototypes such as k-means give
# unstable, uninterpretable MUSIC motion but never shows it. Same K, encoding, pairs, starts and
# MUSIC settings as MNIST Table 2; only the prototypes differ: the labels and trajectories run the MNIST
# stages (mnist.labels, mnist.trajectories) on the k-means centres, with the MNIST sections.

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
        # K: the MNIST SOM's prototypes (ring preservation, which needs a lattice, is refused by the config check)
        k=config["mnist"]["som"]["rows"] * config["mnist"]["som"]["cols"],
        kmeans=section("kmeans"),
    shell:
        "python -m musicsom.pipeline.kmeans.fit --latent {input.latent} --k {params.k} --kmeans {params.kmeans:q}"
        " --seed {wildcards.seed} --threads {threads} --out {output} > {log} 2>&1"


# the majority labels of the k-means centres: the MNIST stage, on the centres
rule kmeans_labels:
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
    conda:
        ENV
    threads: rule_threads("kmeans_labels")
    resources:
        **job_resources("kmeans_labels"),
    shell:
        "python -m musicsom.pipeline.mnist.labels --latent {input.latent} --som {input.som}"
        " --out {output.labels} --summary {output.summary} > {log} 2>&1"


# the Table 2 trajectories on the k-means centres: the MNIST stage with the MNIST sections (the arms the control
# compares: MUSIC, with linear and VAE as before; the data-manifold baselines belong to the SOM's Table 2)
rule kmeans_trajectories:
    input:
        data="results/data/digits.npz",
        encoding="results/mnist/encoding.npz",
        latent="results/mnist/latent.npz",
        som=f"{KMEANS}/prototypes.npz",
        labels=f"{KMEANS}/labels.npz",
        classifier="results/mnist/seed{seed}/classifier.pt",
        vae="results/mnist/seed{seed}/vae.pt",
        code=stage_code("mnist.trajectories"),
    output:
        f"{KMEANS}/pairs.csv",
    log:
        "results/logs/kmeans/trajectories_seed{seed}.log",
    benchmark:
        "results/benchmarks/kmeans/trajectories_seed{seed}.tsv"
    conda:
        ENV
    threads: rule_threads("kmeans_trajectories")
    resources:
        **job_resources("kmeans_trajectories"),
    params:
        n_train=config["mnist"]["n_train"],
        n_test=config["mnist"]["n_test"],
        target_min_purity=config["mnist"]["target_min_purity"],
        knn_k=config["mnist"]["knn_k"],
        pairs=section("mnist", "pairs"),
        table2=section("mnist", "table2"),
        music=section("mnist", "music"),
    shell:
        "python -m musicsom.pipeline.mnist.trajectories --data {input.data} --n-train {params.n_train}"
        " --n-test {params.n_test} --encoding {input.encoding} --latent {input.latent} --som {input.som}"
        " --labels {input.labels} --classifier {input.classifier} --vae {input.vae}"
        " --target-min-purity {params.target_min_purity} --knn-k {params.knn_k} --seed {wildcards.seed}"
        " --threads {threads} --pairs {params.pairs:q} --table2 {params.table2:q} --music {params.music:q}"
        " --methods music linear vae --out {output} > {log} 2>&1"


rule kmeans_fig21_table5:
    input:
        som_pairs=expand("results/mnist/seed{seed}/pairs.csv", seed=SEEDS),
        kmeans_pairs=expand(f"{KMEANS}/pairs.csv", seed=SEEDS),
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
        som_pairs=expand("results/mnist/seed{seed}/pairs.csv", seed=SEEDS),
        kmeans_pairs=expand(f"{KMEANS}/pairs.csv", seed=SEEDS),
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
        verdicts=section("verdicts"),
    shell:
        "python -m musicsom.pipeline.kmeans.claims --som-pairs {input.som_pairs}"
        " --kmeans-pairs {input.kmeans_pairs} --verdicts {params.verdicts:q} --out {output} > {log} 2>&1"


# the sensitivity study's block of the k-means control (workflow/rules/robustness.smk gathers every block):
# claim 9 along the axes of robustness.kmeans, on the SOM and the k-means centres of one seed
rule robustness_kmeans:
    input:
        data="results/data/digits.npz",
        encoding="results/mnist/encoding.npz",
        latent="results/mnist/latent.npz",
        som="results/mnist/seed{seed}/som.npz",
        labels="results/mnist/seed{seed}/labels.npz",
        classifier="results/mnist/seed{seed}/classifier.pt",
        kmeans=f"{KMEANS}/prototypes.npz",
        kmeans_labels=f"{KMEANS}/labels.npz",
        code=stage_code("kmeans.robustness"),
    output:
        "results/robustness/kmeans/seed{seed}/checks.json",
    log:
        "results/logs/robustness/kmeans_seed{seed}.log",
    benchmark:
        "results/benchmarks/robustness/kmeans_seed{seed}.tsv"
    conda:
        ENV
    threads: rule_threads("robustness_kmeans")
    resources:
        **job_resources("robustness_kmeans"),
    params:
        n_train=config["mnist"]["n_train"],
        n_test=config["mnist"]["n_test"],
        target_min_purity=config["mnist"]["target_min_purity"],
        pairs=section("mnist", "pairs"),
        table2=section("mnist", "table2"),
        music=section("mnist", "music"),
        study=section("robustness", "kmeans"),
        verdicts=section("verdicts"),
    shell:
        "python -m musicsom.pipeline.kmeans.robustness --data {input.data} --n-train {params.n_train}"
        " --n-test {params.n_test} --encoding {input.encoding} --latent {input.latent} --som {input.som}"
        " --labels {input.labels} --classifier {input.classifier} --kmeans {input.kmeans}"
        " --kmeans-labels {input.kmeans_labels} --target-min-purity {params.target_min_purity}"
        " --seed {wildcards.seed} --threads {threads} --pairs {params.pairs:q} --table2 {params.table2:q}"
        " --music {params.music:q} --study {params.study:q}"
        " --verdicts {params.verdicts:q} --checks {output} > {log} 2>&1"
