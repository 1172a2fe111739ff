# The reproduction report: every claim of the paper (plus the k-means control) with our numbers and a
# verdict (docs/METHOD.md#7-claims), read from the checks files of the claims rules.


localrules:
    report_all,


rule report_all:
    input:
        "results/REPORT.md",


rule report_markdown:
    input:
        config="results/report/config.json",
        checks=[
            "results/gmm/checks.json",
            *expand("results/mnist/seed{seed}/checks.json", seed=SEEDS),
            *expand("results/faces/seed{seed}/checks.json", seed=FACE_SEEDS),
            "results/kmeans/checks.json",
        ],
        robustness=robustness_outputs(),
        # every figure and table first, so that the stage times below are complete
        done=[
            rules.gmm_all.input,
            rules.mnist_all.input,
            rules.faces_all.input,
            rules.kmeans_all.input,
            rules.robustness_all.input,
        ],
        code=stage_code("report.markdown"),
    output:
        report=report(
            "results/REPORT.md", caption="../report/report_md.rst", category="Report"
        ),
        evidence="results/report/evidence.csv",
    log:
        "results/logs/report/markdown.log",
    benchmark:
        "results/benchmarks/report/markdown.tsv"
    conda:
        ENV
    threads: rule_threads("report_markdown")
    resources:
        **job_resources("report_markdown"),
    params:
        robustness="--robustness results/robustness/summary.json" if ROBUST_ON else "",
    shell:
        "python -m musicsom.pipeline.report.markdown --config {input.config} --checks {input.checks} {params.robustness}"
        " --benchmarks results/benchmarks --evidence {output.evidence} --out {output.report} > {log} 2>&1"
