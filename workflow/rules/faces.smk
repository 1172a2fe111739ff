# Faces on LFW deep-funneled (paper §5.4 and S7): Figs 11-15 and Table 3.
# Per seed: face code (image -> 512-d code: PCA encoder, PCA decoder + learned correction) -> PCA whitening
# -> SOM -> inversion check, labelled clusters, start faces -> free evolution, informed MUSIC,
# linear interpolation to the target cluster (faces.target_cluster) -> decoded frames measured by dlib
# -> per-start metrics -> checks.json (claim 8). With the face code: the identity calibration (what a dlib
# distance means on decoded faces: LFW's pairs.txt), read by the per-start metrics, Fig 15, Table 3 and claim 8.
# Figures use the first seed; Table 3 gathers every seed. Face images stay under results/.

FACES = "results/faces"
FSEED = "results/faces/seed{seed}"
FSEED0 = f"results/faces/seed{SEEDS[0]}"


localrules:
    faces_all,


rule faces_all:
    input:
        "results/figures/fig11_faces_free_evolution.png",
        "results/figures/fig12_faces_informed_strips.png",
        "results/figures/fig13_faces_cluster_distance.png",
        "results/figures/fig14_faces_linear_vs_music_strips.png",
        "results/figures/fig15_faces_identity_drift.png",
        "results/tables/table3_faces.csv",
        expand(f"{FSEED}/autoencoder.json", seed=FACE_SEEDS),
        expand(f"{FSEED}/latent.json", seed=FACE_SEEDS),
        expand(f"{FSEED}/identity_calibration.json", seed=FACE_SEEDS),
        expand(f"{FSEED}/inversion.json", seed=FACE_SEEDS),
        expand(f"{FSEED}/checks.json", seed=FACE_SEEDS),


# The face code of one seed (its person split, PCA, correction); the summary measures it on the held-out people,
# also through the SOM's whitened latent (faces.pca_components).
rule faces_autoencoder:
    input:
        faces="results/data/lfw_faces.npz",
        code=stage_code("faces.autoencoder"),
    output:
        checkpoint=f"{FSEED}/autoencoder.pt",
        codes=f"{FSEED}/codes.npz",
        summary=f"{FSEED}/autoencoder.json",
    log:
        "results/logs/faces/autoencoder_seed{seed}.log",
    benchmark:
        "results/benchmarks/faces/autoencoder_seed{seed}.tsv"
    priority: LONG_JOBS_FIRST
    conda:
        ENV
    threads: rule_threads("faces_autoencoder")
    resources:
        **job_resources("faces_autoencoder"),
    params:
        n_faces=config["faces"]["n_faces"],
        autoencoder=section("faces", "autoencoder"),
        pca_components=config["faces"]["pca_components"],
        device=config["device"],
    shell:
        "python -m musicsom.pipeline.faces.autoencoder --faces {input.faces} --n-faces {params.n_faces}"
        " --autoencoder {params.autoencoder:q} --pca-components {params.pca_components} --seed {wildcards.seed}"
        " --threads {threads} --device {params.device}"
        " --checkpoint {output.checkpoint} --codes {output.codes} --summary {output.summary} > {log} 2>&1"


rule faces_latent:
    input:
        codes=f"{FSEED}/codes.npz",
        code=stage_code("faces.latent"),
    output:
        latent=f"{FSEED}/latent.npz",
        summary=f"{FSEED}/latent.json",
    log:
        "results/logs/faces/latent_seed{seed}.log",
    benchmark:
        "results/benchmarks/faces/latent_seed{seed}.tsv"
    conda:
        ENV
    threads: rule_threads("faces_latent")
    resources:
        **job_resources("faces_latent"),
    params:
        pca_components=config["faces"]["pca_components"],
    shell:
        "python -m musicsom.pipeline.faces.latent --codes {input.codes} --pca-components {params.pca_components}"
        " --out {output.latent} --summary {output.summary} > {log} 2>&1"


