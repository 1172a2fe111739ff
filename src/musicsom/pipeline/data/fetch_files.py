"""Stage: fetch named data files into the raw data folder, each verified against its pinned hashes.

    python -m musicsom.pipeline.data.fetch_files --group lfw --mirror ../shared/data --raw-dir results/data/raw
    python -m musicsom.pipeline.data.fetch_files --mirror "" lfw/lfw-deepfunneled.tgz lfw/pairs.txt

Names are registry keys (``musicsom.pipeline.datasets.REGISTRY``; ``--list`` prints them), ``--group`` names a
dataset's files (``musicsom.pipeline.datasets.GROUPS``); each file lands at ``--raw-dir/<name>``. Sources: the
mirror (``--mirror``; when empty, ``$MUSICSOM_DATA_MIRROR``), else the canonical URLs.
"""

from __future__ import annotations

import logging
import time

from musicsom.pipeline import files
from musicsom.pipeline.data import add_mirror_arg
from musicsom.pipeline.datasets.fetch import GROUPS, REGISTRY, fetch_file

log = logging.getLogger("musicsom.pipeline.data.fetch_files")


def main(argv=None):
    p = files.parser(__doc__.splitlines()[0])
    p.add_argument("names", nargs="*", help="registry names of the files to fetch")
    p.add_argument("--group", choices=sorted(GROUPS), action="append", default=[],
                   help="fetch every file of a dataset (repeat for several)")
    add_mirror_arg(p, required=False)  # required to fetch, not to --list
    p.add_argument("--raw-dir", default="results/data/raw", help="folder of the verified downloads")
    p.add_argument("--list", action="store_true", help="print the registry and exit")
    p.add_argument("--no-progress", action="store_true", help="no download progress bar")
    args = p.parse_args(argv)

    if args.list:
        for name, f in REGISTRY.items():
            print(f"{name}\t{f.accepted[0]}\t{f.urls[0]}")
        return
    names = list(args.names) + [n for g in args.group for n in GROUPS[g]]
    unknown = [n for n in names if n not in REGISTRY]
    if unknown:
        raise ValueError(f"unknown data files {unknown}; see `python -m musicsom.pipeline.data.fetch_files --list`")
    if not names:
        p.error("name at least one file or --group")
    if args.mirror is None:
        p.error("the following arguments are required to fetch: --mirror (empty for $MUSICSOM_DATA_MIRROR)")
    t0 = time.perf_counter()
    for name in names:
        fetch_file(name, args.raw_dir, args.mirror, progressbar=not args.no_progress)
    log.info("%d files verified in %.1f s", len(names), time.perf_counter() - t0)


if __name__ == "__main__":
    files.run_main(main)
