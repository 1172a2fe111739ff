# musicsom: reproduce "Inverting Self-Organizing Maps" (Londei et al., 2026) from raw data.
# Run `snakemake --cores 2` (profiles/default sets cores and rerun-incomplete). One file per experiment
# in workflow/rules; each config section reaches its rule whole, through params: (section()); each rule runs
# one stage, `python -m musicsom.pipeline.<experiment>.<stage>` (run_config writes the effective config itself).
import os

from snakemake.utils import min_version

from musicsom.pipeline import run_lock
from musicsom.pipeline.config_check import check_yaml_files

min_version("9.0")

# the run folder's config.yaml, else the repository's (a folder run with --configfile overrides only,
# e.g. config_d50.yaml, needs no copy)
BASE_CONFIG = (
    "config.yaml"
    if os.path.exists("config.yaml")
    else os.path.join(workflow.basedir, "config.yaml")
)
# Snakemake's own loader says only "not valid YAML" and keeps the last of two equal keys: refuse
# both first, with the file, line and column
check_yaml_files([BASE_CONFIG])


configfile: BASE_CONFIG


report: "workflow/report/workflow.rst"


include: "workflow/rules/common.smk"
include: "workflow/rules/provenance.smk"
include: "workflow/rules/data.smk"
include: "workflow/rules/gmm.smk"
include: "workflow/rules/mnist.smk"
include: "workflow/rules/faces.smk"
include: "workflow/rules/kmeans.smk"
include: "workflow/rules/robustness.smk"
include: "workflow/rules/report.smk"


localrules:
    all,


# one run at a time in this folder: Snakemake's own lock can let two runs started in the same instant
# both pass; this flock cannot (musicsom.pipeline.run_lock). onstart runs in the main process of a run
# that executes jobs, before the first job: not for -n, --unlock, --lint, --report, nor in the jobs.
onstart:
    if workflow.is_main_process and workflow.execution_settings.lock:
        run_lock.acquire()


rule all:
    default_target: True
    input:
        rules.gmm_all.input,
        rules.mnist_all.input,
        rules.faces_all.input,
        rules.kmeans_all.input,
        rules.robustness_all.input,
        rules.report_all.input,
