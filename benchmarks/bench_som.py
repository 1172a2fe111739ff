"""SOM training time per batch epoch against the GEMM floor, a plain numpy SOM and the peers, quiet and beside a busy process.

    .venv/bin/python benchmarks/bench_som.py                                  # the table of docs/benchmarks.md
    .venv/bin/python benchmarks/bench_som.py --cases small --conditions quiet --repeats 3 --no-doc

Cases (Gaussian mixtures, ``common.gaussian_mixture``; rectangular lattices, σ from half the larger
side down to 1, Gaussian neighbourhood ``exp(−d²/2σ²)``):

* ``small``: 20,000 × 50, 30×30 map;
* ``large``: 60,000 × 100, 40×40 map.

Libraries:

* ``musicsom`` / ``musicsom_f32``: ``musicsom.som.SOM`` with float64 / float32 BMU search
  (``n_threads`` = the CPUs of the process);
* ``plain`` / ``plain_f32``: the textbook two-GEMM numpy batch SOM (``common.plain_batch_som``):
  the distance product per chunk of 4096 rows with numpy's BLAS at its default thread count, argmin,
  per-unit sums with ``np.add.at``, then the dense K × K neighbourhood product: what a careful
  numpy user writes, and the reference the targets are stated against;
* ``intrasom`` (``faster=True``, its fastest mode) and ``xpysom`` (numpy backend, float32 as it
  ships) run in their own virtual environment (``MUSICSOM_PEERS_PYTHON``): their licences
  (intrasom: CC BY-NC-SA 4.0) and dependencies stay out of the project;
* ``minisom``: MiniSom's batch algorithm, ``train_batch_offline`` (Kohonen 2013, as it documents:
  one update per pass over the data), with ``learning_rate=1`` held constant (the plain batch rule
  ``W = H S / (H n)``), its Gaussian neighbourhood and PCA init, σ from half the larger side decaying
  to 1 (``inverse_decay_to_one``: MiniSom offers no geometric decay; its epoch costs the same for
  any σ). It runs in the project's environment (MiniSom is a test dependency). Its epoch is a Python
  loop over the samples, seconds long, so its runs are 1 and 3 epochs (after a 1-epoch warm-up), not
  ``--short``/``--long``: the per-epoch difference is measured the same way, and setup costs are
  negligible beside it. Its QE/TE are therefore those of a 3-epoch map.

Per-epoch time is the same for every library: a fresh subprocess trains ``--short`` epochs once
untimed (a warm-up, so that one-time costs of the first call in a process are not charged to the
short run), then ``--short`` and ``--long`` epochs (each from a fresh object, imports and data
loading untimed), and the time per epoch is the difference divided by the difference of the epoch
counts, so that initialisation and setup cancel. QE/TE come from one function
(``common.som_quality``) applied to the prototypes of the long run.

Conditions: ``quiet`` (nothing else running), and ``busy``: one CPU-bound process (a
single-threaded matrix-product loop, as a sibling Snakemake job on a 2-core machine) runs
throughout every timing of the condition. Runs are interleaved round-robin (repeat 1 of every
library, then repeat 2, ...) with a GEMM-rate measurement in each round (float64 and float32,
1500³, numpy's default thread count), so that every library sees the same background. The floor of
one epoch is ``2·N·K·(D+1)`` flops at the round's measured rate of the matching precision. The
table reports medians over the repeats.

Peers (never a project dependency):

    python3 -m venv .peers-venv && .peers-venv/bin/pip install numpy==2.4.6 xpysom==1.0.7 intrasom==1.1.3
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import common  # noqa: E402

PEERS_PY = Path(os.environ.get("MUSICSOM_PEERS_PYTHON", Path(__file__).resolve().parent.parent / ".peers-venv" / "bin" / "python"))
LIBS = ["plain", "plain_f32", "musicsom", "musicsom_f32", "intrasom", "xpysom", "minisom"]
# (short, long) epochs for a library whose epochs are too slow for --short/--long (see the docstring)
EPOCHS = {"minisom": (1, 3)}
CASES = {
    # name: (n, d, grid)
    "small": (20000, 50, (30, 30)),
    "large": (60000, 100, (40, 40)),
}
CONDITIONS = ["quiet", "busy"]
BUSY_LOOP = "import numpy as np\na = np.random.default_rng(0).standard_normal((400, 400))\nwhile True:\n    a @ a\n"


def load_case(case: str) -> Path:
    """The case's data file (.npy in the cache), created on first use."""
    n, d, _ = CASES[case]
    path = common.CACHE / f"som_{case}_{n}x{d}.npy"
    if not path.exists():
        common.CACHE.mkdir(parents=True, exist_ok=True)
        np.save(path, common.gaussian_mixture(n, d, 10, 0))
    return path


def sigmas(grid, epochs: int) -> tuple[float, float]:
    return max(grid) / 2.0, 1.0


