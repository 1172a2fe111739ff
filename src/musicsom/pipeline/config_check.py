"""Checking a pipeline configuration before any job runs (called by ``workflow/rules/common.smk``).

Every problem is reported at once, one line each, naming the key and the fix:

- the YAML files themselves: syntax errors with the file, line and column, and duplicate keys
  (YAML would silently keep the last one, e.g. a trailing ``seeds: [7]`` replacing the list);
- the JSON schema (``workflow/schemas/config.schema.yaml``: types, bounds, allowed values, unknown keys),
  after giving the values of ``snakemake --config`` the schema's types (``'seeds=[0, 1]'`` arrives as strings);
- NaN and infinities in any numeric key (JSON schema bounds let them through);
- limits that span several keys (a SOM too small to invert its activations, a growing neighbourhood,
  also from the default ``sigma_start``, a hexagonal torus with an odd number of rows, a GMM component
  index beyond the mixture, more starts than test points, fewer training samples than SOM units under
  random initialisation or than PCA components, ...);
- the data mirror of ``$MUSICSOM_DATA_MIRROR`` (or ``data.mirror``) when it is not a readable folder
  (a relative one is relative to the folder the command was typed in, not to ``--directory``).
"""

from __future__ import annotations

import math
import os
from pathlib import Path

__all__ = ["ConfigError", "load_yaml_strict", "check_yaml_files", "schema_errors", "non_finite_keys",
           "cross_key_errors", "invocation_dir", "mirror_path", "mirror_errors", "type_command_line_values",
           "MIRROR_ENV"]

MIRROR_ENV = "MUSICSOM_DATA_MIRROR"
MNIST_TRAIN, MNIST_TEST, LFW_IMAGES = 60_000, 10_000, 13_233
MNIST_FULL_DIM = 712  # mnist.dim: full on all 60,000 training images (the components of non-negligible variance)


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


# ---------------------------------------------------------------- command line
def _typed(text: str):
    """What a command-line string means as a number, boolean or null (as Snakemake reads a top-level value)."""
    import yaml

    for parse in (int, float):
        try:
            return parse(text)
        except ValueError:
            pass
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError:
        return text


def _typed_like(value, node):
    """``value`` with every string the schema ``node`` refuses, but accepts as a number, boolean or null, converted."""
    import jsonschema

    if not isinstance(node, dict):
        return value
    if isinstance(value, dict):
        props = node.get("properties", {})
        return {k: _typed_like(v, props.get(k)) for k, v in value.items()}
    if isinstance(value, list):
        return [_typed_like(v, node.get("items")) for v in value]
    if isinstance(value, str):
        check = jsonschema.Draft202012Validator(node)
        typed = _typed(value)
        if not isinstance(typed, str) and not check.is_valid(value) and check.is_valid(typed):
            return typed
    return value


def type_command_line_values(cfg: dict, overrides, schema: dict) -> None:
    """Give the values of ``snakemake --config`` the types the schema asks for, in ``cfg`` (in place).

    Snakemake types a top-level value (``seeds=3``) but reads a list or mapping with YAML's base loader,
    which leaves every item a string: ``--config 'seeds=[0, 1]'`` gives ``["0", "1"]``, and
    ``'mnist={som: {rows: 10}}'`` gives ``{"som": {"rows": "10"}}``. Each such string that the schema
    refuses but accepts as a number, boolean or null (``"10"``, ``"0.5"``, ``"true"``, ``"null"``) is
    converted; any other string is left for the schema check to report. ``overrides`` is the
    command line's config (``workflow.config_settings.config``); values of config files are not touched.
    """

    def apply(node, over, sub_schema):
        props = sub_schema.get("properties", {}) if isinstance(sub_schema, dict) else {}
        for key, value in over.items():
            if isinstance(value, dict) and isinstance(node.get(key), dict):  # Snakemake merged it into the file's section
                apply(node[key], value, props.get(key))
            elif key in node:
                node[key] = _typed_like(node[key], props.get(key))

    apply(cfg, dict(overrides or {}), schema)


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


