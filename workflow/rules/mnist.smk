# MNIST (paper §5.3): Figs 7-10, 16-20, Tables 2 and 4.
# Once: PCA whitening (deterministic). Per seed: the latent-space classifier and the pixel VAE (one thread each:
# on a shared 2-core machine, two torch threads contend badly), toroidal SOM -> majority labels, inversion check,
# the 0 -> 1 transition, one job per digit pair (MUSIC, linear, VAE), one job per swept hyperparameter, checks.json (claims 1, 4-7).
# Figures use the first seed; Tables 2 and 4 gather every seed. At the end: the study's MNIST blocks.
# Plain values the trajectory stages take: mnist.n_train / n_test (the images used), mnist.target_min_purity
# (the target prototype), and mnist.knn_k where they measure the manifold distance; sections pass whole (section(...)).

MNIST = "results/mnist"
MSEED = "results/mnist/seed{seed}"
MSEED0 = f"results/mnist/seed{SEEDS[0]}"
# the robustness study's D slice: the MNIST chain at each dimension D of robustness.mnist.dims
MNIST_DIM = "results/robustness/mnist_dim/dim{dim}"


wildcard_constraints:
    dim=r"\d+|full|var\d{1,2}(\.\d+)?",  # var<percent>: the variance-share reading (mnist.encode)


localrules:
    mnist_all,


rule mnist_all:
    input:
        "results/figures/fig07_mnist_som.png",
        "results/figures/fig08_mnist_strips.png",
        "results/figures/fig09_mnist_cosines.png",
        "results/figures/fig10_mnist_confidence.png",
        "results/figures/fig16_vae_comparison.png",
        "results/figures/fig17_sweep_alpha.png",
        "results/figures/fig18_sweep_lam.png",
        "results/figures/fig19_sweep_kappa.png",
        "results/figures/fig20_lcurve_lam.png",
        "results/tables/table2_mnist_pairs.csv",
        "results/tables/table2_mnist_trajectories.csv",
        "results/tables/table4_vae.csv",
        f"{MNIST}/encoding.json",
        expand(f"{MSEED}/classifier.json", seed=SEEDS),
        expand(f"{MSEED}/vae.json", seed=SEEDS),
        "results/tables/models_mnist.csv",
        expand(f"{MSEED}/labels.json", seed=SEEDS),
        expand(f"{MSEED}/inversion.json", seed=SEEDS),
        expand(f"{MSEED}/checks.json", seed=SEEDS),
        expand(f"{MSEED}/lenet.json", seed=SEEDS),


rule mnist_encode:
    input:
        data="results/data/digits.npz",
        code=stage_code("mnist.encode"),
    output:
        encoding=f"{MNIST}/encoding.npz",
        latent=f"{MNIST}/latent.npz",
        summary=f"{MNIST}/encoding.json",
    log:
        "results/logs/mnist/encode.log",
    benchmark:
        "results/benchmarks/mnist/encode.tsv"
    conda:
        ENV
    threads: rule_threads("mnist_encode")
    resources:
        **job_resources("mnist_encode"),
    params:
        dim=config["mnist"]["dim"],
        n_train=config["mnist"]["n_train"],
        n_test=config["mnist"]["n_test"],
    shell:
        "python -m musicsom.pipeline.mnist.encode --data {input.data} --dim {params.dim} --n-train {params.n_train}"
        " --n-test {params.n_test} --encoding {output.encoding} --latent {output.latent} --summary {output.summary}"
        " > {log} 2>&1"


# Per seed: the latent classifier and the pixel VAE (the seed decides their initialisation and batches), so that
# model variance enters every interval taken over seeds.
rule mnist_classifier:
    input:
        latent=f"{MNIST}/latent.npz",
        code=stage_code("mnist.classifier"),
    output:
        model=f"{MSEED}/classifier.pt",
        summary=f"{MSEED}/classifier.json",
    log:
        "results/logs/mnist/classifier_seed{seed}.log",
    benchmark:
        "results/benchmarks/mnist/classifier_seed{seed}.tsv"
    conda:
        ENV
    threads: rule_threads("mnist_classifier")
    resources:
        **job_resources("mnist_classifier"),
    params:
        classifier=section("mnist", "classifier"),
        device=config["device"],
    shell:
        "python -m musicsom.pipeline.mnist.classifier --latent {input.latent} --classifier {params.classifier:q}"
        " --seed {wildcards.seed} --threads {threads} --device {params.device}"
        " --model {output.model} --summary {output.summary} > {log} 2>&1"


