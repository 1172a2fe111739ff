# Helpers shared by every rule file (the config check before any job, wildcard constraints, the
# code input of each stage as its import graph recorded under results/code/, config lookups).
import json
import os
import sys

from snakemake.exceptions import WorkflowError
from snakemake.utils import validate

from musicsom.pipeline import _config, _resources

# shell: rules run the first `python` on PATH; make it the interpreter running Snakemake.
os.environ.update(
    PATH=os.pathsep.join([os.path.dirname(sys.executable), os.environ.get("PATH", "")]),
    # one BLAS thread per job: small matrix products run several times slower on threaded
    # OpenBLAS here, see docs/benchmarks.md; Snakemake already runs jobs in parallel
    OPENBLAS_NUM_THREADS="1",
    OMP_NUM_THREADS="1",
    MKL_NUM_THREADS="1",
)
# with --sdm conda the rules run in Snakemake's copy of envs/musicsom.yaml, which does not hold the
# project: they import it from this checkout (untested here: no conda on the test machine)
from snakemake.settings.types import DeploymentMethod

if DeploymentMethod.CONDA in workflow.deployment_settings.deployment_method:
    os.environ.update(
        PYTHONPATH=os.pathsep.join(
            [os.path.join(workflow.basedir, "src"), os.environ.get("PYTHONPATH", "")]
        )
    )

CONFIG_SCHEMA = os.path.join(
    workflow.basedir, "workflow", "schemas", "config.schema.yaml"
)


def check_config(cfg, config_files, schema_path):
    """Refuse a bad configuration before any job runs: every problem at once, each naming its key and fix.

    The YAML files are parsed strictly first (syntax with file/line/column, duplicate keys); then
    Snakemake's validate fills the schema defaults; then values and cross-key limits are checked.
    """
    import yaml

    _config.check_yaml_files(config_files)
    with open(schema_path) as f:
        schema = yaml.safe_load(f)
    problems = _config.non_finite_keys(cfg) + _config.schema_errors(cfg, schema)
    if not problems:
        try:
            validate(cfg, schema_path)  # fills the defaults
        except WorkflowError as exc:
            problems.append(str(exc).splitlines()[0])
    if not problems:
        problems = _config.cross_key_errors(cfg) + _config.mirror_errors(cfg)
    if problems:
        raise _config.ConfigError(
            "the configuration is invalid (keys and allowed values: workflow/schemas/config.schema.yaml):\n"
            + "\n".join(f"  - {p}" for p in problems)
        )


check_config(config, [*map(str, workflow.configfiles), BASE_CONFIG], CONFIG_SCHEMA)


# --- job resources (workflow/resources.yaml: measured peaks and times, headroom, scaling by config)
def _load_resources(path):
    import yaml

    with open(path) as f:
        table = yaml.safe_load(f)
    problems = _resources.check_table(table)
    if problems:
        raise WorkflowError(
            f"{path} is invalid:\n" + "\n".join(f"  - {p}" for p in problems)
        )
    return table


RESOURCES = _load_resources(
    os.path.join(workflow.basedir, "workflow", "resources.yaml")
)
JOB_SIZES = _resources.job_sizes(config)


def rule_threads(name):
    """The threads of the named rule in workflow/resources.yaml (the stage is passed the same number)."""
    return _resources.rule_resources(RESOURCES, name)["threads"]