# What a dlib distance means on faces decoded by a seed's face code: every image of LFW's pairs.txt pairs as a
# photo, decoded through the full code and through the SOM's latent (faces.calibration, dlib settings of
# faces.identity). The seed's per-start metrics, claim 8's context, Fig 15 (first seed) and Table 3 read it.
rule faces_identity_calibration:
    input:
        faces="results/data/lfw_faces.npz",
        pairs="results/data/raw/lfw/pairs.txt",
        codes=f"{FSEED}/codes.npz",
        latent=f"{FSEED}/latent.npz",
        checkpoint=f"{FSEED}/autoencoder.pt",
        code=stage_code("faces.identity_calibration"),
    output:
        table=f"{FSEED}/identity_calibration.csv",
        summary=f"{FSEED}/identity_calibration.json",
    log:
        "results/logs/faces/identity_calibration_seed{seed}.log",
    benchmark:
        "results/benchmarks/faces/identity_calibration_seed{seed}.tsv"
    priority: LONG_JOBS_FIRST
    conda:
        ENV
    threads: rule_threads("faces_identity_calibration")
    resources:
        **job_resources("faces_identity_calibration"),
    params:
        calibration=section("faces", "calibration"),
        identity=section("faces", "identity"),
    shell:
        "python -m musicsom.pipeline.faces.identity_calibration --faces {input.faces} --codes {input.codes}"
        " --latent {input.latent} --checkpoint {input.checkpoint} --pairs {input.pairs}"
        " --calibration {params.calibration:q} --identity {params.identity:q} --seed {wildcards.seed}"
        " --threads {threads} --table {output.table} --summary {output.summary} > {log} 2>&1"


rule faces_som:
    input:
        data=f"{FSEED}/latent.npz",
        code=stage_code("train_som"),
    output:
        f"{FSEED}/som.npz",
    log:
        "results/logs/faces/som_seed{seed}.log",
    benchmark:
        "results/benchmarks/faces/som_seed{seed}.tsv"
    conda:
        ENV
    threads: rule_threads("faces_som")
    resources:
        **job_resources("faces_som"),
    params:
        som=section("faces", "som"),
        backend=config["som_backend"],
        device=config["device"],
    shell:
        "python -m musicsom.pipeline.train_som --data {input.data} --key x_train --som {params.som:q}"
        " --seed {wildcards.seed} --threads {threads} --backend {params.backend} --device {params.device} --out {output} > {log} 2>&1"


rule faces_inversion:
    input:
        latent=f"{FSEED}/latent.npz",
        som=f"{FSEED}/som.npz",
        code=stage_code("faces.inversion"),
    output:
        f"{FSEED}/inversion.json",
    log:
        "results/logs/faces/inversion_seed{seed}.log",
    benchmark:
        "results/benchmarks/faces/inversion_seed{seed}.tsv"
    conda:
        ENV
    threads: rule_threads("faces_inversion")
    resources:
        **job_resources("faces_inversion"),
    shell:
        "python -m musicsom.pipeline.faces.inversion --latent {input.latent} --som {input.som}"
        " --out {output} > {log} 2>&1"


rule faces_clusters:
    input:
        latent=f"{FSEED}/latent.npz",
        som=f"{FSEED}/som.npz",
        labels="results/data/lfw_labels.csv",
        code=stage_code("faces.clusters"),
    output:
        clusters=f"{FSEED}/clusters.json",
        shares=f"{FSEED}/shares.csv",
    log:
        "results/logs/faces/clusters_seed{seed}.log",
    benchmark:
        "results/benchmarks/faces/clusters_seed{seed}.tsv"
    conda:
        ENV
    threads: rule_threads("faces_clusters")
    resources:
        **job_resources("faces_clusters"),
    params:
        clusters=section("faces", "clusters"),
    shell:
        "python -m musicsom.pipeline.faces.clusters --latent {input.latent} --som {input.som}"
        " --labels {input.labels} --clusters {params.clusters:q} --seed {wildcards.seed}"
        " --out {output.clusters} --shares {output.shares} > {log} 2>&1"


rule faces_starts:
    input:
        latent=f"{FSEED}/latent.npz",
        checkpoint=f"{FSEED}/autoencoder.pt",
        labels="results/data/lfw_labels.csv",
        code=stage_code("faces.starts"),
    output:
        f"{FSEED}/starts.json",
    log:
        "results/logs/faces/starts_seed{seed}.log",
    benchmark:
        "results/benchmarks/faces/starts_seed{seed}.tsv"
    conda:
        ENV
    threads: rule_threads("faces_starts")
    resources:
        **job_resources("faces_starts"),
    params:
        starts=section("faces", "starts"),
        identity=section("faces", "identity"),
    shell:
        "python -m musicsom.pipeline.faces.starts --latent {input.latent} --checkpoint {input.checkpoint}"
        " --labels {input.labels} --starts {params.starts:q} --identity {params.identity:q}"
        " --seed {wildcards.seed} --out {output} > {log} 2>&1"


