"""Stage: write a record the workflow keeps about a run: a stage's code manifest, or the effective config.

    python -m musicsom.pipeline.record --code-of gmm.trajectories --out results/code/gmm.trajectories.txt
    python -m musicsom.pipeline.record --text "<json>" --out results/report/config.json

``--code-of STAGE`` writes the code manifest of ``musicsom.pipeline.STAGE``: one line per file of its import
graph with the file's sha256 (``musicsom.pipeline._code``). The rule that writes it carries the
manifest's digest as a parameter, so the file is rewritten, and the rules that take it as their code
input rerun, exactly when a module in that graph changes. ``--text`` writes the given text (the run's
effective configuration, which the report describes). Written atomically.
"""

from __future__ import annotations

from musicsom.pipeline import _io


def main(argv=None):
    p = _io.parser(__doc__.splitlines()[0])
    what = p.add_mutually_exclusive_group(required=True)
    what.add_argument("--code-of", metavar="STAGE", help="a stage module under musicsom.pipeline, e.g. gmm.trajectories")
    what.add_argument("--text", help="the text to write")
    p.add_argument("--out", required=True)
    a = p.parse_args(argv)
    if a.code_of is not None:
        from musicsom.pipeline._code import code_manifest, module_file

        name = f"musicsom.pipeline.{a.code_of}"
        if module_file(name) is None:
            raise _io.InputError(f"--code-of {a.code_of}: there is no module {name}")
        text = code_manifest(name)
    else:
        text = a.text if a.text.endswith("\n") else a.text + "\n"
    with _io.atomic_path(a.out) as tmp:
        tmp.write_text(text)


if __name__ == "__main__":
    _io.run_main(main)