# ---------------------------------------------------------------- one training (inside a worker subprocess)
def train(lib: str, X: np.ndarray, grid, epochs: int) -> tuple[np.ndarray, float]:
    """Train ``lib`` for ``epochs`` batch epochs; return (prototypes K × D float64, seconds of the training call)."""
    rows, cols = grid
    n, D = X.shape
    s0, s1 = sigmas(grid, epochs)
    if lib.startswith("musicsom"):
        from musicsom.som import SOM

        som = SOM(grid, "rectangular", epochs, s0, s1, "pca", 0, bmu_dtype="float32" if lib.endswith("f32") else "float64")
        t0 = time.perf_counter()
        som.fit(X)
        return som.prototypes_, time.perf_counter() - t0
    if lib.startswith("plain"):
        from musicsom.som import SOM

        som = SOM(grid, "rectangular", epochs, s0, s1, "pca", 0)
        W0 = som.initial_prototypes(X, grid)  # the same start as musicsom's, outside the timing
        t0 = time.perf_counter()
        W = common.plain_batch_som(X, W0, grid, som.sigmas(grid), np.float32 if lib.endswith("f32") else np.float64)
        return W, time.perf_counter() - t0
    if lib == "xpysom":
        from xpysom import XPySom

        X32 = X.astype(np.float32)
        som = XPySom(rows, cols, D, sigma=s0, sigmaN=s1, decay_function="exponential", std_coeff=1.0, random_seed=0, xp=np)
        t0 = time.perf_counter()
        som.pca_weights_init(X32)
        som.train(X32, epochs)
        return np.asarray(som.get_weights(), np.float64).reshape(rows * cols, D), time.perf_counter() - t0
    if lib == "minisom":
        from minisom import MiniSom

        som = MiniSom(rows, cols, D, sigma=s0, learning_rate=1.0, decay_function=_constant_rate,
                      neighborhood_function="gaussian", sigma_decay_function="inverse_decay_to_one", random_seed=0)
        som.pca_weights_init(X)
        t0 = time.perf_counter()
        som.train_batch_offline(X, epochs)
        seconds = time.perf_counter() - t0
        return np.asarray(som.get_weights(), np.float64).reshape(rows * cols, D), seconds  # (rows, cols, D): row-major
    if lib == "intrasom":
        import contextlib
        import io

        from intrasom import SOMFactory

        with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
            som = SOMFactory.build(X, mapsize=(cols, rows), mapshape="planar", lattice="rect", normalization=None,
                                   initialization="pca", neighborhood="gaussian", training="batch", faster=True)
            som.codebook.pca_linear_initialization(som.get_data)
            # what train() sets before its epochs (train() itself adds a second, "fine-tune" phase)
            som.bootstrap, som.bootstrap_proportion, som.actual_train = False, 0.8, "Rough"
            som.history_plot, som.previous_epoch, som.total_radius, som.save, som.summary = False, True, s0, False, False
            som.train_rough_len, som.train_rough_radiusin, som.train_rough_radiusfin = epochs, s0, s1
            som.train_finetune_len, som.train_finetune_radiusin, som.train_finetune_radiusfin = 0, s1, s1
            t0 = time.perf_counter()
            som._batchtrain(epochs, s0, s1, -1, False)  # the batch epochs alone (train() adds file output and summaries)
            seconds = time.perf_counter() - t0
        # intrasom orders units column-major ((cols, rows) map size): reorder to row-major rows × cols
        W = np.asarray(som.codebook.matrix, np.float64)
        return reorder_intrasom(W, rows, cols, som), seconds
    raise ValueError(f"unknown library {lib!r}")


def _constant_rate(learning_rate, t, max_iter):
    """MiniSom's learning-rate schedule for the plain batch rule: the rate (1) at every epoch."""
    return learning_rate


def reorder_intrasom(W: np.ndarray, rows: int, cols: int, som) -> np.ndarray:
    """intrasom's units in the row-major (row, col) order of the other libraries, read from its lattice coordinates."""
    try:
        coords = np.asarray(som.neurons_dataframe[["Ret_x", "Ret_y"]], np.float64)
    except Exception:  # noqa: BLE001 - its layout is an implementation detail: fall back to its documented order
        return W
    x = np.rint(coords[:, 0] - coords[:, 0].min()).astype(int)
    y = np.rint(coords[:, 1] - coords[:, 1].min()).astype(int)
    order = np.lexsort((x, y))
    return W[order]