rule faces_free:
    input:
        latent=f"{FSEED}/latent.npz",
        som=f"{FSEED}/som.npz",
        starts=f"{FSEED}/starts.json",
        code=stage_code("faces.free"),
    output:
        f"{FSEED}/free.npz",
    log:
        "results/logs/faces/free_seed{seed}.log",
    benchmark:
        "results/benchmarks/faces/free_seed{seed}.tsv"
    conda:
        ENV
    threads: rule_threads("faces_free")
    resources:
        **job_resources("faces_free"),
    params:
        free=section("faces", "free"),
        music=section("faces", "music"),
    shell:
        "python -m musicsom.pipeline.faces.free --latent {input.latent} --som {input.som} --starts {input.starts}"
        " --free {params.free:q} --music {params.music:q} --seed {wildcards.seed} --out {output} > {log} 2>&1"


rule faces_informed:
    input:
        latent=f"{FSEED}/latent.npz",
        som=f"{FSEED}/som.npz",
        clusters=f"{FSEED}/clusters.json",
        starts=f"{FSEED}/starts.json",
        code=stage_code("faces.informed"),
    output:
        f"{FSEED}/informed.npz",
    log:
        "results/logs/faces/informed_seed{seed}.log",
    benchmark:
        "results/benchmarks/faces/informed_seed{seed}.tsv"
    conda:
        ENV
    threads: rule_threads("faces_informed")
    resources:
        **job_resources("faces_informed"),
    params:
        informed=section("faces", "informed"),
        music=section("faces", "music"),
    shell:
        "python -m musicsom.pipeline.faces.informed --latent {input.latent} --som {input.som}"
        " --clusters {input.clusters} --starts {input.starts} --informed {params.informed:q}"
        " --music {params.music:q} --seed {wildcards.seed} --out {output} > {log} 2>&1"


rule faces_linear:
    input:
        latent=f"{FSEED}/latent.npz",
        som=f"{FSEED}/som.npz",
        clusters=f"{FSEED}/clusters.json",
        starts=f"{FSEED}/starts.json",
        code=stage_code("faces.linear"),
    output:
        f"{FSEED}/linear.npz",
    log:
        "results/logs/faces/linear_seed{seed}.log",
    benchmark:
        "results/benchmarks/faces/linear_seed{seed}.tsv"
    conda:
        ENV
    threads: rule_threads("faces_linear")
    resources:
        **job_resources("faces_linear"),
    params:
        target_cluster=config["faces"]["target_cluster"],
        informed=section("faces", "informed"),
    shell:
        "python -m musicsom.pipeline.faces.linear --latent {input.latent} --som {input.som}"
        " --clusters {input.clusters} --starts {input.starts} --target-cluster {params.target_cluster}"
        " --informed {params.informed:q} --out {output} > {log} 2>&1"


rule faces_frames:
    input:
        latent=f"{FSEED}/latent.npz",
        checkpoint=f"{FSEED}/autoencoder.pt",
        som=f"{FSEED}/som.npz",
        clusters=f"{FSEED}/clusters.json",
        free=f"{FSEED}/free.npz",
        informed=f"{FSEED}/informed.npz",
        linear=f"{FSEED}/linear.npz",
        code=stage_code("faces.frames"),
    output:
        f"{FSEED}/frames.csv",
    log:
        "results/logs/faces/frames_seed{seed}.log",
    benchmark:
        "results/benchmarks/faces/frames_seed{seed}.tsv"
    conda:
        ENV
    threads: rule_threads("faces_frames")
    resources:
        **job_resources("faces_frames"),
    params:
        target_cluster=config["faces"]["target_cluster"],
        identity=section("faces", "identity"),
    shell:
        "python -m musicsom.pipeline.faces.frames --latent {input.latent} --checkpoint {input.checkpoint}"
        " --som {input.som} --clusters {input.clusters} --free {input.free}"
        " --informed {input.informed} --linear {input.linear} --target-cluster {params.target_cluster}"
        " --identity {params.identity:q} --out {output} > {log} 2>&1"


