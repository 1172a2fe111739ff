# The reproduction report: every claim of the paper (plus the k-means control) with our numbers and a
# verdict (docs/METHOD.md#7-claims), read from the checks files of the claims rules; and the pages of
# `snakemake --report report.html`: the verdicts (REPORT.md) and every table rendered to HTML, which the
# report's viewer shows inline (it offers Markdown and CSV only as downloads).
import shlex

# the tables of report.html: the path under results/ of each CSV, its category, its caption and the page's
# title, or None where the table's stage writes a Markdown rendering beside the CSV (its title comes with it).
# Left out: robustness/checks.csv (every check at every grid point and seed; too large to read on a page,
# summarised by robustness/claims.csv and Figs 22-28), as the report's front page (workflow.rst) says.
REPORT_TABLES = {
    "tables/table1_gmm_metrics": (REPORT_GMM, "table1.rst", None),
    "tables/table2_mnist_pairs": (REPORT_MNIST, "table2.rst", None),
    "tables/table2_mnist_trajectories": (
        REPORT_MNIST,
        "table2_trajectories.rst",
        "Table 2: every trajectory (seed, digit pair, start image, method)",
    ),
    "tables/table4_vae": (REPORT_MNIST, "table4.rst", None),
    "tables/table3_faces": (REPORT_FACES, "table3.rst", None),
    "tables/table5_kmeans_vs_som": (REPORT_KMEANS, "table5.rst", None),
    "report/evidence": (
        REPORT_VERDICTS,
        "evidence.rst",
        "Evidence: every number the verdicts quote, with its source file",
    ),
}
if ROBUST_ON:
    REPORT_TABLES["tables/table6_inversion_vs_dim"] = (
        REPORT_ROBUST,
        "table6.rst",
        None,
    )
    REPORT_TABLES["robustness/claims"] = (
        REPORT_ROBUST,
        "robustness_claims.rst",
        "Robustness study: the verdict of every claim at every grid point",
    )


localrules:
    report_all,


rule report_all:
    input:
        "results/REPORT.md",
        "results/REPORT.html",
        [f"results/{t}.html" for t in REPORT_TABLES],


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
        report="results/REPORT.md",
        evidence="results/report/evidence.csv",
        verdicts="results/report/verdicts.csv",
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
        " --benchmarks results/benchmarks --evidence {output.evidence} --verdicts {output.verdicts} --out {output.report} > {log} 2>&1"


# The verdicts as the report's first page: REPORT.md with the figures and tables it links embedded.
rule report_html:
    input:
        markdown="results/REPORT.md",
        evidence="results/report/evidence.csv",
        linked=rules.robustness_collect.output if ROBUST_ON else [],
        code=stage_code("report.html"),
    output:
        report(
            "results/REPORT.html",
            caption="../report/report_html.rst",
            category=REPORT_VERDICTS,
        ),
    log:
        "results/logs/report/html.log",
    benchmark:
        "results/benchmarks/report/html.tsv"
    conda:
        ENV
    threads: rule_threads("report_html")
    resources:
        **job_resources("report_html"),
    shell:
        "python -m musicsom.pipeline.report.html --markdown {input.markdown} --out {output} > {log} 2>&1"


# One page per table (REPORT_TABLES): the table's Markdown rendering, or the CSV itself, with the CSV as a download.
for table, (category, caption, title) in REPORT_TABLES.items():

    rule:
        name:
            f"report_html_{os.path.basename(table)}"
        input:
            csv=f"results/{table}.csv",
            markdown=[f"results/{table}.md"] if title is None else [],
            code=stage_code("report.html"),
        output:
            report(
                f"results/{table}.html",
                caption=f"../report/{caption}",
                category=category,
                # the evidence sits beside the verdict page, which it follows (sorted by name)
                subcategory=None if category == REPORT_VERDICTS else "Tables",
            ),
        log:
            f"results/logs/report/html_{os.path.basename(table)}.log",
        benchmark:
            f"results/benchmarks/report/html_{os.path.basename(table)}.tsv"
        conda:
            ENV
        threads: rule_threads("report_html_table")
        resources:
            **job_resources("report_html_table"),
        params:
            page=(
                f"--markdown results/{table}.md"
                if title is None
                else f"--title {shlex.quote(title)}"
            ),
        shell:
            "python -m musicsom.pipeline.report.html --csv {input.csv} {params.page} --out {output} > {log} 2>&1"
