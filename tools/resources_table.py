"""Print the resources table (per rule: threads, measured peak, declared mem_mb, measured time, declared runtime).

    python tools/resources_table.py                          # the declarations for config.yaml
    python tools/resources_table.py --config tests/smoke/config.yaml
    python tools/resources_table.py --run /tmp/fullrun       # + that run's measured peaks and times
    python tools/resources_table.py --run /tmp/fullrun --update "full run of 2026-12-02"

Reads workflow/resources.yaml and a configuration (defaults filled from the schema) and prints a
Markdown table of what each job rule declares. With ``--run`` (a finished run folder holding
``results/benchmarks`` and ``.snakemake/log``) it adds, per rule, the largest ``max_rss`` and ``s`` of
its jobs' benchmark TSVs (the rule of each TSV read from the run's Snakemake logs) and flags a
rule whose jobs used more than it declares. ``--update LABEL`` (with ``--run`` of a run of
config.yaml) writes that run's measurements into workflow/resources.yaml: each measured rule's
``mem_mb`` and ``seconds`` become the largest of its jobs, its ``source`` becomes ``LABEL``; comments,
sizes and rules the run did not measure stay as they are. Not a pipeline rule: it checks the table
against a run.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path

import pandas as pd
import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from musicsom.pipeline import resource_table

RULE = re.compile(r"^(?:local)?rule (\w+):$")
BENCH = re.compile(r"^\s+benchmark: (\S+)$")


def load_config(path: Path) -> dict:
    from snakemake.utils import validate

    cfg = yaml.safe_load(path.read_text()) or {}
    validate(cfg, str(ROOT / "workflow" / "schemas" / "config.schema.yaml"))  # fills the defaults
    return cfg


def run_measurements(run: Path) -> pd.DataFrame:
    """Per rule: jobs, largest max_rss (MB) and s of the benchmark TSVs of a finished run."""
    rule_of = {}
    for log in sorted((run / ".snakemake" / "log").glob("*.snakemake.log")):
        rule = None
        for line in log.read_text(errors="replace").splitlines():
            if m := RULE.match(line):
                rule = m.group(1)
            elif (m := BENCH.match(line)) and rule:
                rule_of[m.group(1)] = rule
    rows = []
    for tsv in sorted((run / "results" / "benchmarks").rglob("*.tsv")):
        rel = str(tsv.relative_to(run))
        frame = pd.read_csv(tsv, sep="\t")
        if rel in rule_of and not frame.empty:
            rows.append({"rule": rule_of[rel], "max_rss": float(frame["max_rss"].iloc[-1]), "s": float(frame["s"].iloc[-1])})
    df = pd.DataFrame(rows, columns=["rule", "max_rss", "s"])
    return df.groupby("rule").agg(jobs=("s", "size"), run_peak_mb=("max_rss", "max"), run_s=("s", "max"))


ENTRY = re.compile(r"^(  )(\w+): (\{.*\})\s*$")


SIZE = re.compile(r"^(  )(\w+): (\d+)\s*$")


def update_table(path: Path, measured: pd.DataFrame, label: str, sizes: dict) -> int:
    """Rewrite the measured rules' entries of the resources table in place (one flow mapping per line).

    The download rules keep their allowances (a run from a mirror copies, it does not download), and
    ``reference_sizes`` become the run's ``sizes``, the configuration the new numbers were measured at.
    """
    lines, changed, section = [], 0, None
    for line in path.read_text().splitlines():
        if re.match(r"^\w", line):
            section = line.split(":")[0]
        m = ENTRY.match(line)
        s = SIZE.match(line)
        if section == "reference_sizes" and s and s.group(2) in sizes:
            line = f"{s.group(1)}{s.group(2)}: {int(round(sizes[s.group(2)]))}"
        elif m and m.group(2) in measured.index and not m.group(2).startswith("data_fetch"):
            entry = yaml.safe_load(m.group(3))
            row = measured.loc[m.group(2)]
            entry["mem_mb"] = round(float(row["run_peak_mb"]))
            entry["seconds"] = round(float(row["run_s"]), 1)
            n = int(row["jobs"])
            entry["source"] = f"{label}: the largest of {n} job{'s' if n > 1 else ''}"
            items = ", ".join(f"{k}: {json.dumps(v) if isinstance(v, str) else v}" for k, v in entry.items())
            line = f"{m.group(1)}{m.group(2)}: {{{items}}}"
            changed += 1
        lines.append(line)
    table = yaml.safe_load("\n".join(lines))
    problems = resource_table.check_table(table)
    if problems:
        raise SystemExit("the updated table is invalid: " + "; ".join(problems))
    path.write_text("\n".join(lines) + "\n")
    print(f"updated {changed} rules of {path}")
    return 0


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--config", type=Path, default=None, help="config file (default: RUN/config.yaml, else config.yaml)")
    p.add_argument("--run", type=Path, default=None, help="a finished run folder to compare with")
    p.add_argument("--update", metavar="LABEL", default=None,
                   help="write the run's measurements into workflow/resources.yaml, with LABEL as their source")
    a = p.parse_args(argv)
    if a.update is not None:
        if a.run is None:
            p.error("--update needs --run")
        sizes = resource_table.job_sizes(load_config(a.config or a.run / "config.yaml"))
        return update_table(ROOT / "workflow" / "resources.yaml", run_measurements(a.run), a.update, sizes)
    config_path = a.config or (a.run / "config.yaml" if a.run and (a.run / "config.yaml").exists() else ROOT / "config.yaml")
    table = yaml.safe_load((ROOT / "workflow" / "resources.yaml").read_text())
    problems = resource_table.check_table(table)
    if problems:
        raise SystemExit("workflow/resources.yaml: " + "; ".join(problems))
    sizes = resource_table.job_sizes(load_config(config_path))
    measured = run_measurements(a.run) if a.run else None
    head = ["rule", "threads", "peak at reference (MB)", "declared mem_mb", "time at reference (s)", "declared runtime (min)", "source"]
    if measured is not None:
        head += ["jobs in run", "run peak (MB)", "run time (s)", "fits"]
    print(f"Declared for {config_path} (headroom: memory ×{table['headroom']['mem']}, time ×{table['headroom']['runtime']}; "
          f"at least {table['minimum']['mem_mb']} MB and {table['minimum']['runtime']} min)\n")
    print("| " + " | ".join(head) + " |")
    print("|" + "---|" * len(head))
    over = 0
    for name, entry in table["rules"].items():
        r = resource_table.rule_resources(table, name, sizes)
        row = [f"`{name}`", str(r["threads"]), f"{entry['mem_mb']:g}", str(r["mem_mb"]), f"{entry['seconds']:g}", str(r["runtime"]),
               str(entry.get("source", "")).split(" (")[0]]
        if measured is not None:
            if name in measured.index:
                m = measured.loc[name]
                fits = m["run_peak_mb"] <= r["mem_mb"] and m["run_s"] <= 60 * r["runtime"]
                over += not fits
                row += [str(int(m["jobs"])), f"{m['run_peak_mb']:.0f}", f"{m['run_s']:.1f}", "yes" if fits else "**no**"]
            else:
                row += ["0", "", "", ""]
        print("| " + " | ".join(row) + " |")
    if measured is not None:
        missing = sorted(set(measured.index) - set(table["rules"]))
        if missing:
            print(f"\nrules measured in the run but not in the table: {', '.join(missing)}")
        print(f"\n{over} rule(s) used more than they declare")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
