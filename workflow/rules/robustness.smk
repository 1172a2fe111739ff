# The robustness study (docs/METHOD.md §7): every check of claims 3-9 over the settings the paper does not
# state, one job per experiment and seed (a whole grid block at once), then one table, a figure per claim
# and the summary the report reads. robustness.enabled: false leaves it out.

RB = "results/robustness"
MDIM = "results/robustness/mnist_dim/dim{dim}"


wildcard_constraints:
    dim=r"\d+|full",


localrules:
    robustness_all,


rule robustness_all:
    input:
        robustness_outputs(),


rule robustness_gmm:
    input:
        data=f"{GMM}/data.npz",
        som=f"{GMM}/som.npz",
        code=stage_code("robustness.gmm"),
    output:
        checks=f"{RB}/gmm/seed{{seed}}/checks.csv",
        trajectories=f"{RB}/gmm/seed{{seed}}/trajectories.csv",
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
        grid=robustness_grid("gmm"),
        verdicts=verdict_args(cfg("verdicts")),
    shell:
        "python -m musicsom.pipeline.robustness.gmm --data {input.data} --som {input.som} --grid {params.grid:q}"
        " --seed {wildcards.seed} {params.verdicts} --checks {output.checks}"
        " --trajectories {output.trajectories} > {log} 2>&1"


rule robustness_mnist:
    input:
        data="results/data/digits.npz",
        encoding=f"{MNIST}/encoding.npz",
        latent=f"{MNIST}/latent.npz",
        som=f"{MSEED}/som.npz",
        labels=f"{MSEED}/labels.npz",
        classifier=f"{MNIST}/classifier.pt",
        vae=f"{MNIST}/vae.pt",
        code=stage_code("robustness.mnist"),
    output:
        checks=f"{RB}/mnist/seed{{seed}}/checks.csv",
        trajectories=f"{RB}/mnist/seed{{seed}}/trajectories.csv",
    log:
        "results/logs/robustness/mnist_seed{seed}.log",
    benchmark:
        "results/benchmarks/robustness/mnist_seed{seed}.tsv"
    conda:
        ENV
    threads: rule_threads("robustness_mnist")
    resources:
        **job_resources("robustness_mnist"),
    params:
        slice=mnist_slice_args(MNIST_CFG),
        pairs=mnist_pairs_arg(MNIST_PAIRS),
        min_purity=cfg("mnist/music/target_min_purity"),
        n_starts=cfg("mnist/table2/n_starts"),
        n_steps=cfg("mnist/table2/n_steps"),
        knn_k=cfg("mnist/knn_k"),
        knn_stride=cfg("mnist/table2/knn_stride"),
        grid=robustness_grid("mnist"),
        verdicts=verdict_args(cfg("verdicts")),
    shell:
        "python -m musicsom.pipeline.robustness.mnist --data {input.data} {params.slice}"
        " --encoding {input.encoding} --latent {input.latent} --som {input.som} --labels {input.labels}"
        " --classifier {input.classifier} --vae {input.vae} --pairs {params.pairs} --min-purity {params.min_purity}"
        " --n-starts {params.n_starts} --n-steps {params.n_steps} --knn-k {params.knn_k} --knn-stride {params.knn_stride}"
        " --grid {params.grid:q} --seed {wildcards.seed} --threads {threads} {params.verdicts}"
        " --checks {output.checks} --trajectories {output.trajectories} > {log} 2>&1"


rule robustness_sweeps:
    input:
        data="results/data/digits.npz",
        encoding=f"{MNIST}/encoding.npz",
        latent=f"{MNIST}/latent.npz",
        som=f"{MSEED}/som.npz",
        labels=f"{MSEED}/labels.npz",
        classifier=f"{MNIST}/classifier.pt",
        code=stage_code("robustness.sweeps"),
    output:
        checks=f"{RB}/sweeps/seed{{seed}}/checks.csv",
        sweeps=f"{RB}/sweeps/seed{{seed}}/sweeps.csv",
    log:
        "results/logs/robustness/sweeps_seed{seed}.log",
    benchmark:
        "results/benchmarks/robustness/sweeps_seed{seed}.tsv"
    conda:
        ENV
    threads: rule_threads("robustness_sweeps")
    resources:
        **job_resources("robustness_sweeps"),
    params:
        slice=mnist_slice_args(MNIST_CFG),
        pair=MNIST_TRANSITION,
        min_purity=cfg("mnist/music/target_min_purity"),
        n_starts=cfg("mnist/sweep/n_starts"),
        n_steps=cfg("mnist/sweep/n_steps"),
        grid=robustness_grid("sweeps"),
        verdicts=verdict_args(cfg("verdicts")),
    shell:
        "python -m musicsom.pipeline.robustness.sweeps --data {input.data} {params.slice}"
        " --encoding {input.encoding} --latent {input.latent} --som {input.som} --labels {input.labels}"
        " --classifier {input.classifier} {params.pair} --min-purity {params.min_purity} --n-starts {params.n_starts}"
        " --n-steps {params.n_steps} --grid {params.grid:q} --seed {wildcards.seed} --threads {threads}"
        " {params.verdicts} --checks {output.checks} --sweeps {output.sweeps} > {log} 2>&1"


