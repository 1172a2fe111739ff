# The reproduction report: every claim of the paper (plus the k-means control) with our numbers and a
# verdict (docs/METHOD.md#7-claims), read from the checks files of the claims rules; and the pages of
# `snakemake --report report.html`: the verdicts (REPORT.md) and every table rendered to HTML, which the
# report's viewer shows inline (it offers Markdown and CSV only as downloads).
# Left out of the table pages: robustness/checks.csv and points.csv (every check at every point of the sensitivity
# study, per seed and pooled; too large to read on a page, summarised by the sensitivity table and Figs 22-28, 30).


localrules:
    report_all,


rule report_all:
    input:
        "results/REPORT.md",
        "results/REPORT.html",
        "results/report/evidence.html",
        "results/tables/table1_gmm_metrics.html",
        "results/tables/table2_mnist_pairs.html",
        "results/tables/table2_mnist_trajectories.html",
        "results/tables/table4_vae.html",
        "results/tables/models_mnist.html",
        "results/tables/table2_mnist_distribution.html",
        "results/tables/table3_faces.html",
        "results/tables/table5_kmeans_vs_som.html",
        "results/tables/paper_table1_gmm.csv",
        "results/tables/paper_table1_gmm.md",
        "results/tables/paper_table2_mnist.csv",
        "results/tables/paper_table2_mnist.md",
        "results/tables/paper_table1_gmm.html",
        "results/tables/paper_table2_mnist.html",
        (
            [
                "results/tables/table6_inversion_vs_dim.html",
                "results/robustness/sensitivity.html",
            ]
            if config["robustness"]["enabled"]
            else []
        ),


rule report_markdown:
    input:
        config="results/report/config.json",
        checks=[
            "results/gmm/checks.json",
            *expand("results/mnist/seed{seed}/checks.json", seed=SEEDS),
            *expand("results/faces/seed{seed}/checks.json", seed=FACE_SEEDS),
            "results/kmeans/checks.json",
        ],
        robustness=(
            ["results/robustness/summary.json"]
            if config["robustness"]["enabled"]
            else []
        ),
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
        units="results/report/units.csv",
    log:
        "results/logs/report/markdown.log",
    benchmark:
        "results/benchmarks/report/markdown.tsv"
    conda:
        ENV
    threads: rule_threads("report_markdown")
    resources:
        **job_resources("report_markdown"),
    shell:
        "python -m musicsom.pipeline.report.markdown --config {input.config} --checks {input.checks}"
        " --robustness {input.robustness} --benchmarks results/benchmarks --evidence {output.evidence}"
        " --verdicts {output.verdicts} --units {output.units} --out {output.report} > {log} 2>&1"


# The verdicts as the report's first page: REPORT.md with the figures and tables it links embedded.
rule report_html:
    input:
        markdown="results/REPORT.md",
        evidence="results/report/evidence.csv",
        linked=(
            rules.robustness_collect.output if config["robustness"]["enabled"] else []
        ),
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


# One page per table: the table's Markdown rendering (written beside the CSV by the table's stage), or the CSV
# itself under a title, with the CSV as a download. The pages share one entry of workflow/resources.yaml.
# The evidence sits beside the verdict page, which it follows (sorted by name).
rule report_html_evidence:
    input:
        csv="results/report/evidence.csv",
        code=stage_code("report.html"),
    output:
        report(
            "results/report/evidence.html",
            caption="../report/evidence.rst",
            category=REPORT_VERDICTS,
        ),
    log:
        "results/logs/report/html_evidence.log",
    benchmark:
        "results/benchmarks/report/html_evidence.tsv"
    conda:
        ENV
    threads: rule_threads("report_html_table")
    resources:
        **job_resources("report_html_table"),
    params:
        title="Evidence: every number the verdicts quote, with its source file",
    shell:
        "python -m musicsom.pipeline.report.html --csv {input.csv} --title {params.title:q} --out {output} > {log} 2>&1"


rule report_html_table1_gmm_metrics:
    input:
        csv="results/tables/table1_gmm_metrics.csv",
        markdown="results/tables/table1_gmm_metrics.md",
        code=stage_code("report.html"),
    output:
        report(
            "results/tables/table1_gmm_metrics.html",
            caption="../report/table1.rst",
            category=REPORT_GMM,
            subcategory="Tables",
        ),
    log:
        "results/logs/report/html_table1_gmm_metrics.log",
    benchmark:
        "results/benchmarks/report/html_table1_gmm_metrics.tsv"
    conda:
        ENV
    threads: rule_threads("report_html_table")
    resources:
        **job_resources("report_html_table"),
    shell:
        "python -m musicsom.pipeline.report.html --csv {input.csv} --markdown {input.markdown} --out {output} > {log} 2>&1"


