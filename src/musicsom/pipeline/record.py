"""Stage: write a record the workflow keeps about a run: a stage's code manifest, or the effective config.

    python -m musicsom.pipeline.record --code-of gmm.trajectories --out results/code/gmm.trajectories.txt

``--code-of STAGE`` writes the code manifest of ``musicsom.pipeline.STAGE``: one line per file of its import
graph with the file's sha256 (``musicsom.pipeline.import_graph``). The rule that writes it carries the
manifest's digest as a parameter, so the file is rewritten, and the rules that take it as their code
input rerun, exactly when a module in that graph changes.

The run's effective configuration (validated, schema defaults filled, overrides applied), which the report
describes, is written by the rule ``run_config`` in the Snakemake process itself with :func:`write_config`:
the config lives there, and as a command-line value its 8 kB would fill every dry run. The rule's parameter is
:func:`config_digest`, so a dry run after a config change names the change in one short line. Both written
atomically.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from musicsom.pipeline import files


def config_text(config) -> str:
    """The run's effective configuration as ``results/report/config.json`` holds it: JSON, keys sorted, indent 1."""
    return json.dumps(config, sort_keys=True, indent=1) + "\n"


def config_digest(config) -> str:
    """The sha256 of :func:`config_text`: the parameter of the rule that writes it."""
    return hashlib.sha256(config_text(config).encode()).hexdigest()


def write_config(path, config, log=None) -> None:
    """Write :func:`config_text` to ``path`` atomically, and a line saying so to ``log`` (a path) when given."""
    text = config_text(config)
    with files.atomic_path(path) as tmp:
        tmp.write_text(text)
    if log is not None:
        Path(log).parent.mkdir(parents=True, exist_ok=True)
        Path(log).write_text(f"wrote {path}: {len(text.encode())} bytes, sha256 {config_digest(config)}\n")


def main(argv=None):
    p = files.parser(__doc__.splitlines()[0])
    p.add_argument("--code-of", metavar="STAGE", required=True,
                   help="a stage module under musicsom.pipeline, e.g. gmm.trajectories")
    p.add_argument("--out", required=True, help="the manifest to write (.txt)")
    a = p.parse_args(argv)
    from musicsom.pipeline.import_graph import code_manifest, module_file

    name = f"musicsom.pipeline.{a.code_of}"
    if module_file(name) is None:
        raise files.InputError(f"--code-of {a.code_of}: there is no module {name}")
    text = code_manifest(name)
    with files.atomic_path(a.out) as tmp:
        tmp.write_text(text)


if __name__ == "__main__":
    files.run_main(main)