rule mnist_vae:
    input:
        data="results/data/digits.npz",
        code=stage_code("mnist.vae"),
    output:
        model=f"{MSEED}/vae.pt",
        summary=f"{MSEED}/vae.json",
    log:
        "results/logs/mnist/vae_seed{seed}.log",
    benchmark:
        "results/benchmarks/mnist/vae_seed{seed}.tsv"
    priority: LONG_JOBS_FIRST
    conda:
        ENV
    threads: rule_threads("mnist_vae")
    resources:
        **job_resources("mnist_vae"),
    params:
        n_train=config["mnist"]["n_train"],
        vae=section("mnist", "vae"),
        device=config["device"],
    shell:
        "python -m musicsom.pipeline.mnist.vae --data {input.data} --n-train {params.n_train} --vae {params.vae:q}"
        " --seed {wildcards.seed} --threads {threads} --device {params.device}"
        " --model {output.model} --summary {output.summary} > {log} 2>&1"


# Per seed: the LeNet whose features the distribution metrics (Fréchet and kernel distances, PRDC) compare image
# sets in, and their real-image floor (held-out test vs training images) in lenet.json.
rule mnist_features:
    input:
        data="results/data/digits.npz",
        code=stage_code("mnist.features"),
    output:
        model=f"{MSEED}/lenet.pt",
        summary=f"{MSEED}/lenet.json",
    log:
        "results/logs/mnist/features_seed{seed}.log",
    benchmark:
        "results/benchmarks/mnist/features_seed{seed}.tsv"
    conda:
        ENV
    threads: rule_threads("mnist_features")
    resources:
        **job_resources("mnist_features"),
    params:
        n_train=config["mnist"]["n_train"],
        n_test=config["mnist"]["n_test"],
        features=section("mnist", "features"),
        device=config["device"],
    shell:
        "python -m musicsom.pipeline.mnist.features --data {input.data} --n-train {params.n_train}"
        " --n-test {params.n_test} --features {params.features:q} --seed {wildcards.seed} --threads {threads}"
        " --device {params.device} --model {output.model} --summary {output.summary} > {log} 2>&1"


# The models of every seed in one table (their spread enters every interval over seeds).
rule mnist_models_table:
    input:
        classifier=expand(f"{MSEED}/classifier.json", seed=SEEDS),
        vae=expand(f"{MSEED}/vae.json", seed=SEEDS),
        lenet=expand(f"{MSEED}/lenet.json", seed=SEEDS),
        code=stage_code("mnist.models_table"),
    output:
        table="results/tables/models_mnist.csv",
        markdown="results/tables/models_mnist.md",
    log:
        "results/logs/mnist/models_table.log",
    benchmark:
        "results/benchmarks/mnist/models_table.tsv"
    group:
        "figures"
    conda:
        ENV
    threads: rule_threads("mnist_models_table")
    resources:
        **job_resources("mnist_models_table"),
    shell:
        "python -m musicsom.pipeline.mnist.models_table --classifier {input.classifier} --vae {input.vae}"
        " --lenet {input.lenet}"
        " --table {output.table} > {log} 2>&1"


rule mnist_som:
    input:
        data=f"{MNIST}/latent.npz",
        code=stage_code("train_som"),
    output:
        f"{MSEED}/som.npz",
    log:
        "results/logs/mnist/som_seed{seed}.log",
    benchmark:
        "results/benchmarks/mnist/som_seed{seed}.tsv"
    conda:
        ENV
    threads: rule_threads("mnist_som")
    resources:
        **job_resources("mnist_som"),
    params:
        som=section("mnist", "som"),
        backend=config["som_backend"],
        device=config["device"],
    shell:
        "python -m musicsom.pipeline.train_som --data {input.data} --som {params.som:q} --seed {wildcards.seed}"
        " --threads {threads} --backend {params.backend} --device {params.device} --out {output} > {log} 2>&1"


rule mnist_labels:
    input:
        latent=f"{MNIST}/latent.npz",
        som=f"{MSEED}/som.npz",
        code=stage_code("mnist.labels"),
    output:
        labels=f"{MSEED}/labels.npz",
        summary=f"{MSEED}/labels.json",
    log:
        "results/logs/mnist/labels_seed{seed}.log",
    benchmark:
        "results/benchmarks/mnist/labels_seed{seed}.tsv"
    conda:
        ENV
    threads: rule_threads("mnist_labels")
    resources:
        **job_resources("mnist_labels"),
    shell:
        "python -m musicsom.pipeline.mnist.labels --latent {input.latent} --som {input.som}"
        " --out {output.labels} --summary {output.summary} > {log} 2>&1"


