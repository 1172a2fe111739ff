# MNIST (paper §5.3): Figs 7-10, 16-20, Tables 2 and 4.
# Once, with the first seed: PCA whitening, the latent-space classifier, the pixel VAE (one thread each:
# on a shared 2-core machine, two torch threads contend badly; the VAE overlaps the per-seed jobs instead).
# Per seed: toroidal SOM -> majority labels, inversion check, the 0 -> 1 transition, one job per digit
# pair (MUSIC, linear, VAE), one job per swept hyperparameter, checks.json (claims 1, 4-7).
# Figures use the first seed; Tables 2 and 4 gather every seed.

MNIST = "results/mnist"
MSEED = "results/mnist/seed{seed}"
MSEED0 = f"results/mnist/seed{SEEDS[0]}"
MNIST_CFG = config["mnist"]
MNIST_TRANSITION = f"--source {MNIST_CFG['transition']['source']} --target {MNIST_CFG['transition']['target']}"


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
        "results/figures/fig18_sweep_lambda.png",
        "results/figures/fig19_sweep_kappa.png",
        "results/figures/fig20_lcurve_lambda.png",
        "results/tables/table2_mnist_pairs.csv",
        "results/tables/table2_mnist_trajectories.csv",
        "results/tables/table4_vae.csv",
        f"{MNIST}/encoding.json",
        f"{MNIST}/classifier.json",
        f"{MNIST}/vae.json",
        expand(f"{MSEED}/labels.json", seed=SEEDS),
        expand(f"{MSEED}/inversion.json", seed=SEEDS),
        expand(f"{MSEED}/checks.json", seed=SEEDS),


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
        dim=cfg("mnist/dim"),
        slice=mnist_slice_args(MNIST_CFG),
    shell:
        "python -m musicsom.pipeline.mnist.encode --data {input.data} --dim {params.dim} {params.slice}"
        " --encoding {output.encoding} --latent {output.latent} --summary {output.summary} > {log} 2>&1"


# The classifier and the VAE train once with the first seed (documented deviation from per-seed runs).
rule mnist_classifier:
    input:
        latent=f"{MNIST}/latent.npz",
        code=stage_code("mnist.classifier"),
    output:
        model=f"{MNIST}/classifier.pt",
        summary=f"{MNIST}/classifier.json",
    log:
        "results/logs/mnist/classifier.log",
    benchmark:
        "results/benchmarks/mnist/classifier.tsv"
    conda:
        ENV
    threads: rule_threads("mnist_classifier")
    resources:
        **job_resources("mnist_classifier"),
    params:
        hidden=cfg("mnist/classifier/hidden"),
        dropout=cfg("mnist/classifier/dropout"),
        epochs=cfg("mnist/classifier/epochs"),
        batch_size=cfg("mnist/classifier/batch_size"),
        lr=cfg("mnist/classifier/lr"),
        seed=SEEDS[0],
        device=cfg("device"),
    shell:
        "python -m musicsom.pipeline.mnist.classifier --latent {input.latent} --hidden {params.hidden}"
        " --dropout {params.dropout} --epochs {params.epochs} --batch-size {params.batch_size}"
        " --lr {params.lr} --seed {params.seed} --threads {threads} --device {params.device}"
        " --model {output.model} --summary {output.summary} > {log} 2>&1"


rule mnist_vae:
    input:
        data="results/data/digits.npz",
        code=stage_code("mnist.vae"),
    output:
        model=f"{MNIST}/vae.pt",
        summary=f"{MNIST}/vae.json",
    log:
        "results/logs/mnist/vae.log",
    benchmark:
        "results/benchmarks/mnist/vae.tsv"
    priority: LONG_JOBS_FIRST
    conda:
        ENV
    threads: rule_threads("mnist_vae")
    resources:
        **job_resources("mnist_vae"),
    params:
        n_train=cfg("mnist/n_train"),
        latent_dim=cfg("mnist/vae/latent_dim"),
        hidden=cfg("mnist/vae/hidden"),
        epochs=cfg("mnist/vae/epochs"),
        batch_size=cfg("mnist/vae/batch_size"),
        lr=cfg("mnist/vae/lr"),
        seed=SEEDS[0],
        device=cfg("device"),
    shell:
        "python -m musicsom.pipeline.mnist.vae --data {input.data} --n-train {params.n_train}"
        " --latent-dim {params.latent_dim} --hidden {params.hidden} --epochs {params.epochs}"
        " --batch-size {params.batch_size} --lr {params.lr} --seed {params.seed} --threads {threads}"
        " --device {params.device} --model {output.model} --summary {output.summary} > {log} 2>&1"


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
        rows=cfg("mnist/som/rows"),
        cols=cfg("mnist/som/cols"),
        topology=cfg("mnist/som/topology"),
        epochs=cfg("mnist/som/epochs"),
        sigma_start=som_sigma_start(cfg("mnist/som/sigma_start")),
        sigma_end=cfg("mnist/som/sigma_end"),
        init=cfg("mnist/som/init"),
    shell:
        "python -m musicsom.pipeline.train_som --data {input.data} --rows {params.rows} --cols {params.cols}"
        " --topology {params.topology} --epochs {params.epochs} {params.sigma_start}"
        " --sigma-end {params.sigma_end} --init {params.init} --seed {wildcards.seed}"
        " --threads {threads} --out {output} > {log} 2>&1"


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
    shell:
        "python -m musicsom.pipeline.mnist.inversion --latent {input.latent} --som {input.som} --n-points 0"
        " --summary {output.summary} --errors {output.errors} > {log} 2>&1"


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
        classifier=f"{MNIST}/classifier.pt",
        vae=f"{MNIST}/vae.pt",
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
        slice=mnist_slice_args(MNIST_CFG),
        pair=MNIST_TRANSITION,
        music=mnist_music_args(MNIST_CFG["music"]),
        n_starts=cfg("mnist/table2/n_starts"),
        n_steps=cfg("mnist/transition/n_steps"),
        knn_k=cfg("mnist/knn_k"),
        knn_stride=cfg("mnist/transition/knn_stride"),
    shell:
        "python -m musicsom.pipeline.mnist.transition --data {input.data} {params.slice}"
        " --encoding {input.encoding} --latent {input.latent} --som {input.som} --labels {input.labels}"
        " --classifier {input.classifier} --vae {input.vae} {params.pair} --n-starts {params.n_starts}"
        " --n-steps {params.n_steps} {params.music} --knn-k {params.knn_k} --knn-stride {params.knn_stride}"
        " --seed {wildcards.seed} --threads {threads} --out {output.trajectory}"
        " --summary {output.summary} > {log} 2>&1"


