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


# --- data helpers
# the registry's files of each dataset
from musicsom.data.fetch import GROUPS as DATA_GROUPS


def data_mirror_path(value):
    """data.mirror as an absolute path (relative to the working directory), or None; it must exist."""
    if value is None or value == "":
        return None
    path = os.path.abspath(os.path.expanduser(str(value)))
    if not os.path.isdir(path):
        raise ValueError(
            f"data.mirror: {path} is not a folder. Set data.mirror in config.yaml to a folder laid out like "
            "../shared/data (see docs/DATA.md), or to null to use $MUSICSOM_DATA_MIRROR or download."
        )
    return path


def data_raw(*names):
    """Paths of registry files (musicsom.data.REGISTRY names) under results/data/raw."""
    return [f"results/data/raw/{n}" for n in names]


def lfw_label_args(enabled):
    """prepare_lfw's label options (paths under results/data/raw), or nothing when data.lfw_labels is false."""
    if not enabled:
        return ""
    female, male, dfi, filelist = data_raw(*DATA_GROUPS["lfw_labels"])
    return f"--female {female} --male {male} --dfi {dfi} --dfi-filelist {filelist}"
