#!/usr/bin/env python3
"""A stand-in for sbatch (tests/test_cluster.py): run a Snakemake job script here, in the background.

    submit.py --ledger LEDGER --log-dir DIR --rule {rule} --jobid {jobid} --threads {threads} \
        --mem-mb {resources.mem_mb} --runtime {resources.runtime} JOBSCRIPT

Appends one tab-separated line per job to LEDGER (rule, jobid, threads, mem_mb, runtime, job script,
log), starts the job script with bash in a new session, its output in DIR/<rule>_<jobid>.log, and
prints an external job id (the process id) as a scheduler would. Snakemake's cluster-generic
executor then waits for the job's finished or failed marker, which the job script writes.
"""

import argparse
import os
import shutil
import subprocess
import sys


def main() -> int:
    p = argparse.ArgumentParser()
    for opt in ("--ledger", "--log-dir", "--rule", "--jobid", "--threads", "--mem-mb", "--runtime"):
        p.add_argument(opt, required=True)
    p.add_argument("jobscript")
    a = p.parse_args()
    os.makedirs(a.log_dir, exist_ok=True)
    log = os.path.join(a.log_dir, f"{a.rule}_{a.jobid}.log")
    # keep a copy of the job script (Snakemake deletes it once the job is done)
    kept = os.path.join(a.log_dir, f"{a.rule}_{a.jobid}.sh")
    shutil.copy(a.jobscript, kept)
    with open(log, "w") as out:
        proc = subprocess.Popen(["bash", a.jobscript], stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    with open(a.ledger, "a") as f:
        f.write(f"{a.rule}\t{a.jobid}\t{a.threads}\t{a.mem_mb}\t{a.runtime}\t{kept}\t{log}\n")
    print(proc.pid)
    return 0


if __name__ == "__main__":
    sys.exit(main())
