# What a run records about itself so that reruns follow real changes: each stage's code manifest
# (the hashes of its import graph) and the effective configuration the report describes.


localrules:
    code_manifest,
    run_config,


# One manifest per stage module; a rule that runs the stage takes it as its code input (stage_code).
rule code_manifest:
    output:
        "results/code/{stage}.txt",
    log:
        "results/logs/code/{stage}.log",
    conda:
        ENV
    params:
        digest=code_manifest_digest,
    shell:
        "python -m musicsom.pipeline.record --code-of {wildcards.stage} --out {output} > {log} 2>&1"


# The validated config with the schema defaults and any --config/--configfile overrides applied.
rule run_config:
    output:
        "results/report/config.json",
    log:
        "results/logs/report/config.log",
    conda:
        ENV
    params:
        text=run_config_text(),
    shell:
        "python -m musicsom.pipeline.record --text {params.text:q} --out {output} > {log} 2>&1"