rule mnist_fig08:
    input:
        transition=f"{MSEED0}/transition.npz",
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
        n_frames=cfg("mnist/transition/strip_frames"),
    shell:
        "python -m musicsom.pipeline.mnist.fig08 --transition {input.transition} --n-frames {params.n_frames}"
        " --figure {output.figure} > {log} 2>&1"


rule mnist_fig09:
    input:
        transition=f"{MSEED0}/transition.npz",
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
        "python -m musicsom.pipeline.mnist.fig09 --transition {input.transition} --figure {output.figure} > {log} 2>&1"


rule mnist_fig10:
    input:
        transition=f"{MSEED0}/transition.npz",
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
        "python -m musicsom.pipeline.mnist.fig10 --transition {input.transition} --figure {output.figure} > {log} 2>&1"


# Table 2: one job per seed runs every digit pair and start (MUSIC, linear and VAE from the same starts).
rule mnist_trajectories:
    input:
        data="results/data/digits.npz",
        encoding=f"{MNIST}/encoding.npz",
        latent=f"{MNIST}/latent.npz",
        som=f"{MSEED}/som.npz",
        labels=f"{MSEED}/labels.npz",
        classifier=f"{MNIST}/classifier.pt",
        vae=f"{MNIST}/vae.pt",
        code=stage_code("mnist.trajectories"),
    output:
        f"{MSEED}/pairs.csv",
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
        slice=mnist_slice_args(MNIST_CFG),
        pairs=mnist_pairs_arg(MNIST_PAIRS),
        music=mnist_music_args(MNIST_CFG["music"]),
        n_starts=cfg("mnist/table2/n_starts"),
        n_steps=cfg("mnist/table2/n_steps"),
        knn_k=cfg("mnist/knn_k"),
        knn_stride=cfg("mnist/table2/knn_stride"),
    shell:
        "python -m musicsom.pipeline.mnist.trajectories --data {input.data} {params.slice}"
        " --encoding {input.encoding} --latent {input.latent} --som {input.som} --labels {input.labels}"
        " --classifier {input.classifier} --vae {input.vae} --pairs {params.pairs}"
        " --n-starts {params.n_starts} --n-steps {params.n_steps} {params.music} --knn-k {params.knn_k}"
        " --knn-stride {params.knn_stride} --seed {wildcards.seed} --threads {threads} --out {output} > {log} 2>&1"


rule mnist_table2:
    input:
        pairs=mnist_pair_csvs(SEEDS),
        code=stage_code("mnist.table2"),
    output:
        table="results/tables/table2_mnist_pairs.csv",
        markdown="results/tables/table2_mnist_pairs.md",
        trajectories="results/tables/table2_mnist_trajectories.csv",
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
        " --table {output.table} > {log} 2>&1"


rule mnist_fig16_table4:
    input:
        transition=f"{MSEED0}/transition.npz",
        summaries=expand(f"{MSEED}/transition.json", seed=SEEDS),
        pairs=mnist_pair_csvs(SEEDS),
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
        n_frames=cfg("mnist/transition/strip_frames"),
    shell:
        "python -m musicsom.pipeline.mnist.fig16_table4 --transition {input.transition} --summaries {input.summaries}"
        " --pairs {input.pairs} --reference {input.reference} --n-frames {params.n_frames}"
        " --figure {output.figure}"
        " --table {output.table} > {log} 2>&1"