def _som_checks(cfg, section: str, dim_key: str, n_train: int | None, full_dim: int | None = None) -> list[str]:
    """The limits of the SOM section ``{section}.som`` against its data (D at ``{section}.{dim_key}``, n_train samples).

    ``full_dim`` is the D that ``{section}.{dim_key}: full`` gives, where it is known before any job runs.
    """
    out = []
    som = _get(cfg, f"{section}.som", {}) or {}
    rows, cols = som.get("rows"), som.get("cols")
    sized = isinstance(rows, int) and isinstance(cols, int)
    dim = _get(cfg, f"{section}.{dim_key}")
    if dim == "full" and full_dim is not None:
        dim = full_dim
        dim_text = f"D + 1 = {dim + 1} ({section}.{dim_key}: full keeps {full_dim} components on this data)"
    else:
        dim_text = f"{section}.{dim_key} + 1 = {dim + 1 if isinstance(dim, int) else dim}"
    if sized and isinstance(dim, int) and rows * cols < dim + 1:
        out.append(
            f"{section}.som: a {rows}x{cols} map has K = {rows * cols} prototypes, fewer than {dim_text}, "
            f"so its activations cannot be inverted (docs/METHOD.md#2-exact-inversion, Proposition 1). "
            f"Set {section}.som.rows * {section}.som.cols >= {dim + 1} or lower {section}.{dim_key}."
        )
    if sized and som.get("topology") == "hexagonal_toroidal" and rows % 2:
        other = f"{rows + 1} or {rows - 1}" if rows > 1 else f"{rows + 1}"
        out.append(
            f"{section}.som.topology = hexagonal_toroidal needs an even number of rows (the odd-row offsets must match "
            f"across the wrap); {section}.som.rows = {rows}. Set {section}.som.rows to {other}, or "
            f"{section}.som.topology: hexagonal."
        )
    start, end = som.get("sigma_start"), som.get("sigma_end")
    if isinstance(end, (int, float)) and not isinstance(end, bool):
        if isinstance(start, (int, float)) and not isinstance(start, bool):
            if end > start:
                out.append(
                    f"{section}.som.sigma_end = {end} is larger than {section}.som.sigma_start = {start}: the neighbourhood "
                    f"would grow during training. Set {section}.som.sigma_end <= {section}.som.sigma_start."
                )
        elif start is None and sized and end > max(rows, cols) / 2:
            default = max(rows, cols) / 2
            out.append(
                f"{section}.som.sigma_end = {end} is larger than the default sigma_start = {default:g} ({section}.som."
                f"sigma_start is null: half the larger side of the {rows}x{cols} map): the neighbourhood would grow during "
                f"training. Set {section}.som.sigma_end <= {default:g}, or {section}.som.sigma_start to at least {end}."
            )
    if som.get("init") == "random" and n_train is not None and sized and n_train < rows * cols:
        out.append(
            f"{section}.som.init = random draws one training sample per unit, but only {n_train} training samples are used "
            f"for {rows * cols} units. Use more training samples, a smaller map, or {section}.som.init: pca."
        )
    return out


def _pca_checks(key: str, dims, n_samples: int, samples: str) -> list[str]:
    """A PCA fitted on ``n_samples`` rows has at most ``n_samples - 1`` components: refuse integer dims above that."""
    too_many = [d for d in dims if isinstance(d, int) and not isinstance(d, bool) and d > n_samples - 1]
    if not too_many:
        return []
    shown = too_many[0] if len(too_many) == 1 and not key.endswith("dims") else too_many
    return [f"{key} = {shown}: a PCA of {n_samples} {samples} has at most {n_samples - 1} components. "
            f"Use at most {n_samples - 1}{' (or full)' if key.startswith(('mnist', 'robustness')) else ''}, or more samples."]


