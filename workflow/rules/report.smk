# The reproduction report: every claim of SPEC §7 (plus the k-means control) with our numbers and a verdict.


localrules:
    report_all,


rule report_all:
    input:
        "results/REPORT.md",


rule report:
    input:
        config="config.yaml",
        schema=os.path.relpath(
            os.path.join(workflow.basedir, "workflow", "schemas", "config.schema.yaml")
        ),
        gmm_inversion="results/gmm/inversion_summary.json",
        gmm_noise="results/gmm/noise_summary.json",
        gmm_claims="results/gmm/claims.json",
        mnist_claims=expand("results/mnist/seed{seed}/claims.json", seed=SEEDS),
        mnist_inversion=expand("results/mnist/seed{seed}/inversion.json", seed=SEEDS),
        faces_claims=expand("results/faces/seed{seed}/claims.json", seed=SEEDS),
        kmeans_claims="results/kmeans/claims.json",
        # every figure and table first, so that the stage times below are complete
        done=[
            rules.gmm_all.input,
            rules.mnist_all.input,
            rules.faces_all.input,
            rules.kmeans_all.input,
        ],
        code=src("make_report.py", "report.py"),
    output:
        report=report(
            "results/REPORT.md", caption="../report/report_md.rst", category="Report"
        ),
        evidence="results/report/evidence.csv",
    log:
        "results/logs/report/report.log",
    benchmark:
        "results/benchmarks/report/report.tsv"
    conda:
        ENV
    shell:
        "python -m musicsom.make_report --config {input.config} --schema {input.schema}"
        " --gmm-inversion {input.gmm_inversion} --gmm-noise {input.gmm_noise}"
        " --gmm-claims {input.gmm_claims} --mnist-claims {input.mnist_claims}"
        " --mnist-inversion {input.mnist_inversion} --faces-claims {input.faces_claims}"
        " --kmeans-claims {input.kmeans_claims} --benchmarks results/benchmarks"
        " --evidence {output.evidence} --out {output.report} > {log} 2>&1"
