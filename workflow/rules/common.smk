# Shared by every rules file. The config check before any job, the shell every command runs in, each rule's
# threads and resources, the seeds, the code input of each stage, and section(), the one way a rule passes its
# config to its stage. Nothing here builds a command line: each rule spells its own.
import json
import os
import shlex
import sys

from snakemake.exceptions import WorkflowError
from snakemake.settings.types import DeploymentMethod
from snakemake.utils import validate

from musicsom.pipeline import config_check, resource_table


def shell_prefix():
    """What every shell command starts with (Snakemake's shell.prefix; this process's environment is left alone).

    - `python` is the interpreter running Snakemake: rules need not activate anything. With --sdm conda the
      environment's python runs instead, and it finds the project in this checkout's src (untested here: no
      conda on the test machine);
    - bash's strict mode, which is Snakemake's own default prefix.

    BLAS and OpenMP threads are the job's own: Snakemake sets OMP_NUM_THREADS, OPENBLAS_NUM_THREADS and
    MKL_NUM_THREADS of each job to its threads, which workflow/resources.yaml keeps at 1 but for k-means
    (small matrix products run several times slower on threaded OpenBLAS here, docs/benchmarks.md).
    """
    if DeploymentMethod.CONDA in workflow.deployment_settings.deployment_method:
        src = shlex.quote(os.path.join(workflow.basedir, "src"))
        export = f'export PYTHONPATH={src}${{PYTHONPATH:+:"$PYTHONPATH"}}'
    else:
        export = f'export PATH={shlex.quote(os.path.dirname(sys.executable))}:"$PATH"'
    bash = os.path.basename(shell.get_executable() or "") == "bash"
    return f"set -euo pipefail; {export}; " if bash else f"{export}; "


shell.prefix(shell_prefix())

CONFIG_SCHEMA = os.path.join(
    workflow.basedir, "workflow", "schemas", "config.schema.yaml"
)


def check_config(cfg, config_files, schema_path):
    """Refuse a bad configuration before any job runs: every problem at once, each naming its key and fix.

    The YAML files are parsed strictly first (syntax with file/line/column, duplicate keys); the values of
    --config get the schema's types (config_check.type_command_line_values); then Snakemake's validate
    fills the schema defaults; then values and cross-key limits are checked.
    """
    import yaml

    config_check.check_yaml_files(config_files)
    with open(schema_path) as f:
        schema = yaml.safe_load(f)
    # `--config 'seeds=[0, 1]'` reaches us as ["0", "1"] (Snakemake reads lists and mappings of the command
    # line as strings): give such values the schema's types first (numbers, booleans, null)
    config_check.type_command_line_values(cfg, workflow.config_settings.config, schema)
    problems = config_check.non_finite_keys(cfg) + config_check.schema_errors(
        cfg, schema
    )
    if not problems:
        try:
            validate(cfg, schema_path)  # fills the defaults
        except WorkflowError as exc:
            problems.append(str(exc).splitlines()[0])
    if not problems:
        problems = config_check.cross_key_errors(cfg)
        # the mirror, relative to where the command was typed, is read by the data rules (localrules) in the
        # process that plans the run; a job process (--executor slurm, a subprocess) neither reads it nor
        # knows that folder
        if not (workflow.remote_exec or workflow.subprocess_exec):
            origin = config_check.invocation_dir(workflow.overwrite_workdir)
            problems += config_check.mirror_errors(cfg, origin=origin)
    if problems:
        raise config_check.ConfigError(
            "the configuration is invalid (keys and allowed values: workflow/schemas/config.schema.yaml):\n"
            + "\n".join(f"  - {p}" for p in problems)
        )


check_config(config, [*map(str, workflow.configfiles), BASE_CONFIG], CONFIG_SCHEMA)


# --- job resources (workflow/resources.yaml: measured peaks and times, headroom, scaling by config)
def _load_resources(path):
    import yaml

    with open(path) as f:
        table = yaml.safe_load(f)
    problems = resource_table.check_table(table)
    if problems:
        raise WorkflowError(
            f"{path} is invalid:\n" + "\n".join(f"  - {p}" for p in problems)
        )
    return table


