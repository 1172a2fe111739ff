# The reproduction report: every claim of SPEC §7 with our numbers and a verdict.


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
        gmm_done=rules.gmm_all.input,
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
        " --gmm-claims {input.gmm_claims} --benchmarks results/benchmarks"
        " --evidence {output.evidence} --out {output.report} > {log} 2>&1"
