"""Checking a pipeline configuration before any job runs (called by ``workflow/rules/common.smk``).

Every problem is reported at once, one line each, naming the key and the fix:

- the YAML files themselves: syntax errors with the file, line and column, and duplicate keys
  (YAML would silently keep the last one, e.g. a trailing ``seeds: [7]`` replacing the list);
- the JSON schema (``workflow/schemas/config.schema.yaml``: types, bounds, allowed values, unknown keys);
- NaN and infinities in any numeric key (JSON schema bounds let them through);
- limits that span several keys (a SOM too small to invert its activations, a growing neighbourhood,
  a GMM component index beyond the mixture, more starts than test points, fewer training samples
  than SOM units under random initialisation, ...);
- the data mirror of ``$MUSICSOM_DATA_MIRROR`` (or ``data.mirror``) when it is not a readable folder.
"""

from __future__ import annotations

import math
import os
from pathlib import Path

__all__ = ["ConfigError", "load_yaml_strict", "check_yaml_files", "schema_errors", "non_finite_keys",
           "cross_key_errors", "mirror_errors", "MIRROR_ENV"]

MIRROR_ENV = "MUSICSOM_DATA_MIRROR"
MNIST_TRAIN, MNIST_TEST, LFW_IMAGES = 60_000, 10_000, 13_233


class ConfigError(ValueError):
    """The configuration is invalid; the message lists every problem with its key and fix."""


# ---------------------------------------------------------------- YAML files
def _strict_loader():
    import yaml

    class StrictLoader(yaml.SafeLoader):
        """A SafeLoader that refuses duplicate keys instead of keeping the last one."""

    def construct_mapping(loader, node, deep=False):
        seen = {}
        for key_node, _ in node.value:
            key = loader.construct_object(key_node, deep=deep)
            if key in seen:
                raise yaml.constructor.ConstructorError(
                    None, None,
                    f"duplicate key {key!r} (first at line {seen[key] + 1}); YAML would keep only the last value: remove one",
                    key_node.start_mark,
                )
            seen[key] = key_node.start_mark.line
        return loader.construct_mapping(node, deep=deep)

    StrictLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, construct_mapping)
    return StrictLoader


def load_yaml_strict(path) -> object:
    """Parse a YAML file, raising :class:`ConfigError` with file, line and column for syntax errors and duplicate keys."""
    import yaml

    path = Path(path)
    try:
        text = path.read_text()
    except OSError as exc:
        raise ConfigError(f"{path}: cannot be read ({exc.strerror}); check the path") from None
    try:
        return yaml.load(text, Loader=_strict_loader())
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = f"{path}, line {mark.line + 1}, column {mark.column + 1}" if mark else str(path)
        problem = exc.problem or exc.context or "invalid YAML"
        raise ConfigError(f"{where}: {problem}. Fix the YAML there (indentation, brackets, quotes).") from None
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: not valid YAML ({exc})") from None


def check_yaml_files(paths) -> None:
    """Strictly parse every existing config file (syntax, duplicate keys); raise one ConfigError listing all."""
    problems = []
    for p in paths:
        if Path(p).is_file():
            try:
                load_yaml_strict(p)
            except ConfigError as exc:
                problems.append(str(exc))
    if problems:
        raise ConfigError("the configuration file is invalid:\n" + "\n".join(f"  - {m}" for m in problems))


# ---------------------------------------------------------------- schema
def _allowed(schema: dict) -> str:
    """What a schema node allows, in words (type, bounds, values) plus its description."""
    parts = []
    if "enum" in schema:
        parts.append("one of " + ", ".join(repr(v) for v in schema["enum"]))
    elif "type" in schema:
        t = schema["type"]
        parts.append(" or ".join(t) if isinstance(t, list) else t)
    for key, word in (("minimum", ">="), ("exclusiveMinimum", ">"), ("maximum", "<="), ("exclusiveMaximum", "<")):
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


def schema_errors(cfg: dict, schema: dict) -> list[str]:
    """Every schema violation of ``cfg`` as 'key.path = value: problem. Allowed: ...' lines."""
    import jsonschema

    errors = sorted(jsonschema.Draft202012Validator(schema).iter_errors(cfg), key=lambda e: [str(p) for p in e.absolute_path])
    lines = []
    for e in errors:
        path = ".".join(str(p) for p in e.absolute_path)
        if e.validator == "additionalProperties":
            known = sorted(e.schema.get("properties", {}))
            for key in sorted(set(e.instance) - set(known)):
                where = f"{path}.{key}" if path else key
                lines.append(f"{where}: unknown key. Allowed keys{' under ' + path if path else ''}: {', '.join(known)}")
            continue
        lines.append(f"{path or '(top level)'} = {e.instance!r}: {e.message}. Allowed: {_allowed(e.schema)}")
    return lines


