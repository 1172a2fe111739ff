# Helpers shared by every stage file: config validation, wildcard constraints, paths to the
# package sources (declared as inputs so that editing the library reruns what it affects).
import os
import sys

from snakemake.exceptions import WorkflowError
from snakemake.utils import validate

# shell: rules run the first `python` on PATH; make it the interpreter running Snakemake.
os.environ.update(
    PATH=os.pathsep.join([os.path.dirname(sys.executable), os.environ.get("PATH", "")]),
    MPLBACKEND="Agg",
    # one BLAS thread per job: small matrix products run several times slower on threaded
    # OpenBLAS here, see docs/benchmarks.md; Snakemake already runs jobs in parallel
    OPENBLAS_NUM_THREADS="1",
    OMP_NUM_THREADS="1",
    MKL_NUM_THREADS="1",
)

CONFIG_SCHEMA = os.path.join(
    workflow.basedir, "workflow", "schemas", "config.schema.yaml"
)


def _allowed(schema):
    """What a schema node allows, in words (type, bounds, values) plus its description."""
    parts = []
    if "enum" in schema:
        parts.append("one of " + ", ".join(repr(v) for v in schema["enum"]))
    elif "type" in schema:
        t = schema["type"]
        parts.append(" or ".join(t) if isinstance(t, list) else t)
    for key, word in (
        ("minimum", ">="),
        ("exclusiveMinimum", ">"),
        ("maximum", "<="),
        ("exclusiveMaximum", "<"),
    ):
        if key in schema:
            parts.append(f"{word} {schema[key]}")
    if "minItems" in schema:
        parts.append(f"at least {schema['minItems']} item(s)")
    if schema.get("uniqueItems"):
        parts.append("no duplicates")
    if isinstance(schema.get("items"), dict):
        parts.append(f"items: {_allowed(schema['items'])}")
    text = ", ".join(parts)
    if schema.get("description"):
        text += f" ({' '.join(str(schema['description']).split())})"
    return text


def config_error_message(cfg, schema_path):
    """Every schema violation of ``cfg`` as 'key.path = value: problem. Allowed: ...' lines."""
    import jsonschema
    import yaml

    with open(schema_path) as f:
        schema = yaml.safe_load(f)
    errors = sorted(
        jsonschema.Draft202012Validator(schema).iter_errors(cfg),
        key=lambda e: [str(p) for p in e.absolute_path],
    )
    lines = []
    for e in errors:
        path = ".".join(str(p) for p in e.absolute_path)
        if e.validator == "additionalProperties":
            known = sorted(e.schema.get("properties", {}))
            for key in sorted(set(e.instance) - set(known)):
                where = f"{path}.{key}" if path else key
                lines.append(
                    f"{where}: unknown key. Allowed keys{' under ' + path if path else ''}: {', '.join(known)}"
                )
            continue
        lines.append(
            f"{path or '(top level)'} = {e.instance!r}: {e.message}. Allowed: {_allowed(e.schema)}"
        )
    return "\n".join(f"  - {l}" for l in lines) or "  (no detail)"


def validate_config(cfg, schema_path):
    """snakemake's validate (fills the schema defaults) with an error that names each bad key and its allowed values."""
    try:
        validate(cfg, schema_path)
    except WorkflowError:
        raise ValueError(
            f"config.yaml is invalid (schema: workflow/schemas/config.schema.yaml):\n"
            f"{config_error_message(cfg, schema_path)}"
        ) from None


validate_config(config, CONFIG_SCHEMA)

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