rule faces_summary:
    input:
        frames=f"{FSEED}/frames.csv",
        starts=f"{FSEED}/starts.json",
        calibration=f"{FSEED}/identity_calibration.csv",
        code=stage_code("faces.summary"),
    output:
        f"{FSEED}/per_start.csv",
    log:
        "results/logs/faces/summary_seed{seed}.log",
    benchmark:
        "results/benchmarks/faces/summary_seed{seed}.tsv"
    group:
        "figures"
    conda:
        ENV
    threads: rule_threads("faces_summary")
    resources:
        **job_resources("faces_summary"),
    shell:
        "python -m musicsom.pipeline.faces.summary --frames {input.frames} --starts {input.starts}"
        " --calibration {input.calibration} --seed {wildcards.seed} --per-start {output} > {log} 2>&1"


rule faces_fig11:
    input:
        latent=f"{FSEED0}/latent.npz",
        checkpoint=f"{FSEED0}/autoencoder.pt",
        free=f"{FSEED0}/free.npz",
        frames=f"{FSEED0}/frames.csv",
        code=stage_code("faces.fig11"),
    output:
        figure=report(
            "results/figures/fig11_faces_free_evolution.png",
            caption="../report/fig11.rst",
            category=REPORT_FACES,
            subcategory="Figures",
        ),
        pdf="results/figures/fig11_faces_free_evolution.pdf",
        data="results/figures/fig11_faces_free_evolution.csv",
    log:
        "results/logs/faces/fig11.log",
    benchmark:
        "results/benchmarks/faces/fig11.tsv"
    group:
        "figures"
    conda:
        ENV
    threads: rule_threads("faces_fig11")
    resources:
        **job_resources("faces_fig11"),
    params:
        figures=section("faces", "figures"),
    shell:
        "python -m musicsom.pipeline.faces.fig11 --latent {input.latent} --checkpoint {input.checkpoint}"
        " --free {input.free} --frames {input.frames} --figures {params.figures:q}"
        " --figure {output.figure} > {log} 2>&1"


rule faces_fig12_13:
    input:
        latent=f"{FSEED0}/latent.npz",
        checkpoint=f"{FSEED0}/autoencoder.pt",
        informed=f"{FSEED0}/informed.npz",
        frames=f"{FSEED0}/frames.csv",
        clusters=f"{FSEED0}/clusters.json",
        code=stage_code("faces.fig12_13"),
    output:
        fig12=report(
            "results/figures/fig12_faces_informed_strips.png",
            caption="../report/fig12.rst",
            category=REPORT_FACES,
            subcategory="Figures",
        ),
        pdf12="results/figures/fig12_faces_informed_strips.pdf",
        csv12="results/figures/fig12_faces_informed_strips.csv",
        fig13=report(
            "results/figures/fig13_faces_cluster_distance.png",
            caption="../report/fig13.rst",
            category=REPORT_FACES,
            subcategory="Figures",
        ),
        pdf13="results/figures/fig13_faces_cluster_distance.pdf",
        csv13="results/figures/fig13_faces_cluster_distance.csv",
    log:
        "results/logs/faces/fig12_13.log",
    benchmark:
        "results/benchmarks/faces/fig12_13.tsv"
    group:
        "figures"
    conda:
        ENV
    threads: rule_threads("faces_fig12_13")
    resources:
        **job_resources("faces_fig12_13"),
    params:
        figures=section("faces", "figures"),
    shell:
        "python -m musicsom.pipeline.faces.fig12_13 --latent {input.latent} --checkpoint {input.checkpoint}"
        " --informed {input.informed} --frames {input.frames} --clusters {input.clusters}"
        " --figures {params.figures:q} --fig12 {output.fig12} --fig13 {output.fig13} > {log} 2>&1"


rule faces_fig14_15:
    input:
        latent=f"{FSEED0}/latent.npz",
        checkpoint=f"{FSEED0}/autoencoder.pt",
        informed=f"{FSEED0}/informed.npz",
        linear=f"{FSEED0}/linear.npz",
        frames=f"{FSEED0}/frames.csv",
        calibration=f"{FSEED0}/identity_calibration.json",
        code=stage_code("faces.fig14_15"),
    output:
        fig14=report(
            "results/figures/fig14_faces_linear_vs_music_strips.png",
            caption="../report/fig14.rst",
            category=REPORT_FACES,
            subcategory="Figures",
        ),
        pdf14="results/figures/fig14_faces_linear_vs_music_strips.pdf",
        csv14="results/figures/fig14_faces_linear_vs_music_strips.csv",
        fig15=report(
            "results/figures/fig15_faces_identity_drift.png",
            caption="../report/fig15.rst",
            category=REPORT_FACES,
            subcategory="Figures",
        ),
        pdf15="results/figures/fig15_faces_identity_drift.pdf",
        csv15="results/figures/fig15_faces_identity_drift.csv",
    log:
        "results/logs/faces/fig14_15.log",
    benchmark:
        "results/benchmarks/faces/fig14_15.tsv"
    group:
        "figures"
    conda:
        ENV
    threads: rule_threads("faces_fig14_15")
    resources:
        **job_resources("faces_fig14_15"),
    params:
        figures=section("faces", "figures"),
    shell:
        "python -m musicsom.pipeline.faces.fig14_15 --latent {input.latent} --checkpoint {input.checkpoint}"
        " --informed {input.informed} --linear {input.linear} --frames {input.frames} --calibration {input.calibration}"
        " --figures {params.figures:q} --fig14 {output.fig14} --fig15 {output.fig15} > {log} 2>&1"


