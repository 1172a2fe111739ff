"""Run a command and report how many threads its process tree runs at once (the check of `--cores 2`).

    python tools/count_threads.py -- snakemake --cores 2 --forcerun mnist_som results/mnist/seed0/som.npz

Samples every ``--interval`` seconds (psutil, a Snakemake dependency) every process under the command: the threads that exist
and those in the running state (R: on a CPU or waiting for one), and each thread's CPU time. Prints,
per stage process (``python -m musicsom.pipeline.<stage>``), the most threads it had, the most that
ran at once, and how many threads used more than ``--busy`` CPU seconds in all; then the most
threads running at once in the whole tree. Not a pipeline rule: a measurement.
"""

from __future__ import annotations

import argparse
import subprocess
import time

import psutil


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--interval", type=float, default=0.05)
    p.add_argument("--busy", type=float, default=0.5, help="CPU seconds above which a thread counts as working")
    p.add_argument("command", nargs=argparse.REMAINDER)
    a = p.parse_args(argv)
    cmd = a.command[1:] if a.command[:1] == ["--"] else a.command
    proc = subprocess.Popen(cmd)
    root = psutil.Process(proc.pid)
    stats: dict[int, dict] = {}
    tree_max = 0
    while proc.poll() is None:
        running_tree = 0
        try:
            procs = [root, *root.children(recursive=True)]
        except psutil.NoSuchProcess:
            break
        for pr in procs:
            try:
                cmdline = pr.cmdline()
                threads = pr.threads()
                running = 0
                for t in threads:
                    try:
                        with open(f"/proc/{pr.pid}/task/{t.id}/stat") as f:
                            state = f.read().rsplit(")", 1)[1].split()[0]
                    except OSError:
                        continue
                    running += state == "R"
            except (psutil.NoSuchProcess, psutil.AccessDenied):
                continue
            running_tree += running
            if "-m" in cmdline and any(c.startswith("musicsom.pipeline.") for c in cmdline):
                stage = next(c for c in cmdline if c.startswith("musicsom.pipeline."))
                s = stats.setdefault(pr.pid, {"stage": stage, "threads": 0, "running": 0, "cpu": {}})
                s["threads"] = max(s["threads"], len(threads))
                s["running"] = max(s["running"], running)
                for t in threads:
                    s["cpu"][t.id] = t.user_time + t.system_time
        tree_max = max(tree_max, running_tree)
        time.sleep(a.interval)
    for pid, s in stats.items():
        busy = sum(v > a.busy for v in s["cpu"].values())
        print(f"{s['stage']} (pid {pid}): at most {s['threads']} threads, at most {s['running']} running at once, "
              f"{busy} used > {a.busy} s of CPU (thread CPU seconds: {sorted(round(v, 1) for v in s['cpu'].values() if v > 0.05)})")
    print(f"whole process tree: at most {tree_max} threads running at once; exit status {proc.returncode}")
    return proc.returncode


if __name__ == "__main__":
    raise SystemExit(main())