RESOURCES = _load_resources(
    os.path.join(workflow.basedir, "workflow", "resources.yaml")
)
JOB_SIZES = resource_table.job_sizes(config)


def rule_threads(name):
    """The threads of the named rule in workflow/resources.yaml (the stage is passed the same number)."""
    return resource_table.rule_resources(RESOURCES, name)["threads"]


def job_resources(name):
    """The resources of the named rule (workflow/resources.yaml), i.e. mem_mb and runtime in minutes scaled
    by the config and the retry attempt, and cpus_per_task = its threads (what SLURM reserves).
    """

    def get(key):
        return lambda wildcards, attempt: resource_table.rule_resources(
            RESOURCES, name, JOB_SIZES, attempt
        )[key]

    return {
        "mem_mb": get("mem_mb"),
        "runtime": get("runtime"),
        "cpus_per_task": rule_threads(name),
    }


SEEDS = [int(s) for s in config["seeds"]]
# the faces stage runs the first faces.n_seeds seeds (dlib descriptors make a face seed the most expensive)
FACE_SEEDS = SEEDS[: int(config["faces"]["n_seeds"])]
# claim 7's sweeps (20 start images a seed at D = 712: the costliest claim per seed) run on the first n seeds
CLAIM7_SEEDS = SEEDS[: int(config["mnist"]["sweep_seeds"])]
ENV = "../../envs/musicsom.yaml"
# The longest jobs (the MNIST VAEs, ~3 min of CPU each, the face codes, ~2 min each, the k-means fits, on one
# thread) are scheduled first whenever they are ready, so that the rest of the run packs around them rather than
# waiting for them at the end (workflow/resources.yaml says why every job runs on one thread).
# The LFW preparation that gates the autoencoder goes first too (Snakemake does not pass a job's priority on
# to the jobs it waits for: without it the preparation waited 10 min behind the GMM and MNIST jobs).
# Priorities only order jobs; no output depends on them.
LONG_JOBS_FIRST = 10


wildcard_constraints:
    seed=r"\d+",
    stage=r"[a-z0-9_]+(\.[a-z0-9_]+)?",


def stage_code(stage):
    """The code input of the rules running `python -m musicsom.pipeline.<stage>`, i.e. its recorded code manifest.

    The manifest (rule code_manifest) lists the hash of every file in the stage's import graph, so editing
    any module the stage imports, directly or not, reruns the rule; the path lies inside the run folder,
    so a finished run can move to another folder without being replanned.
    """
    return f"results/code/{stage}.txt"


def code_manifest_digest(wildcards):
    """The sha256 of one stage's code manifest, computed when the run is planned: as a rule parameter, a change
    reruns rule code_manifest, which rewrites the manifest, which reruns the rules that take it as code input.
    """
    import hashlib

    from musicsom.pipeline.import_graph import code_manifest

    text = code_manifest(f"musicsom.pipeline.{wildcards.stage}")
    return hashlib.sha256(text.encode()).hexdigest()


def section(*keys):
    """The config section at ``keys`` (e.g. section("mnist", "music")), whole, as the JSON its stage takes.

    Passed as a rule parameter, so editing any of its values reruns exactly the rules that read it; the
    schema has filled every default, and the stage validates the section into its value object
    (musicsom.pipeline.sections).
    """
    node = config
    for key in keys:
        node = node[key]
    return json.dumps(node, sort_keys=True)


# --- report helpers
# the categories of report.html (`snakemake --report report.html`), numbered so that the viewer, which sorts
# them by name, lists the verdicts first and then the experiments in the paper's order
REPORT_VERDICTS = "0 Verdicts"
REPORT_GMM = "1 Gaussian mixture"
REPORT_MNIST = "2 MNIST"
REPORT_FACES = "3 Faces (LFW)"
REPORT_KMEANS = "4 k-means control"
REPORT_ROBUST = "5 Robustness study"