def worker(args) -> None:
    X = np.load(args.data)
    os.chdir(tempfile.mkdtemp(prefix="bench_som_worker_"))  # intrasom writes Results/params_*.json into the working directory
    grid = CASES[args.case][2]
    short, long = EPOCHS.get(args.worker, (args.short, args.long))
    # an untimed warm-up run first: one-time costs of the first call in a process (lazy imports such as
    # threadpoolctl or scipy.sparse, thread-pool start-up, first-touch page faults) would otherwise fall
    # on the short run alone and bias the difference (one such run read 4.8 ms/epoch where 11 is right)
    train(args.worker, X, grid, short)
    _, t_short = train(args.worker, X, grid, short)
    W, t_long = train(args.worker, X, grid, long)
    np.save(args.out + ".npy", W)
    Path(args.out + ".json").write_text(json.dumps({"short_s": t_short, "long_s": t_long, "short": short, "long": long,
                                                    "per_epoch_s": (t_long - t_short) / (long - short)}))


def rates_worker(args) -> None:
    Path(args.out + ".json").write_text(json.dumps({"float64": common.gemm_rate(dtype=np.float64),
                                                    "float32": common.gemm_rate(dtype=np.float32)}))


# ---------------------------------------------------------------- driver
def python_for(lib: str) -> Path:
    return PEERS_PY if lib in ("intrasom", "xpysom") else Path(sys.executable)


def available(lib: str) -> str | None:
    """None if the library imports in its environment, else the reason."""
    py = python_for(lib)
    if not py.exists():
        return f"{py} missing (create the peers venv, see the docstring)"
    mod = "musicsom" if lib.startswith(("musicsom", "plain")) else lib
    proc = subprocess.run([str(py), "-c", f"import {mod}"], capture_output=True, text=True, timeout=300)
    return None if proc.returncode == 0 else (proc.stderr.strip().splitlines() or ["import failed"])[-1]


def run_worker(lib: str, case: str, args, tmp: Path) -> dict:
    out = tmp / f"{lib}_{case}"
    cmd = [str(python_for(lib)), __file__, "--worker", lib, "--case", case, "--data", str(load_case(case)),
           "--short", str(args.short), "--long", str(args.long), "--out", str(out)]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=args.timeout, env=dict(os.environ, PYTHONWARNINGS="ignore"))
    if proc.returncode != 0:
        raise RuntimeError(f"{lib} on {case} failed:\n{proc.stderr[-3000:]}")
    res = json.loads(Path(str(out) + ".json").read_text())
    res["W"] = np.load(str(out) + ".npy")
    return res


def measure_rates(tmp: Path) -> dict:
    out = tmp / "rates"
    subprocess.run([sys.executable, __file__, "--rates-worker", "--out", str(out)], check=True, timeout=600)
    return json.loads(Path(str(out) + ".json").read_text())


def start_busy() -> subprocess.Popen:
    env = dict(os.environ, OPENBLAS_NUM_THREADS="1", OMP_NUM_THREADS="1", MKL_NUM_THREADS="1")
    proc = subprocess.Popen([sys.executable, "-c", BUSY_LOOP], env=env, start_new_session=True)
    time.sleep(2.0)  # let it reach its loop before the first timing
    return proc