rule robustness_kmeans:
    input:
        data="results/data/digits.npz",
        encoding=f"{MNIST}/encoding.npz",
        latent=f"{MNIST}/latent.npz",
        som=f"{MSEED}/som.npz",
        labels=f"{MSEED}/labels.npz",
        classifier=f"{MNIST}/classifier.pt",
        kmeans=f"{KMEANS}/prototypes.npz",
        kmeans_labels=f"{KMEANS}/labels.npz",
        code=stage_code("robustness.kmeans"),
    output:
        f"{RB}/kmeans/seed{{seed}}/checks.csv",
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
        slice=mnist_slice_args(MNIST_CFG),
        pairs=mnist_pairs_arg(MNIST_PAIRS),
        min_purity=cfg("mnist/music/target_min_purity"),
        n_starts=cfg("mnist/table2/n_starts"),
        n_steps=cfg("mnist/table2/n_steps"),
        grid=robustness_grid("kmeans"),
        verdicts=verdict_args(cfg("verdicts")),
    shell:
        "python -m musicsom.pipeline.robustness.kmeans --data {input.data} {params.slice}"
        " --encoding {input.encoding} --latent {input.latent} --som {input.som} --labels {input.labels}"
        " --classifier {input.classifier} --kmeans {input.kmeans} --kmeans-labels {input.kmeans_labels}"
        " --pairs {params.pairs} --min-purity {params.min_purity} --n-starts {params.n_starts} --n-steps {params.n_steps}"
        " --grid {params.grid:q} --seed {wildcards.seed} --threads {threads} {params.verdicts}"
        " --checks {output} > {log} 2>&1"


# The D slice: the MNIST chain (encoding, classifier, SOM, labels) at each dimension, then one block per D and seed.
use rule mnist_encode as robustness_mnist_encode with:
    output:
        encoding=f"{MDIM}/encoding.npz",
        latent=f"{MDIM}/latent.npz",
        summary=f"{MDIM}/encoding.json",
    log:
        "results/logs/robustness/mnist_dim{dim}_encode.log",
    benchmark:
        "results/benchmarks/robustness/mnist_dim{dim}_encode.tsv"
    threads: rule_threads("robustness_mnist_encode")
    resources:
        **job_resources("robustness_mnist_encode"),
    params:
        dim=dim_of,


use rule mnist_classifier as robustness_mnist_classifier with:
    input:
        latent=f"{MDIM}/latent.npz",
        code=stage_code("mnist.classifier"),
    output:
        model=f"{MDIM}/classifier.pt",
        summary=f"{MDIM}/classifier.json",
    log:
        "results/logs/robustness/mnist_dim{dim}_classifier.log",
    benchmark:
        "results/benchmarks/robustness/mnist_dim{dim}_classifier.tsv"
    threads: rule_threads("robustness_mnist_classifier")
    resources:
        **job_resources("robustness_mnist_classifier"),


use rule mnist_som as robustness_mnist_som with:
    input:
        data=f"{MDIM}/latent.npz",
        code=stage_code("train_som"),
    output:
        f"{MDIM}/seed{{seed}}/som.npz",
    log:
        "results/logs/robustness/mnist_dim{dim}_som_seed{seed}.log",
    benchmark:
        "results/benchmarks/robustness/mnist_dim{dim}_som_seed{seed}.tsv"
    threads: rule_threads("robustness_mnist_som")
    resources:
        **job_resources("robustness_mnist_som"),


use rule mnist_labels as robustness_mnist_labels with:
    input:
        latent=f"{MDIM}/latent.npz",
        som=f"{MDIM}/seed{{seed}}/som.npz",
        code=stage_code("mnist.labels"),
    output:
        labels=f"{MDIM}/seed{{seed}}/labels.npz",
        summary=f"{MDIM}/seed{{seed}}/labels.json",
    log:
        "results/logs/robustness/mnist_dim{dim}_labels_seed{seed}.log",
    benchmark:
        "results/benchmarks/robustness/mnist_dim{dim}_labels_seed{seed}.tsv"
    threads: rule_threads("robustness_mnist_labels")
    resources:
        **job_resources("robustness_mnist_labels"),