rule mnist_inversion:
    input:
        latent=f"{MNIST}/latent.npz",
        encoding=f"{MNIST}/encoding.npz",
        som=f"{MSEED}/som.npz",
        code=stage_code("mnist.inversion"),
    output:
        summary=f"{MSEED}/inversion.json",
        errors=f"{MSEED}/inversion_errors.npz",
    log:
        "results/logs/mnist/inversion_seed{seed}.log",
    benchmark:
        "results/benchmarks/mnist/inversion_seed{seed}.tsv"
    conda:
        ENV
    threads: rule_threads("mnist_inversion")
    resources:
        **job_resources("mnist_inversion"),
    params:
        inversion=section("mnist", "inversion"),
    shell:
        "python -m musicsom.pipeline.mnist.inversion --latent {input.latent} --encoding {input.encoding} --som {input.som}"
        " --inversion {params.inversion:q} --seed {wildcards.seed} --summary {output.summary} --errors {output.errors}"
        " > {log} 2>&1"


rule mnist_fig07:
    input:
        encoding=f"{MNIST}/encoding.npz",
        som=f"{MSEED0}/som.npz",
        labels=f"{MSEED0}/labels.npz",
        code=stage_code("mnist.fig07"),
    output:
        figure=report(
            "results/figures/fig07_mnist_som.png",
            caption="../report/fig07.rst",
            category=REPORT_MNIST,
            subcategory="Figures",
        ),
        pdf="results/figures/fig07_mnist_som.pdf",
        data="results/figures/fig07_mnist_som.csv",
    log:
        "results/logs/mnist/fig07.log",
    benchmark:
        "results/benchmarks/mnist/fig07.tsv"
    group:
        "figures"
    conda:
        ENV
    threads: rule_threads("mnist_fig07")
    resources:
        **job_resources("mnist_fig07"),
    shell:
        "python -m musicsom.pipeline.mnist.fig07 --encoding {input.encoding} --som {input.som}"
        " --labels {input.labels} --figure {output.figure} > {log} 2>&1"


# The 0 -> 1 trajectory of Figs 8-10 and 16 (per seed: the claims rule reads its crossing steps).
rule mnist_transition:
    input:
        data="results/data/digits.npz",
        encoding=f"{MNIST}/encoding.npz",
        latent=f"{MNIST}/latent.npz",
        som=f"{MSEED}/som.npz",
        labels=f"{MSEED}/labels.npz",
        classifier=f"{MSEED}/classifier.pt",
        vae=f"{MSEED}/vae.pt",
        code=stage_code("mnist.transition"),
    output:
        trajectory=f"{MSEED}/transition.npz",
        summary=f"{MSEED}/transition.json",
    log:
        "results/logs/mnist/transition_seed{seed}.log",
    benchmark:
        "results/benchmarks/mnist/transition_seed{seed}.tsv"
    conda:
        ENV
    threads: rule_threads("mnist_transition")
    resources:
        **job_resources("mnist_transition"),
    params:
        n_train=config["mnist"]["n_train"],
        n_test=config["mnist"]["n_test"],
        target_min_purity=config["mnist"]["target_min_purity"],
        knn_k=config["mnist"]["knn_k"],
        transition=section("mnist", "transition"),
        table2=section("mnist", "table2"),
        music=section("mnist", "music"),
    shell:
        "python -m musicsom.pipeline.mnist.transition --data {input.data} --n-train {params.n_train}"
        " --n-test {params.n_test} --encoding {input.encoding} --latent {input.latent} --som {input.som}"
        " --labels {input.labels} --classifier {input.classifier} --vae {input.vae}"
        " --target-min-purity {params.target_min_purity} --knn-k {params.knn_k} --seed {wildcards.seed}"
        " --threads {threads} --transition {params.transition:q} --table2 {params.table2:q}"
        " --music {params.music:q} --out {output.trajectory} --summary {output.summary} > {log} 2>&1"


rule mnist_fig08:
    input:
        trajectory=f"{MSEED0}/transition.npz",
        code=stage_code("mnist.fig08"),
    output:
        figure=report(
            "results/figures/fig08_mnist_strips.png",
            caption="../report/fig08.rst",
            category=REPORT_MNIST,
            subcategory="Figures",
        ),
        pdf="results/figures/fig08_mnist_strips.pdf",
        data="results/figures/fig08_mnist_strips.csv",
    log:
        "results/logs/mnist/fig08.log",
    benchmark:
        "results/benchmarks/mnist/fig08.tsv"
    group:
        "figures"
    conda:
        ENV
    threads: rule_threads("mnist_fig08")
    resources:
        **job_resources("mnist_fig08"),
    params:
        transition=section("mnist", "transition"),
    shell:
        "python -m musicsom.pipeline.mnist.fig08 --trajectory {input.trajectory}"
        " --transition {params.transition:q} --figure {output.figure} > {log} 2>&1"


