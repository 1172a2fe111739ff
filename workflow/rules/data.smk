# data stage: fetch the public datasets, verify them against pinned hashes, build the arrays the
# later stages read (docs/DATA.md). Files come from the mirror (data.mirror, else
# $MUSICSOM_DATA_MIRROR) or the canonical URLs; either way they are verified before use.
# The mirror is not an experimental parameter (the data is verified whatever its source): it
# reaches the jobs through the environment, and config wins over an existing variable.
DATA_MIRROR = data_mirror_path(config["data"]["mirror"])
if DATA_MIRROR:
    os.environ.update(MUSICSOM_DATA_MIRROR=DATA_MIRROR)


localrules:
    data_all,
    # downloads: compute nodes of a cluster often have no network
    data_fetch_digits,
    data_fetch_lfw,
    data_fetch_lfw_labels,


rule data_all:
    input:
        "results/data/digits.npz",
        "results/data/lfw_faces.npz",
        "results/data/lfw_labels.csv",


# MNIST or Fashion-MNIST (data.digits): the verified .gz files stay in results/data/raw as a cache.
rule data_fetch_digits:
    input:
        code=stage_code("data.fetch_digits"),
    output:
        "results/data/digits.npz",
    log:
        "results/logs/data/data_fetch_digits.log",
    benchmark:
        "results/benchmarks/data/data_fetch_digits.tsv"
    conda:
        ENV
    threads: rule_threads("data_fetch_digits")
    resources:
        **job_resources("data_fetch_digits"),
    params:
        dataset=cfg("data/digits"),
    shell:
        "python -m musicsom.pipeline.data.fetch_digits --dataset {params.dataset} --raw-dir results/data/raw"
        " --out {output} > {log} 2>&1"


# The LFW archive (kept, so that a new crop or size does not fetch it again) and the official text files.
rule data_fetch_lfw:
    input:
        code=stage_code("data.fetch_files"),
    output:
        data_raw(*DATA_GROUPS["lfw"]),
    log:
        "results/logs/data/data_fetch_lfw.log",
    benchmark:
        "results/benchmarks/data/data_fetch_lfw.tsv"
    conda:
        ENV
    threads: rule_threads("data_fetch_lfw")
    resources:
        **job_resources("data_fetch_lfw"),
    params:
        names=DATA_GROUPS["lfw"],
    shell:
        "python -m musicsom.pipeline.data.fetch_files --raw-dir results/data/raw {params.names} > {log} 2>&1"


rule data_fetch_lfw_labels:
    input:
        code=stage_code("data.fetch_files"),
    output:
        data_raw(*DATA_GROUPS["lfw_labels"]),
    log:
        "results/logs/data/data_fetch_lfw_labels.log",
    benchmark:
        "results/benchmarks/data/data_fetch_lfw_labels.tsv"
    conda:
        ENV
    threads: rule_threads("data_fetch_lfw_labels")
    resources:
        **job_resources("data_fetch_lfw_labels"),
    params:
        names=DATA_GROUPS["lfw_labels"],
    shell:
        "python -m musicsom.pipeline.data.fetch_files --raw-dir results/data/raw {params.names} > {log} 2>&1"


# Stream the archive (no extracted tree), check its image-set digest, crop and resize every face.
rule data_prepare_lfw:
    input:
        archive="results/data/raw/lfw/lfw-deepfunneled.tgz",
        names="results/data/raw/lfw/lfw-names.txt",
        labels=data_raw(*DATA_GROUPS["lfw_labels"]) if cfg("data/lfw_labels") else [],
        code=stage_code("data.prepare_lfw"),
    output:
        faces="results/data/lfw_faces.npz",
        labels="results/data/lfw_labels.csv",
    log:
        "results/logs/data/data_prepare_lfw.log",
    benchmark:
        "results/benchmarks/data/data_prepare_lfw.tsv"
    priority: LONG_JOBS_FIRST
    conda:
        ENV
    threads: rule_threads("data_prepare_lfw")
    resources:
        **job_resources("data_prepare_lfw"),
    params:
        crop=cfg("data/lfw/crop"),
        size=cfg("data/lfw/size"),
        labels=lfw_label_args(cfg("data/lfw_labels")),
    shell:
        "python -m musicsom.pipeline.data.prepare_lfw --archive {input.archive} --names {input.names}"
        " --crop {params.crop} --size {params.size} {params.labels}"
        " --out {output.faces} --labels-out {output.labels} > {log} 2>&1"
