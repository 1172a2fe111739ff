"""End to end: wall time and peak memory per stage from the Snakemake benchmark files of a finished run.

    .venv/bin/python benchmarks/bench_end_to_end.py RUN_DIR --label full     # RUN_DIR holds results/ and .snakemake/
    .venv/bin/python benchmarks/bench_end_to_end.py /tmp/smoke --label smoke --no-doc

Reads every ``RUN_DIR/results/benchmarks/<stage>/<rule>[_seedN].tsv`` (columns s, max_rss, cpu_time,
... as Snakemake writes them), groups the jobs by stage (the sub-folder) and writes a per-stage
table (jobs, summed and longest job wall time, CPU time, largest resident set) plus the ten
longest jobs into docs/benchmarks.md between the ``e2e-<label>`` markers. The run's own wall
time comes from the first and last timestamps of Snakemake's newest log under
``RUN_DIR/.snakemake/log`` (``--wall`` overrides it). Jobs run two at a time on two cores, so the
summed job time exceeds the wall time; the run's peak memory is at most the sum of the two
largest job peaks.
"""

from __future__ import annotations

import argparse
import datetime as dt
import re
import sys
from pathlib import Path

import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))
import common  # noqa: E402

from musicsom.pipeline.report.markdown import read_benchmark_jobs  # noqa: E402

STAMP = re.compile(r"^\[(\w{3} \w{3} +\d+ \d\d:\d\d:\d\d \d{4})\]")
GIB = 1024.0


def read_benchmarks(run: Path) -> pd.DataFrame:
    df = read_benchmark_jobs(run / "results" / "benchmarks")
    if df.empty:
        raise SystemExit(f"no benchmark files under {run / 'results' / 'benchmarks'}; is {run} a finished run?")
    return df


def log_span(run: Path) -> tuple[float | None, str | None]:
    """Seconds between the first and last timestamps of the newest Snakemake log, and its name."""
    logs = sorted((run / ".snakemake" / "log").glob("*.snakemake.log"), key=lambda p: p.stat().st_mtime)
    for log in reversed(logs):
        stamps = [dt.datetime.strptime(" ".join(m.group(1).split()), "%a %b %d %H:%M:%S %Y")
                  for line in log.read_text(errors="replace").splitlines() if (m := STAMP.match(line))]
        if len(stamps) >= 2:
            return (max(stamps) - min(stamps)).total_seconds(), log.name
    return None, None


def newest_log(run: Path) -> Path | None:
    logs = sorted((run / ".snakemake" / "log").glob("*.snakemake.log"), key=lambda p: p.stat().st_mtime)
    return logs[-1] if logs else None


def schedule(log: Path, cores: int) -> dict | None:
    """How busy the cores were, from the start and finish lines of a Snakemake log (1-s resolution).

    Each job block (``[stamp]`` then ``rule NAME:`` ... ``jobid: N`` ... ``threads: T``; no threads line
    means 1) opens an interval that ``Finished jobid: N`` closes. The busy cores at a time are the summed
    threads of the jobs running then, capped at ``cores``; the idle-core share is
    ``1 − ∫busy dt / (cores · wall)``. The tail is the stretch at the end of the run during which at most
    one job ran: the time a 2-thread job waiting for both cores, or a last long job, leaves a core idle.
    """
    if log is None:
        return None
    start, threads, finish, names = {}, {}, {}, {}
    stamp = rule = current = None
    for line in log.read_text(errors="replace").splitlines():
        if m := STAMP.match(line):
            stamp = dt.datetime.strptime(" ".join(m.group(1).split()), "%a %b %d %H:%M:%S %Y")
            rule = current = None
        elif m := re.match(r"^(?:local)?rule (\w+):$", line):
            rule = m.group(1)
        elif rule and (m := re.match(r"^\s+jobid: (\d+)$", line)):
            current = int(m.group(1))
            start[current], names[current], threads[current] = stamp, rule, 1
        elif rule and current is not None and (m := re.match(r"^\s+threads: (\d+)$", line)):
            threads[current] = int(m.group(1))
        elif m := re.match(r"^Finished jobid: (\d+)", line):
            finish[int(m.group(1))] = stamp
    done = [j for j in start if j in finish]
    if not done:
        return None
    t0 = min(start[j] for j in done)
    t1 = max(finish[j] for j in done)
    wall = (t1 - t0).total_seconds()
    events = sorted([((start[j] - t0).total_seconds(), threads[j], 1) for j in done]
                    + [((finish[j] - t0).total_seconds(), -threads[j], -1) for j in done])
    busy_area, busy, running, last, tail_from = 0.0, 0, 0, 0.0, 0.0
    for t, d_threads, d_jobs in events:
        busy_area += min(busy, cores) * (t - last)
        busy, running, last = busy + d_threads, running + d_jobs, t
        if running >= 2:
            tail_from = t
    # the tail: from the last moment two or more jobs ran to the end
    tail_jobs = sorted({names[j] for j in done if (finish[j] - t0).total_seconds() > tail_from})
    return {"wall_s": wall, "idle_share": 1.0 - busy_area / (cores * wall) if wall > 0 else 0.0,
            "tail_s": wall - tail_from, "tail_rules": tail_jobs, "jobs": len(done), "cores": cores}


