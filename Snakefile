# musicsom: reproduce "Inverting Self-Organizing Maps" (Londei et al., 2026) from raw data.
# Run `snakemake --cores 2` (profiles/default sets cores and rerun-incomplete). One file per stage
# in workflow/rules; every config value reaches its rule through params:.
from snakemake.utils import min_version

min_version("9.0")


configfile: "config.yaml"


report: "workflow/report/workflow.rst"


include: "workflow/rules/common.smk"
include: "workflow/rules/data.smk"
include: "workflow/rules/gmm.smk"
include: "workflow/rules/mnist.smk"
include: "workflow/rules/faces.smk"
include: "workflow/rules/kmeans.smk"
include: "workflow/rules/report.smk"


localrules:
    all,


rule all:
    default_target: True
    input:
        rules.gmm_all.input,
        rules.mnist_all.input,
        rules.faces_all.input,
        rules.kmeans_all.input,
        rules.report_all.input,
