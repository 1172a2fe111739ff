"""A config section as one stage option: the rule passes it whole, the stage validates it once.

The one transport of the pipeline's settings. A rule passes each config section its stage reads as
one JSON value (``params: music=section("mnist", "music")`` and ``--music {params.music:q}``); the stage
declares the option with :func:`add_section` and turns the value into its value object with
:func:`build` (a library dataclass such as :class:`~musicsom.music.MusicParams`), :func:`som` (the
:class:`~musicsom.som.SOM` estimator) or :func:`require` (an experiment's own settings).

The schema (``workflow/schemas/config.schema.yaml``) is the one source of the pipeline's defaults: by the
time a rule runs, it has filled every key of every section. A stage therefore requires every key it
reads and supplies no default of its own; a missing or unknown key is an error that names the section,
the key and the fix. So a new setting of a value object reaches every stage that builds it by three
edits: the value object, the schema (its default) and the config (its value).

    >>> from musicsom.music import MusicParams
    >>> values = {"alpha": 0.5, "lam": 0.01, "kappa": 0.1, "eta": 0.2}
    >>> build(MusicParams, values, "mnist.music", complete=False).alpha
    0.5
    >>> build(MusicParams, values, "mnist.music")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
        ...
    musicsom.pipeline.files.InputError: the config section mnist.music lacks the keys ['cluster_passes', ...
"""

from __future__ import annotations

import argparse
import dataclasses
import json
from types import MappingProxyType
from typing import Any

from musicsom.pipeline.files import InputError

__all__ = ["add_section", "build", "require", "som"]


# what a section holds, as its errors and help name it: a JSON object (most sections) or a JSON list (mnist.pairs)
_JSON_KINDS = {dict: "JSON object", list: "JSON list"}


def _parse_json_object(section: str, kind: type = dict):
    def parse(text: str):
        try:
            value = json.loads(text)
        except json.JSONDecodeError as exc:
            raise argparse.ArgumentTypeError(f"the config section {section} is not valid JSON ({exc}); "
                                             f"pass the section as the rule does: a {_JSON_KINDS[kind]}") from None
        if not isinstance(value, kind):
            raise argparse.ArgumentTypeError(f"the config section {section} must be a {_JSON_KINDS[kind]}, not {type(value).__name__}")
        return value

    parse.__name__ = _JSON_KINDS[kind]  # what argparse names in its error message
    return parse


def add_section(parser: argparse.ArgumentParser, option: str, section: str, what: str, kind: type = dict,
                required: bool = True) -> None:
    """Add ``--<option> JSON``: the config section ``section`` (dotted, e.g. ``mnist.music``), passed whole;
    ``kind``: the JSON value it must be, ``dict`` (an object) or ``list``; ``required`` False: the option may be left
    out (it is then None)."""
    defaults = "keys and defaults" if kind is dict else "its default"
    parser.add_argument(f"--{option}", required=required, metavar="JSON", type=_parse_json_object(section, kind),
                        help=f"{what}: the config section {section}, whole, as a {_JSON_KINDS[kind]} "
                             f"({defaults}: workflow/schemas/config.schema.yaml)")


def _key_problems(values: dict, section: str, required, allowed=None) -> None:
    missing = sorted(set(required) - set(values))
    unknown = sorted(set(values) - set(allowed)) if allowed is not None else []
    problems = []
    if missing:
        problems.append(f"lacks the keys {missing}")
    if unknown:
        problems.append(f"has keys its stage does not know: {unknown}")
    if problems:
        raise InputError(f"the config section {section} {' and '.join(problems)}. The schema fills every default "
                         "before a rule runs: pass the section whole (params: section(...)), and add a new key to "
                         "the schema and to the value object together")


def build(cls, values: dict, section: str, *, complete: bool = True, **context):
    """The dataclass ``cls`` built from a config section, validated (``cls.validate()`` when it has one).

    ``complete``: every field must be in ``values`` (the pipeline's rule: the schema holds the defaults);
    ``False`` lets the value object's own defaults fill the rest (for the library's users and tests).
    ``context``: fields that come from elsewhere than the section (e.g. a seed). A library ``ValueError``
    comes back as an :class:`~musicsom.pipeline.files.InputError` naming the section.
    """
    fields = [f.name for f in dataclasses.fields(cls) if f.init and f.name not in context]
    _key_problems(values, section, fields if complete else (), allowed=fields)
    try:
        obj = cls(**values, **context)
        return obj.validate() if hasattr(obj, "validate") else obj
    except (TypeError, ValueError) as exc:
        raise InputError(f"the config section {section}: {exc}") from None


def require(values: dict, section: str, keys) -> MappingProxyType:
    """A read-only view of a config section that must hold every key in ``keys`` (others pass through)."""
    _key_problems(values, section, keys)
    return MappingProxyType(dict(values))


# the keys of a SOM section and the SOM estimator's parameters they become (rows and cols make grid_shape)
SOM_KEYS = ("rows", "cols", "topology", "epochs", "sigma_start", "sigma_end", "init")


def som(values: dict, section: str, *, random_state: int, n_threads: int = 1, backend: str = "numpy",
        device: str = "cpu") -> Any:
    """The unfitted :class:`~musicsom.som.SOM` of a SOM config section; the seed, threads, backend and device come
    from the rule (the config's ``som_backend`` and ``device``).

    Every key but ``rows`` and ``cols`` is a parameter of the estimator under the same name, so a new SOM
    setting reaches every map by the estimator, the schema and the config.
    """
    from musicsom.som import SOM

    _key_problems(values, section, SOM_KEYS)
    kw = {k: v for k, v in values.items() if k not in ("rows", "cols")}
    try:
        som = SOM((int(values["rows"]), int(values["cols"])), random_state=random_state, n_threads=n_threads,
                  backend=backend, device=device, **kw)
    except TypeError as exc:  # a key the estimator does not take
        raise InputError(f"the config section {section}: {exc}") from None
    if backend == "torch":  # a device torch cannot use (cuda without a GPU) stops here, before any data is read
        from musicsom._torch_backend import resolve_device

        try:
            resolve_device(device)
        except (ImportError, RuntimeError, ValueError) as exc:
            raise InputError(f"som_backend torch on device {device!r}: {exc} (or set som_backend: numpy)") from None
    return som