def job_resources(name):
    """The resources of the named rule (workflow/resources.yaml), i.e. mem_mb and runtime in minutes scaled
    by the config and the retry attempt, and cpus_per_task = its threads (what SLURM reserves).
    """

    def get(key):
        return lambda wildcards, attempt: _resources.rule_resources(
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
ENV = "../../envs/musicsom.yaml"
# The longest jobs (the MNIST VAE, the faces autoencoder, each ~7 min on one thread) and the two-thread k-means
# fits are scheduled first whenever they are ready: the long ones so that the rest of the run packs around them
# rather than waiting for them at the end, k-means because on 2 cores a two-thread job can start only while
# both cores are free (workflow/resources.yaml says why everything else runs on one thread).
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

    from musicsom.pipeline._code import code_manifest

    text = code_manifest(f"musicsom.pipeline.{wildcards.stage}")
    return hashlib.sha256(text.encode()).hexdigest()


def run_config_text():
    """The effective configuration (defaults filled, overrides applied) as canonical JSON for the report."""
    return json.dumps(config, sort_keys=True, indent=1)


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
    """data.mirror as an absolute path (relative to the working directory), or None (checked by check_config)."""
    if value is None or value == "":
        return None
    return os.path.abspath(os.path.expanduser(str(value)))


def data_raw(*names):
    """Paths of registry files (musicsom.data.REGISTRY names) under results/data/raw."""
    return [f"results/data/raw/{n}" for n in names]


def lfw_label_args(enabled):
    """prepare_lfw's label options (paths under results/data/raw), or nothing when data.lfw_labels is false."""
    if not enabled:
        return ""
    female, male, dfi, filelist = data_raw(*DATA_GROUPS["lfw_labels"])
    return f"--female {female} --male {male} --dfi {dfi} --dfi-filelist {filelist}"


# --- mnist helpers
MNIST_PAIRS = [(int(a), int(b)) for a, b in config["mnist"]["pairs"]]


def mnist_slice_args(m):
    """The --n-train / --n-test options of the MNIST stages (config mnist.n_train, mnist.n_test)."""
    return f"--n-train {m['n_train']} --n-test {m['n_test']}"


def mnist_music_args(m):
    """The MUSIC options of the MNIST trajectory stages (config mnist.music)."""
    return (
        f"--alpha {m['alpha']} --lam {m['lam']} --kappa {m['kappa']} --eta {m['eta']}"
        f" --per-row-mean {str(bool(m['per_row_mean'])).lower()} --preserve-ring {m['preserve_ring']}"
        f" --min-purity {m['target_min_purity']}"
    )


def mnist_pairs_arg(pairs):
    """The --pairs option of the trajectory stages: SOURCE:TARGET for each digit pair."""
    return " ".join(f"{a}:{b}" for a, b in pairs)


def mnist_pair_csvs(seeds):
    """The Table 2 trajectory CSVs (all pairs and starts of one seed each) of the given seeds."""
    return [f"results/mnist/seed{s}/pairs.csv" for s in seeds]


# --- k-means control helpers
def kmeans_k(config):
    """K of the k-means control: the MNIST SOM's rows × cols (ring preservation is refused by check_config)."""
    return int(config["mnist"]["som"]["rows"]) * int(config["mnist"]["som"]["cols"])


def kmeans_pair_csvs(seeds):
    """The k-means arm's Table 2 trajectory CSVs of the given seeds."""
    return [f"results/kmeans/seed{s}/pairs.csv" for s in seeds]


def sweep_lcurve_flag(wildcards):
    """The lambda sweep also records the L-curve axes of Fig 20 (--lcurve)."""
    return "--lcurve" if wildcards.param == "lambda" else ""


def verdict_args(cfg_verdicts):
    """The bootstrap options of the claims stages (config verdicts)."""
    v = cfg_verdicts
    return f"--resamples {v['resamples']} --boot-seed {v['seed']} --level {v['level']}"


# --- robustness helpers
ROBUST = config["robustness"]
ROBUST_ON = bool(ROBUST["enabled"])
# the D slice of MNIST: the dimensions besides the default one, as they appear in paths ("dim400", "dimfull")
ROBUST_DIMS = [
    str(d) for d in ROBUST["mnist"]["dims"] if str(d) != str(config["mnist"]["dim"])
]
# the D slice runs on the first robustness.mnist.dim_seeds seeds: every D trains its own SOM per seed, the
# study's largest cost (a 30x30 SOM at D = full is ~130 CPU s)
DIM_SEEDS = SEEDS[: int(ROBUST["mnist"]["dim_seeds"])]
# the MNIST grid the blocks read: dim_seeds only decides which D-slice jobs exist, so it stays out of their
# --grid (editing it reruns the D-slice jobs it adds or drops and the collect step, not every MNIST block)
MNIST_GRID = {k: v for k, v in ROBUST["mnist"].items() if k != "dim_seeds"}


def music_defaults(section, plain_form=False):
    """The MUSIC values of a config section (alpha, lam, kappa, eta, per_row_mean, preserve_ring) as a dict."""
    m = dict(section)
    return {
        "alpha": float(m["alpha"]),
        "lam": float(m["lam"]),
        "kappa": float(m.get("kappa", 0.1)),
        "eta": float(m["eta"]),
        "per_row_mean": bool(m.get("per_row_mean", plain_form)),
        "preserve_ring": int(m.get("preserve_ring", 0) or 0) or None,
    }


def robustness_grid(experiment):
    """The --grid option of a robustness block (JSON): its grid section, the default MUSIC values, the paper's setup."""
    paper = ROBUST["paper"]
    if experiment == "gmm":
        t = config["gmm"]["trajectories"]
        g = {
            "grid": ROBUST["gmm"],
            "music": {**music_defaults(t), "per_row_mean": False},
            "trajectories": {k: t[k] for k in ("n_starts", "n_steps", "component")},
        }
    elif experiment in ("mnist", "kmeans", "mnist_dim"):
        g = {
            "grid": MNIST_GRID,
            "music": music_defaults(config["mnist"]["music"]),
            "paper": paper,
            "default_dim": config["mnist"]["dim"],
        }
    elif experiment == "sweeps":
        s = config["mnist"]["sweep"]
        g = {
            "grid": MNIST_GRID,
            "music": music_defaults(config["mnist"]["music"]),
            "paper": paper,
            "sweeps": {
                "alpha": {
                    "plain": ROBUST["mnist"]["energy"]["plain"],
                    "per_row_mean": s["alpha"],
                },
                "lambda": s["lambda"],
                "kappa": s["kappa"],
            },
        }
    elif experiment == "faces":
        f = config["faces"]
        g = {
            "grid": ROBUST["faces"],
            "music": music_defaults(f["music"]),
            "paper": paper,
            "free": f["free"],
            "informed_steps": f["informed"]["n_steps"],
            "monotone_min": f["monotone_min"],
        }
    else:
        raise ValueError(f"no robustness grid for {experiment!r}")
    return json.dumps(g, sort_keys=True)


def dim_of(wildcards):
    """The --dim of an encoding of the D slice (an integer or full)."""
    return wildcards.dim


def robustness_outputs():
    """Every output of the robustness study (empty when robustness.enabled is false)."""
    if not ROBUST_ON:
        return []
    return [
        "results/robustness/checks.csv",
        "results/robustness/summary.json",
        "results/tables/table6_inversion_vs_dim.csv",
    ]


# --- report helpers
# the categories of report.html (`snakemake --report report.html`), numbered so that the viewer, which sorts
# them by name, lists the verdicts first and then the experiments in the paper's order
REPORT_VERDICTS = "0 Verdicts"
REPORT_GMM = "1 Gaussian mixture"
REPORT_MNIST = "2 MNIST"
REPORT_FACES = "3 Faces (LFW)"
REPORT_KMEANS = "4 k-means control"
REPORT_ROBUST = "5 Robustness study"