# --- config checks (reliability)
# Constraints that span several keys (the schema checks one key at a time). Each raises before any job runs.
def check_som_can_invert(section, dim_key):
    """A SOM of K = rows × cols prototypes must have K >= D + 1 for its activations to be invertible."""
    sec = config.get(section, {})
    som = sec.get("som", {})
    dim = sec.get(dim_key)
    if dim is None or "rows" not in som or "cols" not in som:
        return
    rows, cols, dim = int(som["rows"]), int(som["cols"]), int(dim)
    if rows * cols < dim + 1:
        raise ValueError(
            f"{section}.som: a {rows}x{cols} map has K = {rows * cols} prototypes, fewer than "
            f"{section}.{dim_key} + 1 = {dim + 1}, so its activations cannot be inverted (SPEC §2, "
            f"Proposition 1). Set {section}.som.rows * {section}.som.cols >= {dim + 1} or lower {section}.{dim_key}."
        )


check_som_can_invert("gmm", "dim")
for _dim_key in ("latent_dim", "pca_components", "dim"):
    if _dim_key in config.get("mnist", {}):
        check_som_can_invert("mnist", _dim_key)
        break
check_som_can_invert("faces", "pca_components")

_bad_m = [
    m
    for m in config["gmm"].get("inversion", {}).get("noise_m_values", [])
    if m < config["gmm"]["dim"] + 1
]
if _bad_m:
    raise ValueError(
        f"gmm.inversion.noise_m_values: {_bad_m} < gmm.dim + 1 = {config['gmm']['dim'] + 1}; the noise bound "
        "of Fig 1 needs full rank, so every subset size must be at least D + 1."
    )


# --- faces helpers
# faces.som vs faces.pca_components (K >= D + 1) is checked above by check_som_can_invert; these are the other
# cross-key constraints of the faces stage.
if config["faces"]["pca_components"] > config["faces"]["autoencoder"]["code_dim"]:
    raise ValueError(
        f"faces.pca_components = {config['faces']['pca_components']} exceeds faces.autoencoder.code_dim = "
        f"{config['faces']['autoencoder']['code_dim']}: PCA cannot give more components than the code has. "
        "Lower faces.pca_components or raise faces.autoencoder.code_dim."
    )
_face_blocks = len(config["faces"]["autoencoder"]["channels"])
if config["data"]["lfw"]["size"] % 2**_face_blocks:
    raise ValueError(
        f"data.lfw.size = {config['data']['lfw']['size']} is not divisible by 2 ** {_face_blocks} (one halving per "
        f"entry of faces.autoencoder.channels). Use a size such as 32 or 64, or fewer faces.autoencoder.channels."
    )


# --- mnist helpers
MNIST_PAIRS = [(int(a), int(b)) for a, b in config["mnist"]["pairs"]]
_mnist_bad = [f"{a}->{b}" for a, b in MNIST_PAIRS if a == b]
if _mnist_bad or len(set(MNIST_PAIRS)) < len(MNIST_PAIRS):
    raise ValueError(
        f"mnist.pairs: every pair needs two different digits and may appear once; got {_mnist_bad or 'duplicates'}"
    )
if config["mnist"]["transition"]["source"] == config["mnist"]["transition"]["target"]:
    raise ValueError("mnist.transition: source and target must be different digits")


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


def mnist_pair_csvs(seeds):
    """The per-pair Table 2 trajectory CSVs of the given seeds."""
    return [
        f"results/mnist/seed{s}/pairs/{a}to{b}.csv"
        for s in seeds
        for a, b in MNIST_PAIRS
    ]


# --- k-means control helpers
def kmeans_k(config):
    """K of the k-means control: the MNIST SOM's rows × cols; ring preservation has no lattice to use."""
    if int(config["mnist"]["music"]["preserve_ring"]) > 0:
        raise ValueError(
            "mnist.music.preserve_ring > 0 needs a lattice, and the k-means control (kmeans.*) has none: "
            "set mnist.music.preserve_ring to 0 (preserve all other prototypes)."
        )
    return int(config["mnist"]["som"]["rows"]) * int(config["mnist"]["som"]["cols"])


def kmeans_pair_csvs(seeds):
    """The k-means arm's per-pair trajectory CSVs of the given seeds."""
    return [
        f"results/kmeans/seed{s}/pairs/{a}to{b}.csv"
        for s in seeds
        for a, b in MNIST_PAIRS
    ]