rule mnist_fig09:
    input:
        trajectory=f"{MSEED0}/transition.npz",
        code=stage_code("mnist.fig09"),
    output:
        figure=report(
            "results/figures/fig09_mnist_cosines.png",
            caption="../report/fig09.rst",
            category=REPORT_MNIST,
            subcategory="Figures",
        ),
        pdf="results/figures/fig09_mnist_cosines.pdf",
        data="results/figures/fig09_mnist_cosines.csv",
    log:
        "results/logs/mnist/fig09.log",
    benchmark:
        "results/benchmarks/mnist/fig09.tsv"
    group:
        "figures"
    conda:
        ENV
    threads: rule_threads("mnist_fig09")
    resources:
        **job_resources("mnist_fig09"),
    shell:
        "python -m musicsom.pipeline.mnist.fig09 --trajectory {input.trajectory} --figure {output.figure} > {log} 2>&1"


rule mnist_fig10:
    input:
        trajectory=f"{MSEED0}/transition.npz",
        code=stage_code("mnist.fig10"),
    output:
        figure=report(
            "results/figures/fig10_mnist_confidence.png",
            caption="../report/fig10.rst",
            category=REPORT_MNIST,
            subcategory="Figures",
        ),
        pdf="results/figures/fig10_mnist_confidence.pdf",
        data="results/figures/fig10_mnist_confidence.csv",
    log:
        "results/logs/mnist/fig10.log",
    benchmark:
        "results/benchmarks/mnist/fig10.tsv"
    group:
        "figures"
    conda:
        ENV
    threads: rule_threads("mnist_fig10")
    resources:
        **job_resources("mnist_fig10"),
    shell:
        "python -m musicsom.pipeline.mnist.fig10 --trajectory {input.trajectory} --figure {output.figure} > {log} 2>&1"


# Table 2: one job per seed runs every digit pair and start (MUSIC and the baseline arms, linear, kNN path, VAE and
# VAE slerp, from the same starts; the kNN path's graph settings come with mnist.table2).
rule mnist_trajectories:
    input:
        data="results/data/digits.npz",
        encoding=f"{MNIST}/encoding.npz",
        latent=f"{MNIST}/latent.npz",
        som=f"{MSEED}/som.npz",
        labels=f"{MSEED}/labels.npz",
        classifier=f"{MSEED}/classifier.pt",
        vae=f"{MSEED}/vae.pt",
        lenet=f"{MSEED}/lenet.pt",
        code=stage_code("mnist.trajectories"),
    output:
        pairs=f"{MSEED}/pairs.csv",
        distribution=f"{MSEED}/distribution.csv",
    log:
        "results/logs/mnist/trajectories_seed{seed}.log",
    benchmark:
        "results/benchmarks/mnist/trajectories_seed{seed}.tsv"
    conda:
        ENV
    threads: rule_threads("mnist_trajectories")
    resources:
        **job_resources("mnist_trajectories"),
    params:
        n_train=config["mnist"]["n_train"],
        n_test=config["mnist"]["n_test"],
        target_min_purity=config["mnist"]["target_min_purity"],
        knn_k=config["mnist"]["knn_k"],
        pairs=section("mnist", "pairs"),
        table2=section("mnist", "table2"),
        music=section("mnist", "music"),
        features=section("mnist", "features"),
    shell:
        "python -m musicsom.pipeline.mnist.trajectories --data {input.data} --n-train {params.n_train}"
        " --n-test {params.n_test} --encoding {input.encoding} --latent {input.latent} --som {input.som}"
        " --labels {input.labels} --classifier {input.classifier} --vae {input.vae}"
        " --target-min-purity {params.target_min_purity} --knn-k {params.knn_k} --seed {wildcards.seed}"
        " --threads {threads} --pairs {params.pairs:q} --table2 {params.table2:q} --music {params.music:q}"
        " --lenet {input.lenet} --features {params.features:q} --distribution {output.distribution}"
        " --out {output.pairs} > {log} 2>&1"


rule mnist_table2:
    input:
        pairs=expand(f"{MSEED}/pairs.csv", seed=SEEDS),
        distribution=expand(f"{MSEED}/distribution.csv", seed=SEEDS),
        code=stage_code("mnist.table2"),
    output:
        table="results/tables/table2_mnist_pairs.csv",
        markdown="results/tables/table2_mnist_pairs.md",
        trajectories="results/tables/table2_mnist_trajectories.csv",
        distribution="results/tables/table2_mnist_distribution.csv",
        distribution_markdown="results/tables/table2_mnist_distribution.md",
    log:
        "results/logs/mnist/table2.log",
    benchmark:
        "results/benchmarks/mnist/table2.tsv"
    group:
        "figures"
    conda:
        ENV
    threads: rule_threads("mnist_table2")
    resources:
        **job_resources("mnist_table2"),
    shell:
        "python -m musicsom.pipeline.mnist.table2 --pairs {input.pairs} --trajectories {output.trajectories}"
        " --distribution {input.distribution} --distribution-table {output.distribution}"
        " --table {output.table} > {log} 2>&1"