# ---------------------------------------------------------------- values
def non_finite_keys(cfg, prefix: str = "") -> list[str]:
    """'key = nan: ...' lines for every NaN or infinite number anywhere in ``cfg`` (dicts and lists)."""
    out = []
    if isinstance(cfg, dict):
        for k, v in cfg.items():
            out += non_finite_keys(v, f"{prefix}.{k}" if prefix else str(k))
    elif isinstance(cfg, list):
        for i, v in enumerate(cfg):
            out += non_finite_keys(v, f"{prefix}[{i}]")
    elif isinstance(cfg, float) and not math.isfinite(cfg):
        out.append(f"{prefix} = {cfg}: every number must be finite (NaN and infinities would train a meaningless map "
                   "or collapse it silently). Set a finite value.")
    return out


def _get(cfg, path, default=None):
    node = cfg
    for key in path.split("."):
        if not isinstance(node, dict) or key not in node:
            return default
        node = node[key]
    return node


def _som_checks(cfg, section: str, dim_key: str, n_train: int | None) -> list[str]:
    out = []
    som = _get(cfg, f"{section}.som", {}) or {}
    rows, cols = som.get("rows"), som.get("cols")
    dim = _get(cfg, f"{section}.{dim_key}")
    if isinstance(rows, int) and isinstance(cols, int) and isinstance(dim, int) and rows * cols < dim + 1:
        out.append(
            f"{section}.som: a {rows}x{cols} map has K = {rows * cols} prototypes, fewer than {section}.{dim_key} + 1 = "
            f"{dim + 1}, so its activations cannot be inverted (docs/METHOD.md#2-exact-inversion, Proposition 1). "
            f"Set {section}.som.rows * {section}.som.cols >= {dim + 1} or lower {section}.{dim_key}."
        )
    start, end = som.get("sigma_start"), som.get("sigma_end")
    if isinstance(start, (int, float)) and isinstance(end, (int, float)) and end > start:
        out.append(
            f"{section}.som.sigma_end = {end} is larger than {section}.som.sigma_start = {start}: the neighbourhood would "
            f"grow during training. Set sigma_end <= sigma_start (or sigma_start: null for half the larger side)."
        )
    if (som.get("init") == "random" and n_train is not None and isinstance(rows, int) and isinstance(cols, int)
            and n_train < rows * cols):
        out.append(
            f"{section}.som.init = random draws one training sample per unit, but only {n_train} training samples are used "
            f"for {rows * cols} units. Use more training samples, a smaller map, or {section}.som.init: pca."
        )
    return out