def cross_key_errors(cfg: dict) -> list[str]:
    """Limits that span several keys (the schema checks one key at a time); empty when all hold."""
    out = []
    g = cfg.get("gmm", {}).get("mixture", {})
    out += _som_checks(cfg, "gmm", "mixture.dim", g.get("n_train"))
    comp, n_comp = _get(cfg, "gmm.trajectories.component"), g.get("components")
    if isinstance(comp, int) and isinstance(n_comp, int) and comp >= n_comp:
        out.append(f"gmm.trajectories.component = {comp} does not index a component of the {n_comp}-component mixture "
                   f"(gmm.mixture.components). Use 0..{n_comp - 1}.")
    starts, n_test = _get(cfg, "gmm.trajectories.n_starts"), g.get("n_test")
    if isinstance(starts, int) and isinstance(n_test, int) and starts > n_test:
        out.append(f"gmm.trajectories.n_starts = {starts} exceeds the {n_test} test points (gmm.mixture.n_test). "
                   "Lower gmm.trajectories.n_starts or raise gmm.mixture.n_test.")
    bad_m = [m for m in _get(cfg, "gmm.inversion.noise_m_values", []) or [] if isinstance(g.get("dim"), int) and m < g["dim"] + 1]
    if bad_m:
        out.append(f"gmm.inversion.noise_m_values: {bad_m} < gmm.mixture.dim + 1 = {g['dim'] + 1}; the noise bound of Fig 1 needs "
                   "full rank, so every subset size must be at least D + 1.")

    m = cfg.get("mnist", {})
    m_train = m.get("n_train") or MNIST_TRAIN
    m_test = m.get("n_test") or MNIST_TEST
    # mnist.dim: full keeps the components of non-negligible variance: 712 on all of MNIST's training images
    # (config.yaml, the paper setup); on a slice or on Fashion-MNIST the number is known only once the encoding ran
    full_dim = MNIST_FULL_DIM if _get(cfg, "data.digits", "mnist") == "mnist" and m_train == MNIST_TRAIN else None
    out += _som_checks(cfg, "mnist", "dim", m_train, full_dim)
    robust_dims = _get(cfg, "robustness.mnist.dims", []) if _get(cfg, "robustness.enabled", True) else []
    out += _pca_checks("mnist.dim", [m.get("dim")], m_train, "training images (mnist.n_train)")
    out += _pca_checks("robustness.mnist.dims", robust_dims if isinstance(robust_dims, list) else [], m_train,
                       "training images (mnist.n_train)")
    pairs = [tuple(p) for p in m.get("pairs", []) if isinstance(p, (list, tuple))]
    same = [f"{a}->{b}" for a, b in pairs if a == b]
    if same or len(set(pairs)) < len(pairs):
        out.append(f"mnist.pairs: every pair needs two different digits and may appear once; got {same or 'duplicates'}.")
    if _get(cfg, "mnist.transition.source") is not None and _get(cfg, "mnist.transition.source") == _get(cfg, "mnist.transition.target"):
        out.append("mnist.transition: source and target must be different digits.")
    for key in ("mnist.table2.n_starts", "mnist.sweep.n_starts"):
        n_starts = _get(cfg, key)
        # each start is a test image of the pair's source class: about a tenth of the test slice
        if isinstance(n_starts, int) and n_starts > m_test // 20:
            out.append(f"{key} = {n_starts} start images per pair from a slice of {m_test} test images "
                       f"(about {m_test // 10} per digit): use at most {max(1, m_test // 20)} or a larger mnist.n_test.")
    ring = _get(cfg, "mnist.music.preserve_ring")
    if ring is not None and "kmeans" in cfg:
        out.append(f"mnist.music.preserve_ring = {ring} needs a lattice, and the k-means control (kmeans.*) has none: "
                   "set mnist.music.preserve_ring to null (preserve all other prototypes).")
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
        out += _pca_checks("faces.pca_components", [f.get("pca_components")], int(n_faces * (1 - holdout)),
                           "training faces (faces.n_faces × (1 - faces.autoencoder.holdout), expected)")
        out += _pca_checks("faces.autoencoder.code_dim", [_get(cfg, "faces.autoencoder.code_dim")],
                           int(n_faces * (1 - holdout)),
                           "training faces (faces.n_faces × (1 - faces.autoencoder.holdout), expected; the code is their PCA)")
        f_starts = _get(cfg, "faces.starts.n_starts")
        if isinstance(f_starts, int) and f_starts > n_faces * holdout * 0.5:
            out.append(f"faces.starts.n_starts = {f_starts} exceeds what about {int(n_faces * holdout)} held-out faces can give "
                       "(faces.n_faces × faces.autoencoder.holdout, of whom the starts must be detectable faces outside the "
                       "clusters). Lower faces.starts.n_starts or raise faces.n_faces / holdout.")
    pca, code = f.get("pca_components"), _get(cfg, "faces.autoencoder.code_dim")
    if isinstance(pca, int) and isinstance(code, int) and pca > code:
        out.append(f"faces.pca_components = {pca} exceeds faces.autoencoder.code_dim = {code}: PCA cannot give more "
                   "components than the code has. Lower faces.pca_components or raise faces.autoencoder.code_dim.")
    size = _get(cfg, "data.lfw.size")
    if isinstance(size, int) and size % 2:
        out.append(f"data.lfw.size = {size} is odd: the face code's correction works on 2x2 pixel blocks. "
                   "Use an even size such as 32 or 64.")
    return out