rule mnist_fig16_table4:
    input:
        trajectory=f"{MSEED0}/transition.npz",
        summaries=expand(f"{MSEED}/transition.json", seed=SEEDS),
        pairs=expand(f"{MSEED}/pairs.csv", seed=SEEDS),
        reference=f"{MNIST}/reference.json",
        code=stage_code("mnist.fig16_table4"),
    output:
        figure=report(
            "results/figures/fig16_vae_comparison.png",
            caption="../report/fig16.rst",
            category=REPORT_MNIST,
            subcategory="Figures",
        ),
        pdf="results/figures/fig16_vae_comparison.pdf",
        data="results/figures/fig16_vae_comparison.csv",
        table="results/tables/table4_vae.csv",
        markdown="results/tables/table4_vae.md",
    log:
        "results/logs/mnist/vae_compare.log",
    benchmark:
        "results/benchmarks/mnist/vae_compare.tsv"
    group:
        "figures"
    conda:
        ENV
    threads: rule_threads("mnist_fig16_table4")
    resources:
        **job_resources("mnist_fig16_table4"),
    params:
        transition=section("mnist", "transition"),
    shell:
        "python -m musicsom.pipeline.mnist.fig16_table4 --trajectory {input.trajectory} --summaries {input.summaries}"
        " --pairs {input.pairs} --reference {input.reference} --transition {params.transition:q}"
        " --figure {output.figure} --table {output.table} > {log} 2>&1"


# Reference values of the image metrics: real test images, their PCA and VAE reconstructions, prototypes.
rule mnist_reference:
    input:
        data="results/data/digits.npz",
        encoding=f"{MNIST}/encoding.npz",
        vae=f"{MSEED0}/vae.pt",
        som=f"{MSEED0}/som.npz",
        code=stage_code("mnist.reference"),
    output:
        f"{MNIST}/reference.json",
    log:
        "results/logs/mnist/reference.log",
    benchmark:
        "results/benchmarks/mnist/reference.tsv"
    conda:
        ENV
    threads: rule_threads("mnist_reference")
    resources:
        **job_resources("mnist_reference"),
    params:
        n_train=config["mnist"]["n_train"],
        n_test=config["mnist"]["n_test"],
        reference_images=config["mnist"]["reference_images"],
        knn_k=config["mnist"]["knn_k"],
        seed=SEEDS[0],
    shell:
        "python -m musicsom.pipeline.mnist.reference --data {input.data} --n-train {params.n_train}"
        " --n-test {params.n_test} --encoding {input.encoding} --vae {input.vae} --som {input.som}"
        " --reference-images {params.reference_images} --knn-k {params.knn_k} --seed {params.seed}"
        " --threads {threads} --out {output} > {log} 2>&1"


# One job per seed and swept hyperparameter (alpha, lam, kappa: mnist.sweep), the others at mnist.music;
# the lam sweep also records the L-curve axes of Fig 20.
rule mnist_sweep:
    input:
        data="results/data/digits.npz",
        encoding=f"{MNIST}/encoding.npz",
        latent=f"{MNIST}/latent.npz",
        som=f"{MSEED}/som.npz",
        labels=f"{MSEED}/labels.npz",
        classifier=f"{MSEED}/classifier.pt",
        code=stage_code("mnist.sweep"),
    output:
        f"{MSEED}/sweep_{{param}}.csv",
    log:
        "results/logs/mnist/sweep_seed{seed}_{param}.log",
    benchmark:
        "results/benchmarks/mnist/sweep_seed{seed}_{param}.tsv"
    wildcard_constraints:
        param="alpha|lam|kappa",
    conda:
        ENV
    threads: rule_threads("mnist_sweep")
    resources:
        **job_resources("mnist_sweep"),
    params:
        n_train=config["mnist"]["n_train"],
        n_test=config["mnist"]["n_test"],
        target_min_purity=config["mnist"]["target_min_purity"],
        transition=section("mnist", "transition"),
        sweep=section("mnist", "sweep"),
        music=section("mnist", "music"),
    shell:
        "python -m musicsom.pipeline.mnist.sweep --data {input.data} --n-train {params.n_train}"
        " --n-test {params.n_test} --encoding {input.encoding} --latent {input.latent} --som {input.som}"
        " --labels {input.labels} --classifier {input.classifier}"
        " --target-min-purity {params.target_min_purity} --seed {wildcards.seed} --threads {threads}"
        " --transition {params.transition:q} --sweep {params.sweep:q} --music {params.music:q}"
        " --param {wildcards.param} --out {output} > {log} 2>&1"


