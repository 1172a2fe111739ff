"""The ``musicsom`` command: list the pipeline's stages and run one.

    musicsom list                    # every stage, with what it does
    musicsom run gmm.trajectories --help
    musicsom run train_som --data results/gmm/seed0/data.npz --rows 20 --cols 15 ... --out som.npz
    musicsom explore RUN_DIR         # a local page to steer inputs through a finished run's maps (MNIST, GMM, faces) (docs/EXPLORE.md)

``musicsom run STAGE ARGS`` is ``python -m musicsom.pipeline.STAGE ARGS``: the command each Snakemake
rule runs. Listing reads the stages' docstrings from the source, so it works without the pipeline's
dependencies; running a stage needs them (``pip install "musicsom[pipeline]"``).
"""

from __future__ import annotations

import argparse
import ast
import runpy
import sys

from musicsom.pipeline.import_graph import all_modules, has_main_guard, module_file

PREFIX = "musicsom.pipeline."


def stages() -> dict[str, str]:
    """{stage name: first line of its docstring} for every module with a command-line entry."""
    out = {}
    for name in all_modules():
        if not name.startswith(PREFIX) or name.split(".")[-1].startswith("_") or name == f"{PREFIX}cli":
            continue
        path = module_file(name)
        if path.name == "__init__.py" or not has_main_guard(name):
            continue
        doc = ast.get_docstring(ast.parse(path.read_text())) or ""
        line = doc.splitlines()[0] if doc else ""
        out[name.removeprefix(PREFIX)] = line.removeprefix("Stage: ").removeprefix("Stage ")
    return out


def _explore(a) -> int:
    """``musicsom explore``: serve the explorer; a missing extra or an unreadable run folder is one clear line."""
    from musicsom.explore.app import missing_extra, serve
    from musicsom.explore.run import RunError

    missing = missing_extra()  # checked before reading the run: the commonest problem, and the cheapest to name
    if missing:
        print(f"musicsom explore: {missing}", file=sys.stderr)
        return 1
    try:
        return serve(a.run_dir, port=a.port, seed=a.seed, threads=a.threads)
    except (RunError, ValueError) as exc:
        print(f"musicsom explore: {exc}", file=sys.stderr)
        return 1


def main(argv=None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    from musicsom import __version__

    p = argparse.ArgumentParser(prog="musicsom", description="List and run the stages of the musicsom pipeline.")
    p.add_argument("--version", action="version", version=f"musicsom {__version__}")
    sub = p.add_subparsers(dest="command", required=True)
    sub.add_parser("list", help="list the stages (one per Snakemake rule)")
    run = sub.add_parser("run", help="run one stage: musicsom run STAGE [its options]", add_help=False)
    run.add_argument("stage")
    explore = sub.add_parser("explore", help="serve a page on 127.0.0.1 to steer inputs through a finished run's maps (MNIST, GMM, faces) "
                                             "(docs/EXPLORE.md; needs the explore extra)")
    explore.add_argument("run_dir", nargs="?", default=".", help="the folder of a finished full or smoke run (default: .)")
    explore.add_argument("--port", type=int, default=0, help="TCP port on 127.0.0.1 (default 0: a free one, printed)")
    explore.add_argument("--seed", type=int, default=None, help="the map's seed (default: the run's first seed)")
    explore.add_argument("--threads", type=int, default=1, help="torch threads of the classifier (default 1)")
    if argv[:1] == ["run"] and len(argv) >= 2:
        stage, rest = argv[1], argv[2:]
    else:
        a = p.parse_args(argv)
        if a.command == "list":
            found = stages()
            width = max(map(len, found), default=0)
            for name, doc in sorted(found.items()):
                print(f"{name:<{width}}  {doc}")
            return 0
        if a.command == "explore":
            return _explore(a)
        p.error("run needs a stage name; see 'musicsom list'")
    found = stages()
    if stage not in found:
        close = [s for s in found if stage in s]
        hint = f" Did you mean {', '.join(close)}?" if close else " See 'musicsom list'."
        print(f"musicsom: no stage {stage!r}.{hint}", file=sys.stderr)
        return 2
    sys.argv = [f"musicsom run {stage}", *rest]
    try:
        runpy.run_module(PREFIX + stage, run_name="__main__", alter_sys=True)
    except ImportError as exc:
        print(f"musicsom: stage {stage} needs the pipeline's dependencies ({exc}); "
              'install them with: pip install "musicsom[pipeline]"', file=sys.stderr)
        return 1
    return 0
