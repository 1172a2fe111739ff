# The data stage (docs/DATA.md): fetch the public datasets, verify every file against its pinned hashes, and
# build the arrays the experiments read. Every file comes from the data mirror (data.mirror, else
# $MUSICSOM_DATA_MIRROR) or from its canonical URLs, and is verified before use whatever its source.
from musicsom.pipeline.config_check import invocation_dir, mirror_path
from musicsom.pipeline.datasets.fetch import GROUPS

# The data mirror as an absolute path ("" for none: the canonical URLs). A relative data.mirror or
# $MUSICSOM_DATA_MIRROR is relative to the folder the command was typed in, not to --directory; common.smk's
# check_config has refused one that is not a readable folder. The fetch rules pass it as a function of their
# output, which Snakemake keeps out of the rerun triggers (as derived from the output): the mirror says where a
# file comes from, not what it is (every file is verified against its pinned hashes), so another mirror reruns nothing.
_mirror = mirror_path(config, origin=invocation_dir(workflow.overwrite_workdir))
DATA_MIRROR = "" if _mirror is None else str(_mirror[1])


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
        digits=config["data"]["digits"],
        mirror=lambda wildcards, output: DATA_MIRROR,
    shell:
        "python -m musicsom.pipeline.data.fetch_digits --digits {params.digits} --mirror {params.mirror:q}"
        " --raw-dir results/data/raw --out {output} > {log} 2>&1"


# The LFW archive (kept, so that a new crop or size does not fetch it again) and the official text files.
rule data_fetch_lfw:
    input:
        code=stage_code("data.fetch_files"),
    output:
        expand("results/data/raw/{name}", name=GROUPS["lfw"]),
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
        mirror=lambda wildcards, output: DATA_MIRROR,
    shell:
        "python -m musicsom.pipeline.data.fetch_files --group lfw --mirror {params.mirror:q}"
        " --raw-dir results/data/raw > {log} 2>&1"


# AFIF4's gender lists and DFI's attributes (data.lfw_labels).
rule data_fetch_lfw_labels:
    input:
        code=stage_code("data.fetch_files"),
    output:
        expand("results/data/raw/{name}", name=GROUPS["lfw_labels"]),
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
        mirror=lambda wildcards, output: DATA_MIRROR,
    shell:
        "python -m musicsom.pipeline.data.fetch_files --group lfw_labels --mirror {params.mirror:q}"
        " --raw-dir results/data/raw > {log} 2>&1"


# Stream the archive (no extracted tree), check its image-set digest, crop and resize every face (data.lfw).
rule data_prepare_lfw:
    input:
        archive="results/data/raw/lfw/lfw-deepfunneled.tgz",
        names="results/data/raw/lfw/lfw-names.txt",
        # none when data.lfw_labels is false: every label is then "unknown"
        labels=(
            expand("results/data/raw/{name}", name=GROUPS["lfw_labels"])
            if config["data"]["lfw_labels"]
            else []
        ),
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
        lfw=section("data", "lfw"),
    shell:
        "python -m musicsom.pipeline.data.prepare_lfw --archive {input.archive} --names {input.names}"
        " --labels {input.labels} --lfw {params.lfw:q} --out {output.faces} --labels-out {output.labels} > {log} 2>&1"