def stop_busy(proc: subprocess.Popen | None) -> None:
    if proc is not None and proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=30)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--cases", nargs="+", default=list(CASES), choices=list(CASES))
    ap.add_argument("--libs", nargs="+", default=LIBS, choices=LIBS)
    ap.add_argument("--conditions", nargs="+", default=CONDITIONS, choices=CONDITIONS)
    ap.add_argument("--short", type=int, default=2, help="epochs of the short run")
    ap.add_argument("--long", type=int, default=12, help="epochs of the long run")
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--section", default="som", help="docs/benchmarks.md section to (re)write")
    ap.add_argument("--timeout", type=float, default=1800, help="seconds per worker")
    ap.add_argument("--no-doc", action="store_true", help="print the table; leave docs/benchmarks.md alone")
    ap.add_argument("--worker", choices=LIBS, help=argparse.SUPPRESS)
    ap.add_argument("--rates-worker", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--case", choices=list(CASES), help=argparse.SUPPRESS)
    ap.add_argument("--data", help=argparse.SUPPRESS)
    ap.add_argument("--out", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.worker:
        return worker(args)
    if args.rates_worker:
        return rates_worker(args)
    if args.long <= args.short:
        ap.error("--long must exceed --short")

    rec = common.machine_record()
    missing = {lib: why for lib in args.libs if (why := available(lib))}
    libs = [lib for lib in args.libs if lib not in missing]
    for lib, why in missing.items():
        print(f"skipping {lib}: {why}", flush=True)
    results: dict = {"machine": rec, "short": args.short, "long": args.long, "repeats": args.repeats, "missing": missing, "runs": {}}
    with tempfile.TemporaryDirectory(prefix="bench_som_") as tmpdir:
        tmp = Path(tmpdir)
        for condition in args.conditions:
            busy = start_busy() if condition == "busy" else None
            try:
                for case in args.cases:
                    n, d, grid = CASES[case]
                    K = grid[0] * grid[1]
                    runs: dict[str, list] = {lib: [] for lib in libs}
                    rates = []
                    for rep in range(args.repeats):
                        rates.append(measure_rates(tmp))
                        for lib in libs:
                            r = run_worker(lib, case, args, tmp)
                            runs[lib].append(r)
                            print(f"{condition} {case} rep {rep + 1}: {lib:13s} {r['per_epoch_s'] * 1e3:8.1f} ms/epoch", flush=True)
                    X = np.load(load_case(case))
                    rows = {}
                    for lib in libs:
                        per = [r["per_epoch_s"] for r in runs[lib]]
                        qe, te = common.som_quality(X, runs[lib][0]["W"], grid, "rectangular")
                        rows[lib] = {"per_epoch_s": per, "median_ms": float(np.median(per)) * 1e3, "qe": qe, "te": te}
                    results["runs"][f"{condition}/{case}"] = {
                        "condition": condition, "case": case, "n": n, "d": d, "grid": grid, "K": K,
                        "epoch_flops": common.batch_epoch_flops(n, K, d), "rates": rates, "libs": rows,
                    }
                    common.save_json(f"bench_{args.section}", results)
            finally:
                stop_busy(busy)
    text = render(results)
    print(text)
    if not args.no_doc:
        common.write_section(args.section, text)


def _floor_ms(run: dict, precision: str) -> float:
    return run["epoch_flops"] / float(np.median([r[precision] for r in run["rates"]])) * 1e3


def render(results) -> str:
    rec = results["machine"]
    out = [f"### SOM training: time per batch epoch ((t({results['long']} epochs) − t({results['short']})) / "
           f"{results['long'] - results['short']}, median of {results['repeats']} interleaved runs)\n", common.machine_lines(rec)]
    for lib, why in results["missing"].items():
        out.append(f"- not run: {lib}: {why}\n")
    header = ["condition", "case", "floor f64 / f32 (ms)", *[f"{lib} (ms)" for lib in LIBS if any(lib in r["libs"] for r in results["runs"].values())]]
    libs = header[3:]
    rows = []
    for run in results["runs"].values():
        f64, f32 = _floor_ms(run, "float64"), _floor_ms(run, "float32")
        row = [run["condition"], f"{run['n'] // 1000}k × {run['d']}, {run['grid'][0]}×{run['grid'][1]}", f"{f64:.1f} / {f32:.1f}"]
        for col in libs:
            lib = col.removesuffix(" (ms)")
            v = run["libs"].get(lib)
            if v is None:
                row.append("")
                continue
            floor = f32 if lib.endswith("f32") or lib == "xpysom" else f64  # MiniSom computes in float64
            row.append(f"{v['median_ms']:.1f} ({v['median_ms'] / floor:.1f}×)")
        rows.append(row)
    out.append("\nEach cell: median ms per epoch (× the floor of its precision; xpysom computes in float32)."
               + (f" minisom: (t({EPOCHS['minisom'][1]}) − t({EPOCHS['minisom'][0]})) / {EPOCHS['minisom'][1] - EPOCHS['minisom'][0]}, "
                  "its epochs being seconds long." if "minisom (ms)" in header else "") + "\n\n")
    out.append(common.md_table(header, rows))
    qrows = [[run["condition"], run["case"], f"{lib} ({EPOCHS[lib][1]} epochs)" if lib in EPOCHS else lib, round(v["qe"], 4), round(v["te"], 4)]
             for run in results["runs"].values() for lib, v in run["libs"].items()]
    out.append("\n\nMap quality of the long run (QE = mean distance to the BMU, TE = share of samples whose two nearest "
               "units are not lattice neighbours):\n\n")
    out.append(common.md_table(["condition", "case", "library", "QE", "TE"], qrows))
    out.append("\n\nTargets (float64 and float32, both cases): musicsom ≤ 1.5× its floor when quiet; never slower than the plain "
               "reference of the same precision, quiet or busy:\n\n")
    trows = []
    for run in results["runs"].values():
        for prec, ours, ref in (("float64", "musicsom", "plain"), ("float32", "musicsom_f32", "plain_f32")):
            if ours not in run["libs"] or ref not in run["libs"]:
                continue
            floor = _floor_ms(run, prec)
            o, r = run["libs"][ours]["median_ms"], run["libs"][ref]["median_ms"]
            floor_txt = f"{o / floor:.2f}× ({'met' if o <= 1.5 * floor else 'missed'})" if run["condition"] == "quiet" else "–"
            trows.append([run["condition"], run["case"], prec, floor_txt, f"{r / o:.2f}× ({'met' if o <= r else 'missed'})"])
    out.append(common.md_table(["condition", "case", "precision", "musicsom / floor", "plain / musicsom"], trows))
    return "".join(out) + "\n"


if __name__ == "__main__":
    main()