rule faces_table3:
    input:
        per_start=expand(f"{FSEED}/per_start.csv", seed=FACE_SEEDS),
        calibration=expand(f"{FSEED}/identity_calibration.json", seed=FACE_SEEDS),
        face_code=expand(f"{FSEED}/autoencoder.json", seed=FACE_SEEDS),
        code=stage_code("faces.table3"),
    output:
        table="results/tables/table3_faces.csv",
        markdown="results/tables/table3_faces.md",
    log:
        "results/logs/faces/table3.log",
    benchmark:
        "results/benchmarks/faces/table3.tsv"
    group:
        "figures"
    conda:
        ENV
    threads: rule_threads("faces_table3")
    resources:
        **job_resources("faces_table3"),
    params:
        target_cluster=config["faces"]["target_cluster"],
    shell:
        "python -m musicsom.pipeline.faces.table3 --per-start {input.per_start} --calibration {input.calibration}"
        " --face-code {input.face_code} --target-cluster {params.target_cluster} --out {output.table} > {log} 2>&1"


rule faces_claims:
    input:
        per_start=f"{FSEED}/per_start.csv",
        calibration=f"{FSEED}/identity_calibration.json",
        code=stage_code("faces.claims"),
    output:
        f"{FSEED}/checks.json",
    log:
        "results/logs/faces/claims_seed{seed}.log",
    benchmark:
        "results/benchmarks/faces/claims_seed{seed}.tsv"
    group:
        "figures"
    conda:
        ENV
    threads: rule_threads("faces_claims")
    resources:
        **job_resources("faces_claims"),
    params:
        monotone_min=config["faces"]["monotone_min"],
        target_cluster=config["faces"]["target_cluster"],
        verdicts=section("verdicts"),
    shell:
        "python -m musicsom.pipeline.faces.claims --per-start {input.per_start} --calibration {input.calibration}"
        " --monotone-min {params.monotone_min} --target-cluster {params.target_cluster}"
        " --verdicts {params.verdicts:q} --out {output} > {log} 2>&1"


# the sensitivity study's block of the faces (workflow/rules/robustness.smk gathers every block)
rule robustness_faces:
    input:
        latent=f"{FSEED}/latent.npz",
        checkpoint=f"{FSEED}/autoencoder.pt",
        som=f"{FSEED}/som.npz",
        clusters=f"{FSEED}/clusters.json",
        starts=f"{FSEED}/starts.json",
        frames=f"{FSEED}/frames.csv",
        code=stage_code("faces.robustness"),
    output:
        checks="results/robustness/faces/seed{seed}/checks.json",
        per_start="results/robustness/faces/seed{seed}/per_start.csv",
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
        study=section("robustness", "faces"),
        music=section("faces", "music"),
        free=section("faces", "free"),
        informed=section("faces", "informed"),
        identity=section("faces", "identity"),
        monotone_min=config["faces"]["monotone_min"],
        target_cluster=config["faces"]["target_cluster"],
        verdicts=section("verdicts"),
    shell:
        "python -m musicsom.pipeline.faces.robustness --latent {input.latent} --checkpoint {input.checkpoint}"
        " --som {input.som} --clusters {input.clusters} --starts {input.starts} --frames {input.frames}"
        " --study {params.study:q} --music {params.music:q} --free {params.free:q}"
        " --informed {params.informed:q} --identity {params.identity:q} --monotone-min {params.monotone_min}"
        " --target-cluster {params.target_cluster} --seed {wildcards.seed} --verdicts {params.verdicts:q}"
        " --checks {output.checks} --per-start {output.per_start} > {log} 2>&1"