# Reference values of the image metrics: real test images, their PCA and VAE reconstructions, prototypes.
rule mnist_reference:
    input:
        data="results/data/digits.npz",
        encoding=f"{MNIST}/encoding.npz",
        vae=f"{MNIST}/vae.pt",
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
        slice=mnist_slice_args(MNIST_CFG),
        n_images=cfg("mnist/reference_images"),
        knn_k=cfg("mnist/knn_k"),
        seed=SEEDS[0],
    shell:
        "python -m musicsom.pipeline.mnist.reference --data {input.data} {params.slice} --encoding {input.encoding}"
        " --vae {input.vae} --som {input.som} --n-images {params.n_images} --knn-k {params.knn_k}"
        " --seed {params.seed} --threads {threads} --out {output} > {log} 2>&1"


# One job per seed and swept hyperparameter (alpha, lambda, kappa), the others at mnist.music.
rule mnist_sweep:
    input:
        data="results/data/digits.npz",
        encoding=f"{MNIST}/encoding.npz",
        latent=f"{MNIST}/latent.npz",
        som=f"{MSEED}/som.npz",
        labels=f"{MSEED}/labels.npz",
        classifier=f"{MNIST}/classifier.pt",
        code=stage_code("mnist.sweep"),
    output:
        f"{MSEED}/sweep_{{param}}.csv",
    log:
        "results/logs/mnist/sweep_seed{seed}_{param}.log",
    benchmark:
        "results/benchmarks/mnist/sweep_seed{seed}_{param}.tsv"
    wildcard_constraints:
        param="alpha|lambda|kappa",
    conda:
        ENV
    threads: rule_threads("mnist_sweep")
    resources:
        **job_resources("mnist_sweep"),
    params:
        slice=mnist_slice_args(MNIST_CFG),
        pair=MNIST_TRANSITION,
        music=mnist_music_args(MNIST_CFG["music"]),
        values=lookup(dpath="mnist/sweep/{param}", within=config),
        n_starts=cfg("mnist/sweep/n_starts"),
        n_steps=cfg("mnist/sweep/n_steps"),
        lcurve=sweep_lcurve_flag,
    shell:
        "python -m musicsom.pipeline.mnist.sweep --data {input.data} {params.slice}"
        " --encoding {input.encoding} --latent {input.latent} --som {input.som} --labels {input.labels}"
        " --classifier {input.classifier} {params.pair} --n-starts {params.n_starts}"
        " --n-steps {params.n_steps} {params.music} --seed {wildcards.seed} --threads {threads}"
        " --param {wildcards.param} --values {params.values} {params.lcurve} --out {output} > {log} 2>&1"


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
        param="alpha|lambda|kappa",
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
        classifier=f"{MNIST}/classifier.pt",
        sweep=f"{MSEED0}/sweep_lambda.csv",
        code=stage_code("mnist.fig20"),
    output:
        figure=report(
            "results/figures/fig20_lcurve_lambda.png",
            caption="../report/fig20.rst",
            category=REPORT_MNIST,
            subcategory="Sweeps",
        ),
        pdf="results/figures/fig20_lcurve_lambda.pdf",
        data="results/figures/fig20_lcurve_lambda.csv",
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
        slice=mnist_slice_args(MNIST_CFG),
        pair=MNIST_TRANSITION,
        music=mnist_music_args(MNIST_CFG["music"]),
        n_starts=cfg("mnist/sweep/n_starts"),
        lambdas=cfg("mnist/sweep/lcurve_lambdas"),
        n_lambdas=cfg("mnist/sweep/lcurve_points"),
        seed=SEEDS[0],
    shell:
        "python -m musicsom.pipeline.mnist.fig20 --data {input.data} {params.slice}"
        " --encoding {input.encoding} --latent {input.latent} --som {input.som} --labels {input.labels}"
        " --classifier {input.classifier} {params.pair} --n-starts {params.n_starts}"
        " {params.music} --seed {params.seed} --sweep {input.sweep}"
        " --lambdas {params.lambdas} --n-lambdas {params.n_lambdas} --figure {output.figure} > {log} 2>&1"


rule mnist_claims:
    input:
        inversion=f"{MSEED}/inversion.json",
        inversion_errors=f"{MSEED}/inversion_errors.npz",
        transition=f"{MSEED}/transition.json",
        pairs=f"{MSEED}/pairs.csv",
        sweeps=expand(
            f"{MSEED}/sweep_{{param}}.csv",
            param=["alpha", "lambda", "kappa"],
            allow_missing=True,
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
        n_steps=cfg("mnist/table2/n_steps"),
        verdicts=verdict_args(cfg("verdicts")),
    shell:
        "python -m musicsom.pipeline.mnist.claims --seed {wildcards.seed} --inversion {input.inversion}"
        " --inversion-errors {input.inversion_errors} --transition {input.transition} --pairs {input.pairs}"
        " --sweeps {input.sweeps} --n-steps {params.n_steps} {params.verdicts} --out {output} > {log} 2>&1"