def render(run: Path, label: str, df: pd.DataFrame, wall: float | None, logname: str | None, rec: dict,
           sched: dict | None = None) -> str:
    stages = (
        df.groupby("stage")
        .agg(jobs=("job", "size"), wall_sum=("s", "sum"), wall_max=("s", "max"), cpu=("cpu_time", "sum"), rss=("max_rss", "max"))
        .sort_values("wall_sum", ascending=False)
    )
    total = float(df["s"].sum())
    rows = []
    for stage, r in stages.iterrows():
        top = df[df.stage == stage].sort_values("s").iloc[-1]
        big = df[df.stage == stage].sort_values("max_rss").iloc[-1]
        rows.append([stage, int(r.jobs), round(r.wall_sum, 1), f"{r.wall_sum / total:.0%}", f"{top.job} ({top.s:.1f} s)",
                     round(r.cpu, 1), f"{r.rss:.0f} ({big.job})"])
    rss_sorted = df["max_rss"].sort_values(ascending=False)
    peak_one = float(rss_sorted.iloc[0])
    peak_two = float(rss_sorted.iloc[:2].sum())
    dominant = stages.index[0]
    longest = df.sort_values("s", ascending=False).head(10)
    job_rows = [[r.job, round(r.s, 1), round(r.cpu_time, 1) if pd.notna(r.cpu_time) else "", f"{r.max_rss:.0f}"] for r in longest.itertuples()]
    wall_txt = f"{wall / 60:.1f} min ({wall:.0f} s, from {logname})" if wall is not None else "unknown (no Snakemake log)"
    out = [
        f"### End to end: {label} config\n\n",
        # the machine record is taken when the table is made, after the run: its load is not the run's; the run
        # folder is this machine's own, so the command names it RUN_DIR
        common.machine_lines(rec).replace("- command:", "- table made by:").replace(str(run), "RUN_DIR")
        .replace("- load at start (`uptime`)", "- load when the table was made (`uptime`; not the run's)").replace("CPU steal at start", "CPU steal then"),
        f"- run wall time: **{wall_txt}**; summed job time {total / 60:.1f} min over {len(df)} jobs\n",
        f"- peak memory: largest job {peak_one / GIB:.2f} GiB ({df.loc[rss_sorted.index[0], 'job']}); "
        f"at most {peak_two / GIB:.2f} GiB with the two largest running together\n",
        (f"- schedule ({sched['jobs']} jobs on {sched['cores']} cores, from the log's start and finish lines): "
         f"**idle-core share {sched['idle_share']:.1%}**; the last {sched['tail_s'] / 60:.1f} min ran one job at a time "
         f"({', '.join(sched['tail_rules'])})\n" if sched else "- schedule: unknown (no Snakemake log)\n"),
        f"- dominant stage: **{dominant}** ({stages.loc[dominant, 'wall_sum'] / total:.0%} of the summed job time)\n\n",
        common.md_table(["stage", "jobs", "job time (s)", "share", "longest job", "CPU time (s)", "max RSS (MiB)"], rows),
        "\nLongest jobs:\n\n",
        common.md_table(["job", "wall (s)", "CPU (s)", "max RSS (MiB)"], job_rows),
    ]
    return "".join(out)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("run", type=Path, nargs="+",
                    help="the run's working directory (holds results/ and .snakemake/); several = partial runs of one config, one stage each, merged")
    ap.add_argument("--label", default="full", help="section name: e2e-<label> (full, smoke, ...)")
    ap.add_argument("--wall", type=float, help="the run's wall time in seconds, if measured outside Snakemake")
    ap.add_argument("--cores", type=int, default=2, help="the cores the run was given (--cores), for the idle-core share")
    ap.add_argument("--no-doc", action="store_true")
    args = ap.parse_args(argv)
    runs = [r.resolve() for r in args.run]
    frames, walls = [], []
    for run in runs:
        frame = read_benchmarks(run)
        frame["run"] = str(run)
        frames.append(frame)
        walls.append((args.wall, "--wall") if args.wall else log_span(run))
    # a job present in several partial runs counts once (the last run given wins)
    df = pd.concat(frames).drop_duplicates("job", keep="last").reset_index(drop=True)
    if len(runs) == 1:
        wall, logname = walls[0]
    else:
        known = [w for w, _ in walls if w is not None]
        wall = sum(known) if known else None
        logname = "sum of the newest logs of " + ", ".join(f"{r.name} ({w / 60:.1f} min)" for r, (w, _) in zip(runs, walls) if w is not None)
    rec = common.machine_record()
    sched = schedule(newest_log(runs[0]), args.cores) if len(runs) == 1 else None
    text = render(runs[0] if len(runs) == 1 else Path(" + ".join(str(r) for r in runs)), args.label, df, wall, logname, rec, sched)
    common.save_json(f"bench_end_to_end_{args.label}", {"runs": [str(r) for r in runs], "wall_s": wall, "schedule": sched,
                                                         "jobs": df.to_dict(orient="records")})
    print(text)
    if not args.no_doc:
        common.write_section(f"e2e-{args.label}", text)


if __name__ == "__main__":
    main()