rule report_html_table2_mnist_pairs:
    input:
        csv="results/tables/table2_mnist_pairs.csv",
        markdown="results/tables/table2_mnist_pairs.md",
        code=stage_code("report.html"),
    output:
        report(
            "results/tables/table2_mnist_pairs.html",
            caption="../report/table2.rst",
            category=REPORT_MNIST,
            subcategory="Tables",
        ),
    log:
        "results/logs/report/html_table2_mnist_pairs.log",
    benchmark:
        "results/benchmarks/report/html_table2_mnist_pairs.tsv"
    conda:
        ENV
    threads: rule_threads("report_html_table")
    resources:
        **job_resources("report_html_table"),
    shell:
        "python -m musicsom.pipeline.report.html --csv {input.csv} --markdown {input.markdown} --out {output} > {log} 2>&1"


rule report_html_table2_mnist_trajectories:
    input:
        csv="results/tables/table2_mnist_trajectories.csv",
        code=stage_code("report.html"),
    output:
        report(
            "results/tables/table2_mnist_trajectories.html",
            caption="../report/table2_trajectories.rst",
            category=REPORT_MNIST,
            subcategory="Tables",
        ),
    log:
        "results/logs/report/html_table2_mnist_trajectories.log",
    benchmark:
        "results/benchmarks/report/html_table2_mnist_trajectories.tsv"
    conda:
        ENV
    threads: rule_threads("report_html_table")
    resources:
        **job_resources("report_html_table"),
    params:
        title="Table 2: every trajectory (seed, digit pair, start image, method)",
    shell:
        "python -m musicsom.pipeline.report.html --csv {input.csv} --title {params.title:q} --out {output} > {log} 2>&1"


rule report_html_table4_vae:
    input:
        csv="results/tables/table4_vae.csv",
        markdown="results/tables/table4_vae.md",
        code=stage_code("report.html"),
    output:
        report(
            "results/tables/table4_vae.html",
            caption="../report/table4.rst",
            category=REPORT_MNIST,
            subcategory="Tables",
        ),
    log:
        "results/logs/report/html_table4_vae.log",
    benchmark:
        "results/benchmarks/report/html_table4_vae.tsv"
    conda:
        ENV
    threads: rule_threads("report_html_table")
    resources:
        **job_resources("report_html_table"),
    shell:
        "python -m musicsom.pipeline.report.html --csv {input.csv} --markdown {input.markdown} --out {output} > {log} 2>&1"


rule report_html_models_mnist:
    input:
        csv="results/tables/models_mnist.csv",
        markdown="results/tables/models_mnist.md",
        code=stage_code("report.html"),
    output:
        report(
            "results/tables/models_mnist.html",
            caption="../report/models_mnist.rst",
            category=REPORT_MNIST,
            subcategory="Tables",
        ),
    log:
        "results/logs/report/html_models_mnist.log",
    benchmark:
        "results/benchmarks/report/html_models_mnist.tsv"
    conda:
        ENV
    threads: rule_threads("report_html_table")
    resources:
        **job_resources("report_html_table"),
    shell:
        "python -m musicsom.pipeline.report.html --csv {input.csv} --markdown {input.markdown} --out {output} > {log} 2>&1"


rule report_html_table2_mnist_distribution:
    input:
        csv="results/tables/table2_mnist_distribution.csv",
        markdown="results/tables/table2_mnist_distribution.md",
        code=stage_code("report.html"),
    output:
        report(
            "results/tables/table2_mnist_distribution.html",
            caption="../report/table2_distribution.rst",
            category=REPORT_MNIST,
            subcategory="Tables",
        ),
    log:
        "results/logs/report/html_table2_mnist_distribution.log",
    benchmark:
        "results/benchmarks/report/html_table2_mnist_distribution.tsv"
    conda:
        ENV
    threads: rule_threads("report_html_table")
    resources:
        **job_resources("report_html_table"),
    shell:
        "python -m musicsom.pipeline.report.html --csv {input.csv} --markdown {input.markdown} --out {output} > {log} 2>&1"


rule report_html_table3_faces:
    input:
        csv="results/tables/table3_faces.csv",
        markdown="results/tables/table3_faces.md",
        code=stage_code("report.html"),
    output:
        report(
            "results/tables/table3_faces.html",
            caption="../report/table3.rst",
            category=REPORT_FACES,
            subcategory="Tables",
        ),
    log:
        "results/logs/report/html_table3_faces.log",
    benchmark:
        "results/benchmarks/report/html_table3_faces.tsv"
    conda:
        ENV
    threads: rule_threads("report_html_table")
    resources:
        **job_resources("report_html_table"),
    shell:
        "python -m musicsom.pipeline.report.html --csv {input.csv} --markdown {input.markdown} --out {output} > {log} 2>&1"


rule report_html_table5_kmeans_vs_som:
    input:
        csv="results/tables/table5_kmeans_vs_som.csv",
        markdown="results/tables/table5_kmeans_vs_som.md",
        code=stage_code("report.html"),
    output:
        report(
            "results/tables/table5_kmeans_vs_som.html",
            caption="../report/table5.rst",
            category=REPORT_KMEANS,
            subcategory="Tables",
        ),
    log:
        "results/logs/report/html_table5_kmeans_vs_som.log",
    benchmark:
        "results/benchmarks/report/html_table5_kmeans_vs_som.tsv"
    conda:
        ENV
    threads: rule_threads("report_html_table")
    resources:
        **job_resources("report_html_table"),
    shell:
        "python -m musicsom.pipeline.report.html --csv {input.csv} --markdown {input.markdown} --out {output} > {log} 2>&1"