rule mnist_fig17_19:
    input:
        sweep=f"{MSEED0}/sweep_{{param}}.csv",
        code=stage_code("mnist.fig17_19"),
    output:
        figure=report(
            "results/figures/fig{num}_sweep_{param}.png",
            caption="../report/fig17_19.rst",
            category=REPORT_MNIST,
            subcategory="Sweeps",
        ),
        pdf="results/figures/fig{num}_sweep_{param}.pdf",
        data="results/figures/fig{num}_sweep_{param}.csv",
    log:
        "results/logs/mnist/fig{num}_sweep_{param}.log",
    benchmark:
        "results/benchmarks/mnist/fig{num}_sweep_{param}.tsv"
    wildcard_constraints:
        num="17|18|19",
        param="alpha|lam|kappa",
    group:
        "figures"
    conda:
        ENV
    threads: rule_threads("mnist_fig17_19")
    resources:
        **job_resources("mnist_fig17_19"),
    shell:
        "python -m musicsom.pipeline.mnist.fig17_19 --sweep {input.sweep} --figure {output.figure} > {log} 2>&1"


rule mnist_fig20:
    input:
        data="results/data/digits.npz",
        encoding=f"{MNIST}/encoding.npz",
        latent=f"{MNIST}/latent.npz",
        som=f"{MSEED0}/som.npz",
        labels=f"{MSEED0}/labels.npz",
        classifier=f"{MSEED0}/classifier.pt",
        lam_sweep=f"{MSEED0}/sweep_lam.csv",
        code=stage_code("mnist.fig20"),
    output:
        figure=report(
            "results/figures/fig20_lcurve_lam.png",
            caption="../report/fig20.rst",
            category=REPORT_MNIST,
            subcategory="Sweeps",
        ),
        pdf="results/figures/fig20_lcurve_lam.pdf",
        data="results/figures/fig20_lcurve_lam.csv",
    log:
        "results/logs/mnist/fig20.log",
    benchmark:
        "results/benchmarks/mnist/fig20.tsv"
    group:
        "figures"
    conda:
        ENV
    threads: rule_threads("mnist_fig20")
    resources:
        **job_resources("mnist_fig20"),
    params:
        n_train=config["mnist"]["n_train"],
        n_test=config["mnist"]["n_test"],
        target_min_purity=config["mnist"]["target_min_purity"],
        seed=SEEDS[0],
        transition=section("mnist", "transition"),
        sweep=section("mnist", "sweep"),
        music=section("mnist", "music"),
    shell:
        "python -m musicsom.pipeline.mnist.fig20 --data {input.data} --n-train {params.n_train}"
        " --n-test {params.n_test} --encoding {input.encoding} --latent {input.latent} --som {input.som}"
        " --labels {input.labels} --classifier {input.classifier}"
        " --target-min-purity {params.target_min_purity} --seed {params.seed} --threads {threads}"
        " --transition {params.transition:q} --sweep {params.sweep:q} --music {params.music:q}"
        " --lam-sweep {input.lam_sweep} --figure {output.figure} > {log} 2>&1"


rule mnist_claims:
    input:
        inversion=f"{MSEED}/inversion.json",
        inversion_errors=f"{MSEED}/inversion_errors.npz",
        transition_summary=f"{MSEED}/transition.json",
        pairs=f"{MSEED}/pairs.csv",
        # claim 7's sweeps run on the first mnist.sweep_seeds seeds (CLAIM7_SEEDS)
        sweeps=lambda w: (
            expand(
                f"results/mnist/seed{w.seed}/sweep_{{param}}.csv",
                param=["alpha", "lam", "kappa"],
            )
            if int(w.seed) in CLAIM7_SEEDS
            else []
        ),
        code=stage_code("mnist.claims"),
    output:
        f"{MSEED}/checks.json",
    log:
        "results/logs/mnist/claims_seed{seed}.log",
    benchmark:
        "results/benchmarks/mnist/claims_seed{seed}.tsv"
    group:
        "figures"
    conda:
        ENV
    threads: rule_threads("mnist_claims")
    resources:
        **job_resources("mnist_claims"),
    params:
        table2=section("mnist", "table2"),
        verdicts=section("verdicts"),
    shell:
        "python -m musicsom.pipeline.mnist.claims --seed {wildcards.seed} --inversion {input.inversion}"
        " --inversion-errors {input.inversion_errors} --transition-summary {input.transition_summary} --pairs {input.pairs}"
        " --sweeps {input.sweeps} --table2 {params.table2:q} --verdicts {params.verdicts:q}"
        " --out {output} > {log} 2>&1"