def invocation_dir(workdir=None, environ=None) -> Path:
    """The folder the ``snakemake`` command was typed in: a relative data mirror is relative to it.

    Snakemake changes to ``--directory`` before it reads the Snakefile and keeps no record of the folder it
    came from that the Snakefile can read; the shell's ``$PWD`` still names that folder. ``workdir`` is the
    ``--directory`` as typed (``workflow.overwrite_workdir``; None without one: then the current folder is
    the one). ``$PWD`` is taken when ``$PWD/workdir`` is the current folder (always so for an absolute
    ``--directory``, which cannot tell a stale ``$PWD`` apart); otherwise, e.g. a ``$PWD`` left over by a
    program that started Snakemake in another folder without a shell, the current folder.
    """
    environ = os.environ if environ is None else environ
    cwd = Path.cwd()
    pwd = environ.get("PWD", "")
    if workdir is None or not os.path.isabs(pwd) or not os.path.isdir(pwd):
        return cwd
    try:
        return Path(pwd) if os.path.samefile(os.path.join(pwd, workdir), cwd) else cwd
    except OSError:  # $PWD/workdir does not exist
        return cwd


def mirror_path(cfg: dict, environ=None, origin=None) -> tuple[str, Path] | None:
    """The data mirror, ``data.mirror`` else ``$MUSICSOM_DATA_MIRROR``, as (where it is set, absolute path).

    A relative path is taken from ``origin`` (the folder the command was typed in, :func:`invocation_dir`;
    the current folder when None); None when neither is set. The path is not checked (:func:`mirror_errors`).
    """
    environ = os.environ if environ is None else environ
    value = _get(cfg, "data.mirror")
    if value not in (None, ""):
        where = "data.mirror"
    elif environ.get(MIRROR_ENV):
        where, value = f"${MIRROR_ENV}", environ[MIRROR_ENV]
    else:
        return None
    origin = Path.cwd() if origin is None else origin
    return where, Path(os.path.abspath(os.path.join(origin, os.path.expanduser(str(value)))))


def mirror_errors(cfg: dict, environ=None, origin=None) -> list[str]:
    """A ``data.mirror`` or ``$MUSICSOM_DATA_MIRROR`` that is set but is not a readable folder (a relative
    one taken from ``origin``, as :func:`mirror_path` takes it)."""
    found = mirror_path(cfg, environ, origin)
    if found is None:
        return []
    where, path = found
    if not path.is_dir():
        problem = "does not exist" if not path.exists() else "is not a folder"
    elif not os.access(path, os.R_OK | os.X_OK):
        problem = "is not readable"
    else:
        return []
    return [f"{where} = {path} {problem}. Point it to a readable folder laid out like the data mirror of docs/DATA.md, "
            f"or unset it to download from the canonical URLs."]