# The paper's Tables 1 and 2 as the paper lays them out: our numbers (every seed pooled) beside the paper's cells,
# "lost in extraction" where its number is gone, its surviving marks (ns, "… pairs", —) where they survive.
rule report_paper_tables:
    input:
        gmm=expand(f"{GMM}/per_trajectory.csv", seed=SEEDS),
        mnist=expand(f"{MSEED}/pairs.csv", seed=SEEDS),
        code=stage_code("report.paper_tables"),
    output:
        table1="results/tables/paper_table1_gmm.csv",
        table1_markdown="results/tables/paper_table1_gmm.md",
        table2="results/tables/paper_table2_mnist.csv",
        table2_markdown="results/tables/paper_table2_mnist.md",
    log:
        "results/logs/report/paper_tables.log",
    benchmark:
        "results/benchmarks/report/paper_tables.tsv"
    conda:
        ENV
    threads: rule_threads("report_paper_tables")
    resources:
        **job_resources("report_paper_tables"),
    shell:
        "python -m musicsom.pipeline.report.paper_tables --gmm {input.gmm} --table1 {output.table1}"
        " --mnist {input.mnist} --table2 {output.table2} > {log} 2>&1"


rule report_html_paper_table1_gmm:
    input:
        csv="results/tables/paper_table1_gmm.csv",
        markdown="results/tables/paper_table1_gmm.md",
        code=stage_code("report.html"),
    output:
        report(
            "results/tables/paper_table1_gmm.html",
            caption="../report/paper_table1.rst",
            category=REPORT_GMM,
            subcategory="Tables",
        ),
    log:
        "results/logs/report/html_paper_table1_gmm.log",
    benchmark:
        "results/benchmarks/report/html_paper_table1_gmm.tsv"
    conda:
        ENV
    threads: rule_threads("report_html_table")
    resources:
        **job_resources("report_html_table"),
    shell:
        "python -m musicsom.pipeline.report.html --csv {input.csv} --markdown {input.markdown} --out {output} > {log} 2>&1"


rule report_html_paper_table2_mnist:
    input:
        csv="results/tables/paper_table2_mnist.csv",
        markdown="results/tables/paper_table2_mnist.md",
        code=stage_code("report.html"),
    output:
        report(
            "results/tables/paper_table2_mnist.html",
            caption="../report/paper_table2.rst",
            category=REPORT_MNIST,
            subcategory="Tables",
        ),
    log:
        "results/logs/report/html_paper_table2_mnist.log",
    benchmark:
        "results/benchmarks/report/html_paper_table2_mnist.tsv"
    conda:
        ENV
    threads: rule_threads("report_html_table")
    resources:
        **job_resources("report_html_table"),
    shell:
        "python -m musicsom.pipeline.report.html --csv {input.csv} --markdown {input.markdown} --out {output} > {log} 2>&1"


# The robustness study's tables (report_all asks for them when robustness.enabled is true).
rule report_html_table6_inversion_vs_dim:
    input:
        csv="results/tables/table6_inversion_vs_dim.csv",
        markdown="results/tables/table6_inversion_vs_dim.md",
        code=stage_code("report.html"),
    output:
        report(
            "results/tables/table6_inversion_vs_dim.html",
            caption="../report/table6.rst",
            category=REPORT_ROBUST,
            subcategory="Tables",
        ),
    log:
        "results/logs/report/html_table6_inversion_vs_dim.log",
    benchmark:
        "results/benchmarks/report/html_table6_inversion_vs_dim.tsv"
    conda:
        ENV
    threads: rule_threads("report_html_table")
    resources:
        **job_resources("report_html_table"),
    shell:
        "python -m musicsom.pipeline.report.html --csv {input.csv} --markdown {input.markdown} --out {output} > {log} 2>&1"


# the study's page: the sensitivity table (one table per claim and axis) with the claims' figures
rule report_html_claims:
    input:
        csv="results/robustness/sensitivity.csv",
        markdown="results/robustness/sensitivity.md",
        figures=rules.robustness_collect.output.figures,
        code=stage_code("report.html"),
    output:
        report(
            "results/robustness/sensitivity.html",
            caption="../report/robustness_claims.rst",
            category=REPORT_ROBUST,
            subcategory="Tables",
        ),
    log:
        "results/logs/report/html_claims.log",
    benchmark:
        "results/benchmarks/report/html_claims.tsv"
    conda:
        ENV
    threads: rule_threads("report_html_table")
    resources:
        **job_resources("report_html_table"),
    shell:
        "python -m musicsom.pipeline.report.html --csv {input.csv} --markdown {input.markdown} --out {output} > {log} 2>&1"