# --- the sensitivity study's MNIST blocks (workflow/rules/robustness.smk gathers every block): each takes its part of
# the study whole (--study: robustness.mnist, robustness.sweeps) and the default stage's own sections
rule robustness_mnist:
    input:
        data="results/data/digits.npz",
        encoding=f"{MNIST}/encoding.npz",
        latent=f"{MNIST}/latent.npz",
        som=f"{MSEED}/som.npz",
        labels=f"{MSEED}/labels.npz",
        classifier=f"{MSEED}/classifier.pt",
        vae=f"{MSEED}/vae.pt",
        code=stage_code("mnist.robustness"),
    output:
        checks="results/robustness/mnist/seed{seed}/checks.json",
        trajectories="results/robustness/mnist/seed{seed}/trajectories.csv",
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
        n_train=config["mnist"]["n_train"],
        n_test=config["mnist"]["n_test"],
        target_min_purity=config["mnist"]["target_min_purity"],
        knn_k=config["mnist"]["knn_k"],
        pairs=section("mnist", "pairs"),
        table2=section("mnist", "table2"),
        music=section("mnist", "music"),
        study=section("robustness", "mnist"),
        verdicts=section("verdicts"),
    shell:
        "python -m musicsom.pipeline.mnist.robustness --data {input.data} --n-train {params.n_train}"
        " --n-test {params.n_test} --encoding {input.encoding} --latent {input.latent} --som {input.som}"
        " --labels {input.labels} --classifier {input.classifier} --vae {input.vae}"
        " --target-min-purity {params.target_min_purity} --knn-k {params.knn_k} --seed {wildcards.seed}"
        " --threads {threads} --pairs {params.pairs:q} --table2 {params.table2:q} --music {params.music:q}"
        " --study {params.study:q} --verdicts {params.verdicts:q}"
        " --checks {output.checks} --trajectories {output.trajectories} > {log} 2>&1"


rule robustness_sweeps:
    input:
        data="results/data/digits.npz",
        encoding=f"{MNIST}/encoding.npz",
        latent=f"{MNIST}/latent.npz",
        som=f"{MSEED}/som.npz",
        labels=f"{MSEED}/labels.npz",
        classifier=f"{MSEED}/classifier.pt",
        code=stage_code("mnist.robustness_sweeps"),
    output:
        checks="results/robustness/sweeps/seed{seed}/checks.json",
        metrics="results/robustness/sweeps/seed{seed}/sweeps.csv",
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
        n_train=config["mnist"]["n_train"],
        n_test=config["mnist"]["n_test"],
        target_min_purity=config["mnist"]["target_min_purity"],
        transition=section("mnist", "transition"),
        sweep=section("mnist", "sweep"),
        music=section("mnist", "music"),
        study=section("robustness", "sweeps"),
        verdicts=section("verdicts"),
    shell:
        "python -m musicsom.pipeline.mnist.robustness_sweeps --data {input.data} --n-train {params.n_train}"
        " --n-test {params.n_test} --encoding {input.encoding} --latent {input.latent} --som {input.som}"
        " --labels {input.labels} --classifier {input.classifier}"
        " --target-min-purity {params.target_min_purity} --seed {wildcards.seed} --threads {threads}"
        " --transition {params.transition:q} --sweep {params.sweep:q} --music {params.music:q}"
        " --study {params.study:q} --verdicts {params.verdicts:q}"
        " --checks {output.checks} --metrics {output.metrics} > {log} 2>&1"


# The D axis: the MNIST chain (encoding, classifier, SOM, labels) at each D of robustness.mnist.dims (the D
# is the wildcard), then one block per D and seed. The chain's rules run the default stages with the
# default sections; only the D, the paths and the resources differ.
rule robustness_mnist_encode:
    input:
        data="results/data/digits.npz",
        code=stage_code("mnist.encode"),
    output:
        encoding=f"{MNIST_DIM}/encoding.npz",
        latent=f"{MNIST_DIM}/latent.npz",
        summary=f"{MNIST_DIM}/encoding.json",
    log:
        "results/logs/robustness/mnist_dim{dim}_encode.log",
    benchmark:
        "results/benchmarks/robustness/mnist_dim{dim}_encode.tsv"
    conda:
        ENV
    threads: rule_threads("robustness_mnist_encode")
    resources:
        **job_resources("robustness_mnist_encode"),
    params:
        n_train=config["mnist"]["n_train"],
        n_test=config["mnist"]["n_test"],
    shell:
        "python -m musicsom.pipeline.mnist.encode --data {input.data} --dim {wildcards.dim} --n-train {params.n_train}"
        " --n-test {params.n_test} --encoding {output.encoding} --latent {output.latent} --summary {output.summary}"
        " > {log} 2>&1"