def cross_key_errors(cfg: dict) -> list[str]:
    """Limits that span several keys (the schema checks one key at a time); empty when all hold."""
    out = []
    g = cfg.get("gmm", {})
    out += _som_checks(cfg, "gmm", "dim", g.get("n_train"))
    comp, n_comp = _get(cfg, "gmm.trajectories.component"), g.get("components")
    if isinstance(comp, int) and isinstance(n_comp, int) and comp >= n_comp:
        out.append(f"gmm.trajectories.component = {comp} does not index a component of the {n_comp}-component mixture "
                   f"(gmm.components). Use 0..{n_comp - 1}.")
    starts, n_test = _get(cfg, "gmm.trajectories.n_starts"), g.get("n_test")
    if isinstance(starts, int) and isinstance(n_test, int) and starts > n_test:
        out.append(f"gmm.trajectories.n_starts = {starts} exceeds the {n_test} test points (gmm.n_test). "
                   "Lower gmm.trajectories.n_starts or raise gmm.n_test.")
    bad_m = [m for m in _get(cfg, "gmm.inversion.noise_m_values", []) or [] if isinstance(g.get("dim"), int) and m < g["dim"] + 1]
    if bad_m:
        out.append(f"gmm.inversion.noise_m_values: {bad_m} < gmm.dim + 1 = {g['dim'] + 1}; the noise bound of Fig 1 needs "
                   "full rank, so every subset size must be at least D + 1.")

    m = cfg.get("mnist", {})
    m_train = m.get("n_train") or MNIST_TRAIN
    m_test = m.get("n_test") or MNIST_TEST
    out += _som_checks(cfg, "mnist", "dim", m_train)
    pairs = [tuple(p) for p in m.get("pairs", []) if isinstance(p, (list, tuple))]
    same = [f"{a}->{b}" for a, b in pairs if a == b]
    if same or len(set(pairs)) < len(pairs):
        out.append(f"mnist.pairs: every pair needs two different digits and may appear once; got {same or 'duplicates'}.")
    if _get(cfg, "mnist.transition.source") is not None and _get(cfg, "mnist.transition.source") == _get(cfg, "mnist.transition.target"):
        out.append("mnist.transition: source and target must be different digits.")
    n_starts = _get(cfg, "mnist.table2.n_starts")
    # each start is a test image of the pair's source class: about a tenth of the test slice
    if isinstance(n_starts, int) and n_starts > m_test // 20:
        out.append(f"mnist.table2.n_starts = {n_starts} start images per pair from a slice of {m_test} test images "
                   f"(about {m_test // 10} per digit): use at most {max(1, m_test // 20)} or a larger mnist.n_test.")
    ring = _get(cfg, "mnist.music.preserve_ring")
    if isinstance(ring, int) and ring > 0 and "kmeans" in cfg:
        out.append("mnist.music.preserve_ring > 0 needs a lattice, and the k-means control (kmeans.*) has none: "
                   "set mnist.music.preserve_ring to 0 (preserve all other prototypes).")
    rows, cols = _get(cfg, "mnist.som.rows"), _get(cfg, "mnist.som.cols")
    if isinstance(rows, int) and isinstance(cols, int) and rows * cols > m_train:
        out.append(f"kmeans: K = mnist.som.rows * mnist.som.cols = {rows * cols} exceeds the {m_train} training images; "
                   "k-means cannot fit more centres than samples. Use a smaller map or more training images.")

    f = cfg.get("faces", {})
    n_faces = f.get("n_faces") or LFW_IMAGES
    holdout = _get(cfg, "faces.autoencoder.holdout")
    if isinstance(holdout, (int, float)):
        # the split is by person, so the training count is known only after it: check the expected count
        out += _som_checks(cfg, "faces", "pca_components", int(n_faces * (1 - holdout)))
        f_starts = _get(cfg, "faces.starts.n_starts")
        if isinstance(f_starts, int) and f_starts > n_faces * holdout * 0.5:
            out.append(f"faces.starts.n_starts = {f_starts} exceeds what about {int(n_faces * holdout)} held-out faces can give "
                       "(faces.n_faces × faces.autoencoder.holdout, of whom the starts must be detectable faces outside the "
                       "clusters). Lower faces.starts.n_starts or raise faces.n_faces / holdout.")
    pca, code = f.get("pca_components"), _get(cfg, "faces.autoencoder.code_dim")
    if isinstance(pca, int) and isinstance(code, int) and pca > code:
        out.append(f"faces.pca_components = {pca} exceeds faces.autoencoder.code_dim = {code}: PCA cannot give more "
                   "components than the code has. Lower faces.pca_components or raise faces.autoencoder.code_dim.")
    channels, size = _get(cfg, "faces.autoencoder.channels"), _get(cfg, "data.lfw.size")
    if isinstance(channels, list) and isinstance(size, int) and size % 2 ** len(channels):
        out.append(f"data.lfw.size = {size} is not divisible by 2 ** {len(channels)} (one halving per entry of "
                   "faces.autoencoder.channels). Use a size such as 32 or 64, or fewer faces.autoencoder.channels.")
    return out


def mirror_errors(cfg: dict, environ=None) -> list[str]:
    """A ``data.mirror`` or ``$MUSICSOM_DATA_MIRROR`` that is set but is not a readable folder."""
    environ = os.environ if environ is None else environ
    value = _get(cfg, "data.mirror")
    if value not in (None, ""):
        where, path = "data.mirror", Path(os.path.expanduser(str(value))).absolute()
    elif environ.get(MIRROR_ENV):
        where, path = f"${MIRROR_ENV}", Path(os.path.expanduser(environ[MIRROR_ENV])).absolute()
    else:
        return []
    if not path.is_dir():
        problem = "does not exist" if not path.exists() else "is not a folder"
    elif not os.access(path, os.R_OK | os.X_OK):
        problem = "is not readable"
    else:
        return []
    return [f"{where} = {path} {problem}. Point it to a readable folder laid out like the data mirror of docs/DATA.md, "
            f"or unset it to download from the canonical URLs."]
