"""Job resources of the Snakemake rules (threads, mem_mb, runtime) from the table workflow/resources.yaml.

The table holds, per rule, the threads it runs on and the peak memory and wall time measured for it
at a reference configuration (the sizes under ``reference_sizes``, those of the repository's
config.yaml). A rule whose work grows with the config names a *size* (:func:`job_sizes`, e.g.
SOM units × samples × dimension × epochs); its measured numbers scale linearly in the ratio of the
run's size to the reference size above a fixed base (the interpreter and its imports), then get
the table's headroom and are rounded up. A retried job (Snakemake's ``attempt``) asks for
``attempt`` times as much, so a job killed for memory or time on a cluster comes back with more.

Pure functions of the parsed table and the config: the workflow reads the YAML file (common.smk).
"""

from __future__ import annotations

import math

# rule keys of the table: threads and the measurement at the reference configuration
RULE_KEYS = {"threads", "mem_mb", "seconds", "size", "source"}


def job_sizes(config: dict) -> dict[str, float]:
    """The named sizes a rule's memory and time scale with, from a (defaults-filled) config.

    ``n_train`` / ``n_faces`` of 0 mean "all": the full MNIST (60000) and LFW (13233) counts.
    """
    g, m, f = config["gmm"], config["mnist"], config["faces"]
    mnist_n = int(m["n_train"]) or 60000
    mnist_d = 784 if str(m["dim"]) == "full" else int(m["dim"])
    faces_n = int(f["n_faces"]) or 13233
    mnist_k = int(m["som"]["rows"]) * int(m["som"]["cols"])
    faces_k = int(f["som"]["rows"]) * int(f["som"]["cols"])
    gmm_k = int(g["som"]["rows"]) * int(g["som"]["cols"])
    return {
        "gmm_som": float(gmm_k * int(g["mixture"]["n_train"]) * int(g["mixture"]["dim"]) * int(g["som"]["epochs"])),
        "mnist_som": float(mnist_k * mnist_n * mnist_d * int(m["som"]["epochs"])),
        "mnist_kmeans": float(mnist_k * mnist_n * mnist_d * int(config["kmeans"]["max_iter"])),
        "mnist_vae": float(mnist_n * int(m["vae"]["epochs"])),
        "mnist_classifier": float(mnist_n * int(m["classifier"]["epochs"])),
        "faces_som": float(faces_k * faces_n * int(f["pca_components"]) * int(f["som"]["epochs"])),
        "faces_autoencoder": float(faces_n * int(f["autoencoder"]["epochs"])),
        "faces_frames": float(int(f["starts"]["n_starts"]) * (int(f["free"]["n_steps"]) + int(f["informed"]["n_steps"]))),
        "lfw": float(faces_n),
    }


def check_table(table: dict) -> list[str]:
    """Problems of a parsed resources table (empty when it is well formed)."""
    problems = []
    for key in ("headroom", "minimum", "base", "reference_sizes", "rules"):
        if key not in table:
            problems.append(f"missing top-level key {key!r}")
    if problems:
        return problems
    for name, entry in table["rules"].items():
        unknown = set(entry) - RULE_KEYS
        if unknown:
            problems.append(f"rules.{name}: unknown keys {sorted(unknown)} (allowed: {sorted(RULE_KEYS)})")
        for key in ("threads", "mem_mb", "seconds"):
            if not isinstance(entry.get(key), (int, float)) or entry[key] <= 0:
                problems.append(f"rules.{name}.{key} must be a positive number; got {entry.get(key)!r}")
        size = entry.get("size")
        if size is not None and size not in table["reference_sizes"]:
            problems.append(f"rules.{name}.size = {size!r} is not one of reference_sizes {sorted(table['reference_sizes'])}")
    return problems


def _scaled(measured: float, base: float, ratio: float) -> float:
    """``measured`` at ratio 1, ``base`` + the rest scaled by ``ratio`` elsewhere (never below ``base``)."""
    base = min(base, measured)
    return base + (measured - base) * max(ratio, 0.0)


def rule_resources(table: dict, name: str, sizes: dict[str, float] | None = None, attempt: int = 1) -> dict[str, int]:
    """``threads``, ``mem_mb`` and ``runtime`` (minutes) of rule ``name`` for a run of the given sizes.

    ``sizes`` (:func:`job_sizes` of the run's config) scale a rule that names a size; without it, or
    for a rule without a size, the measured numbers are used as they are. ``attempt`` (1 = first
    try) multiplies memory and time.
    """
    try:
        entry = table["rules"][name]
    except KeyError:
        raise KeyError(f"rule {name!r} has no entry in workflow/resources.yaml (rules: {sorted(table['rules'])})") from None
    ratio = 1.0
    size = entry.get("size")
    if size is not None and sizes is not None:
        ratio = float(sizes[size]) / float(table["reference_sizes"][size])
    head, low, base = table["headroom"], table["minimum"], table["base"]
    mem = _scaled(float(entry["mem_mb"]), float(base["mem_mb"]), ratio) * float(head["mem"])
    secs = _scaled(float(entry["seconds"]), float(base["seconds"]), ratio) * float(head["runtime"])
    step = int(low.get("mem_step_mb", 100))
    mem_mb = max(int(low["mem_mb"]), step * math.ceil(mem / step))
    runtime = max(int(low["runtime"]), math.ceil(secs / 60.0))
    attempt = max(1, int(attempt))
    return {"threads": int(entry["threads"]), "mem_mb": mem_mb * attempt, "runtime": runtime * attempt}