rule robustness_mnist_dim:
    input:
        data="results/data/digits.npz",
        encoding=f"{MDIM}/encoding.npz",
        latent=f"{MDIM}/latent.npz",
        som=f"{MDIM}/seed{{seed}}/som.npz",
        labels=f"{MDIM}/seed{{seed}}/labels.npz",
        classifier=f"{MDIM}/classifier.pt",
        vae=f"{MNIST}/vae.pt",
        code=stage_code("robustness.mnist_dim"),
    output:
        checks=f"{MDIM}/seed{{seed}}/checks.csv",
        inversion=f"{MDIM}/seed{{seed}}/inversion.json",
    log:
        "results/logs/robustness/mnist_dim{dim}_seed{seed}.log",
    benchmark:
        "results/benchmarks/robustness/mnist_dim{dim}_seed{seed}.tsv"
    conda:
        ENV
    threads: rule_threads("robustness_mnist_dim")
    resources:
        **job_resources("robustness_mnist_dim"),
    params:
        slice=mnist_slice_args(MNIST_CFG),
        pairs=mnist_pairs_arg(MNIST_PAIRS),
        min_purity=cfg("mnist/music/target_min_purity"),
        n_starts=cfg("robustness/mnist/dim_starts"),
        n_steps=cfg("mnist/table2/n_steps"),
        knn_k=cfg("mnist/knn_k"),
        knn_stride=cfg("mnist/table2/knn_stride"),
        points=cfg("robustness/mnist/dim_points"),
        grid=robustness_grid("mnist_dim"),
        verdicts=verdict_args(cfg("verdicts")),
    shell:
        "python -m musicsom.pipeline.robustness.mnist_dim --data {input.data} {params.slice}"
        " --encoding {input.encoding} --latent {input.latent} --som {input.som} --labels {input.labels}"
        " --classifier {input.classifier} --vae {input.vae} --pairs {params.pairs} --min-purity {params.min_purity}"
        " --n-starts {params.n_starts} --n-steps {params.n_steps} --knn-k {params.knn_k} --knn-stride {params.knn_stride}"
        " --inversion-points {params.points} --dim-label {wildcards.dim} --grid {params.grid:q}"
        " --seed {wildcards.seed} --threads {threads} {params.verdicts} --checks {output.checks}"
        " --inversion {output.inversion} > {log} 2>&1"


rule robustness_faces:
    input:
        latent=f"{FACES}/latent.npz",
        checkpoint=f"{FACES}/autoencoder.pt",
        som=f"{FSEED}/som.npz",
        clusters=f"{FSEED}/clusters.json",
        starts=f"{FSEED}/starts.json",
        frames=f"{FSEED}/frames.csv",
        code=stage_code("robustness.faces"),
    output:
        checks=f"{RB}/faces/seed{{seed}}/checks.csv",
        per_start=f"{RB}/faces/seed{{seed}}/per_start.csv",
    log:
        "results/logs/robustness/faces_seed{seed}.log",
    benchmark:
        "results/benchmarks/robustness/faces_seed{seed}.tsv"
    conda:
        ENV
    threads: rule_threads("robustness_faces")
    resources:
        **job_resources("robustness_faces"),
    params:
        grid=robustness_grid("faces"),
        id_size=cfg("faces/identity/size"),
        upsample=cfg("faces/identity/detector_upsample"),
        verdicts=verdict_args(cfg("verdicts")),
    shell:
        "python -m musicsom.pipeline.robustness.faces --latent {input.latent} --checkpoint {input.checkpoint}"
        " --som {input.som} --clusters {input.clusters} --starts {input.starts} --frames {input.frames}"
        " --grid {params.grid:q} --seed {wildcards.seed} --id-size {params.id_size}"
        " --detector-upsample {params.upsample} {params.verdicts} --checks {output.checks}"
        " --per-start {output.per_start} > {log} 2>&1"


rule robustness_collect:
    input:
        checks=[
            *expand(f"{RB}/gmm/seed{{seed}}/checks.csv", seed=SEEDS),
            *expand(f"{RB}/mnist/seed{{seed}}/checks.csv", seed=SEEDS),
            *expand(f"{RB}/sweeps/seed{{seed}}/checks.csv", seed=SEEDS),
            *expand(f"{RB}/kmeans/seed{{seed}}/checks.csv", seed=SEEDS),
            *expand(f"{RB}/faces/seed{{seed}}/checks.csv", seed=FACE_SEEDS),
            *expand(
                f"{MDIM}/seed{{seed}}/checks.csv", dim=ROBUST_DIMS, seed=DIM_SEEDS
            ),
        ],
        dim_inversion=expand(
            f"{MDIM}/seed{{seed}}/inversion.json", dim=ROBUST_DIMS, seed=DIM_SEEDS
        ),
        default_inversion=expand(f"{MSEED}/inversion.json", seed=SEEDS),
        default_checks=expand(f"{MSEED}/checks.json", seed=SEEDS),
        code=stage_code("robustness.collect"),
    output:
        table=f"{RB}/checks.csv",
        claims=f"{RB}/claims.csv",
        summary=f"{RB}/summary.json",
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
        default_dim=cfg("mnist/dim"),
        seeds=" ".join(str(s) for s in SEEDS),
        dim_grid=robustness_grid("mnist_dim"),
    shell:
        "python -m musicsom.pipeline.robustness.collect --checks {input.checks}"
        " --dim-inversion {input.dim_inversion} --default-inversion {input.default_inversion}"
        " --default-dim {params.default_dim} --default-seeds {params.seeds} --default-checks {input.default_checks}"
        " --dim-grid {params.dim_grid:q} --table {output.table}"
        " --claims {output.claims} --summary {output.summary} --figures results/figures"
        " --inversion-table {output.inversion} > {log} 2>&1"
