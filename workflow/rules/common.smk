# Helpers shared by every stage file: config validation, wildcard constraints, paths to the
# package sources (declared as inputs so that editing the library reruns what it affects).
import os
import sys

from snakemake.utils import validate

# shell: rules run the first `python` on PATH; make it the interpreter running Snakemake.
os.environ.update(
    PATH=os.pathsep.join([os.path.dirname(sys.executable), os.environ.get("PATH", "")]),
    MPLBACKEND="Agg",
)

validate(config, "../schemas/config.schema.yaml")

SEEDS = [int(s) for s in config["seeds"]]
ENV = "../../envs/musicsom.yaml"


wildcard_constraints:
    seed=r"\d+",


def src(*modules):
    """Package source files (relative to the working directory) declared as rule inputs."""
    return [
        os.path.relpath(os.path.join(workflow.basedir, "src", "musicsom", m))
        for m in modules
    ]


def cfg(path):
    """A config value by '/'-separated path, for use in params: (so edits rerun the rule)."""
    node = config
    for key in path.split("/"):
        node = node[key]
    return node


def som_sigma_start(value):
    """The --sigma-start option of train_som, or nothing when the config leaves it to the default (null)."""
    return "" if value is None else f"--sigma-start {value}"