rule robustness_mnist_classifier:
    input:
        latent=f"{MNIST_DIM}/latent.npz",
        code=stage_code("mnist.classifier"),
    output:
        model=f"{MNIST_DIM}/seed{{seed}}/classifier.pt",
        summary=f"{MNIST_DIM}/seed{{seed}}/classifier.json",
    log:
        "results/logs/robustness/mnist_dim{dim}_classifier_seed{seed}.log",
    benchmark:
        "results/benchmarks/robustness/mnist_dim{dim}_classifier_seed{seed}.tsv"
    conda:
        ENV
    threads: rule_threads("robustness_mnist_classifier")
    resources:
        **job_resources("robustness_mnist_classifier"),
    params:
        classifier=section("mnist", "classifier"),
        device=config["device"],
    shell:
        "python -m musicsom.pipeline.mnist.classifier --latent {input.latent} --classifier {params.classifier:q}"
        " --seed {wildcards.seed} --threads {threads} --device {params.device}"
        " --model {output.model} --summary {output.summary} > {log} 2>&1"


rule robustness_mnist_som:
    input:
        data=f"{MNIST_DIM}/latent.npz",
        code=stage_code("train_som"),
    output:
        f"{MNIST_DIM}/seed{{seed}}/som.npz",
    log:
        "results/logs/robustness/mnist_dim{dim}_som_seed{seed}.log",
    benchmark:
        "results/benchmarks/robustness/mnist_dim{dim}_som_seed{seed}.tsv"
    conda:
        ENV
    threads: rule_threads("robustness_mnist_som")
    resources:
        **job_resources("robustness_mnist_som"),
    params:
        som=section("mnist", "som"),
        backend=config["som_backend"],
        device=config["device"],
    shell:
        "python -m musicsom.pipeline.train_som --data {input.data} --som {params.som:q} --seed {wildcards.seed}"
        " --threads {threads} --backend {params.backend} --device {params.device} --out {output} > {log} 2>&1"


rule robustness_mnist_labels:
    input:
        latent=f"{MNIST_DIM}/latent.npz",
        som=f"{MNIST_DIM}/seed{{seed}}/som.npz",
        code=stage_code("mnist.labels"),
    output:
        labels=f"{MNIST_DIM}/seed{{seed}}/labels.npz",
        summary=f"{MNIST_DIM}/seed{{seed}}/labels.json",
    log:
        "results/logs/robustness/mnist_dim{dim}_labels_seed{seed}.log",
    benchmark:
        "results/benchmarks/robustness/mnist_dim{dim}_labels_seed{seed}.tsv"
    conda:
        ENV
    threads: rule_threads("robustness_mnist_labels")
    resources:
        **job_resources("robustness_mnist_labels"),
    shell:
        "python -m musicsom.pipeline.mnist.labels --latent {input.latent} --som {input.som}"
        " --out {output.labels} --summary {output.summary} > {log} 2>&1"


rule robustness_mnist_dim:
    input:
        data="results/data/digits.npz",
        encoding=f"{MNIST_DIM}/encoding.npz",
        latent=f"{MNIST_DIM}/latent.npz",
        som=f"{MNIST_DIM}/seed{{seed}}/som.npz",
        labels=f"{MNIST_DIM}/seed{{seed}}/labels.npz",
        classifier=f"{MNIST_DIM}/seed{{seed}}/classifier.pt",
        vae=f"{MSEED}/vae.pt",
        code=stage_code("mnist.robustness_dim"),
    output:
        checks=f"{MNIST_DIM}/seed{{seed}}/checks.json",
        inversion=f"{MNIST_DIM}/seed{{seed}}/inversion.json",
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
        n_train=config["mnist"]["n_train"],
        n_test=config["mnist"]["n_test"],
        target_min_purity=config["mnist"]["target_min_purity"],
        knn_k=config["mnist"]["knn_k"],
        dim=config["mnist"]["dim"],
        dim_starts=config["robustness"]["mnist"]["dim_starts"],
        dim_points=config["robustness"]["mnist"]["dim_points"],
        pairs=section("mnist", "pairs"),
        table2=section("mnist", "table2"),
        music=section("mnist", "music"),
        verdicts=section("verdicts"),
    shell:
        "python -m musicsom.pipeline.mnist.robustness_dim --data {input.data} --n-train {params.n_train}"
        " --n-test {params.n_test} --encoding {input.encoding} --latent {input.latent} --som {input.som}"
        " --labels {input.labels} --classifier {input.classifier} --vae {input.vae}"
        " --target-min-purity {params.target_min_purity} --knn-k {params.knn_k} --seed {wildcards.seed}"
        " --threads {threads} --dim-label {wildcards.dim} --dim {params.dim} --dim-starts {params.dim_starts}"
        " --dim-points {params.dim_points} --pairs {params.pairs:q} --table2 {params.table2:q} --music {params.music:q}"
        " --verdicts {params.verdicts:q} --checks {output.checks} --inversion {output.inversion} > {log} 2>&1"
