# What a run records about itself so that reruns follow real changes: each stage's code manifest
# (the hashes of its import graph) and the effective configuration the report describes.
from musicsom.pipeline import record


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


# The validated config with the schema defaults and any --config/--configfile overrides applied. Written in
# this process, where the config is (on a command line its 8 kB would fill every dry run); the parameter is its
# sha256, so that editing any value rewrites the file and a dry run names the change in one short line.
rule run_config:
    output:
        "results/report/config.json",
    log:
        "results/logs/report/config.log",
    params:
        digest=record.config_digest(config),
    run:
        record.write_config(output[0], config, log[0])
