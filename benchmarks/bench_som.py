"""SOM training: musicsom vs MiniSom, somoclu and xpysom, and against the matrix-product (GEMM) bound.

    .venv/bin/python benchmarks/bench_som.py                      # both cases, every library, 3 runs
    .venv/bin/python benchmarks/bench_som.py --cases gmm --libs musicsom xpysom --repeats 5
    .venv/bin/python benchmarks/bench_som.py --libs musicsom xpysom xpysom_1t --section som-blas1   # peers on 1 BLAS thread

Cases: MNIST PCA-50 (60,000 × 50, 30×30, toroidal where the library supports it) and a
20,000 × 50 Gaussian mixture (30×30, rectangular). Every library trains for the same number of
epochs from its own PCA initialisation, σ from 15 down to 1, Gaussian neighbourhood
``exp(−d²/2σ²)``. Each run is a fresh subprocess (imports and data loading are not timed); runs
are interleaved round-robin (rep 1 of every library, then rep 2, ...) together with a GEMM-rate
measurement, so that every library sees the same background load. The median of the repeats is
reported. Quantization and topographic error come from one function (``common.som_quality``)
applied to each returned prototype array.

Peers run in their own virtual environment (never a project dependency):

    python3 -m venv /tmp/peers-venv && /tmp/peers-venv/bin/pip install numpy==2.4.6 minisom==2.3.6 xpysom==1.0.7 setuptools wheel
    CUDAHOME=/nonexistent /tmp/peers-venv/bin/pip install --no-build-isolation somoclu==1.7.6

The GEMM bound of one epoch is ``2·N·K·(D+1)`` flops (the distance products) divided by the
measured float64 rate of a 1500³ product; the share of the bound is bound time / measured time.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import common  # noqa: E402

PEERS_PY = Path(os.environ.get("MUSICSOM_PEERS_PYTHON", "/tmp/peers-venv/bin/python"))
LIBS = ["musicsom", "musicsom_f32", "xpysom", "somoclu", "minisom"]
# variants run with OPENBLAS_NUM_THREADS=1 (the peer as configured for a loaded 2-core machine)
EXTRA = ["xpysom_1t", "minisom_1t"]
CASES = {
    # name: (data loader, grid, topology requested)
    "mnist": ("MNIST PCA-50, 60,000 × 50, 30×30 torus", (30, 30), "toroidal"),
    "gmm": ("Gaussian mixture, 20,000 × 50, 30×30", (30, 30), "rectangular"),
}
SIGMA0, SIGMA1 = 15.0, 1.0


def load_case(case: str) -> np.ndarray:
    """The case's data from the cache (.npy), creating it in the project environment if needed."""
    path = common.CACHE / f"som_{case}.npy"
    if not path.exists():
        common.CACHE.mkdir(parents=True, exist_ok=True)
        X = common.mnist_pca50() if case == "mnist" else common.gaussian_mixture(20000, 50, 10, 0)
        np.save(path, X)
    return np.load(path)


# ---------------------------------------------------------------- one run of one library (inside a subprocess)
def train(lib: str, X: np.ndarray, grid, topology: str, epochs: int):
    """Train ``lib``; return (prototypes K × D float64, topology used, seconds, per-epoch seconds or None)."""
    rows, cols = grid
    D = X.shape[1]
    per_epoch = None
    if lib in ("musicsom", "musicsom_f32"):
        from musicsom.som import SOM

        stamps = []
        som = SOM(grid, topology, epochs, SIGMA0, SIGMA1, "pca", 0, bmu_dtype="float32" if lib.endswith("f32") else "float64")
        t0 = time.perf_counter()
        som.fit(X, callback=lambda e, s, W: stamps.append(time.perf_counter()))
        seconds = time.perf_counter() - t0
        per_epoch = float(np.median(np.diff(stamps))) if len(stamps) > 2 else None
        return som.prototypes_, topology, seconds, per_epoch
    lib = lib.removesuffix("_1t")
    if lib == "xpysom":
        from xpysom import XPySom

        X32 = X.astype(np.float32)
        som = XPySom(rows, cols, D, sigma=SIGMA0, sigmaN=SIGMA1, decay_function="exponential", std_coeff=1.0, random_seed=0, xp=np)
        t0 = time.perf_counter()
        som.pca_weights_init(X32)
        som.train(X32, epochs)
        seconds = time.perf_counter() - t0
        return np.asarray(som.get_weights(), np.float64).reshape(rows * cols, D), "rectangular", seconds, None
    if lib == "somoclu":
        import somoclu

        X32 = np.ascontiguousarray(X, dtype=np.float32)
        maptype = "toroid" if topology == "toroidal" else "planar"
        t0 = time.perf_counter()
        som = somoclu.Somoclu(cols, rows, maptype=maptype, gridtype="rectangular", compactsupport=False, std_coeff=1.0, initialization="pca")
        som.train(X32, epochs=epochs, radius0=SIGMA0, radiusN=SIGMA1, radiuscooling="exponential", scale0=1.0, scaleN=1.0)
        seconds = time.perf_counter() - t0
        return np.asarray(som.codebook, np.float64).reshape(rows * cols, D), topology, seconds, None
    if lib == "minisom":
        from minisom import MiniSom

        som = MiniSom(rows, cols, D, sigma=SIGMA0, learning_rate=0.5, neighborhood_function="gaussian", random_seed=0)
        t0 = time.perf_counter()
        som.pca_weights_init(X)
        som.train(X, epochs, use_epochs=True)
        seconds = time.perf_counter() - t0
        return np.asarray(som.get_weights(), np.float64).reshape(rows * cols, D), "rectangular", seconds, None
    raise ValueError(f"unknown library {lib!r}")


def worker(args) -> None:
    X = np.load(args.data)
    _, grid, topology = CASES[args.case]
    W, topo, seconds, per_epoch = train(args.worker, X, grid, topology, args.epochs)
    np.save(args.out + ".npy", W)
    Path(args.out + ".json").write_text(json.dumps({"seconds": seconds, "per_epoch": per_epoch, "topology": topo}))


# ---------------------------------------------------------------- driver
def python_for(lib: str) -> Path:
    return Path(sys.executable) if lib.startswith("musicsom") else PEERS_PY


def available(lib: str) -> str | None:
    """None if the library imports in its environment, else the reason."""
    py = python_for(lib)
    if not py.exists():
        return f"{py} missing (create the peers venv, see the docstring)"
    mod = {"musicsom_f32": "musicsom"}.get(lib, lib).removesuffix("_1t")
    proc = subprocess.run([str(py), "-c", f"import {mod}"], capture_output=True, text=True, timeout=120)
    return None if proc.returncode == 0 else proc.stderr.strip().splitlines()[-1]


def run_once(lib: str, case: str, data: Path, epochs: int, tmp: Path, timeout: float) -> dict:
    out = tmp / f"{lib}_{case}"
    cmd = [str(python_for(lib)), __file__, "--worker", lib, "--case", case, "--data", str(data), "--epochs", str(epochs), "--out", str(out)]
    env = dict(os.environ, PYTHONWARNINGS="ignore")
    if lib.endswith("_1t"):
        env.update(OPENBLAS_NUM_THREADS="1", OMP_NUM_THREADS="1")
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, env=env)
    if proc.returncode != 0:
        raise RuntimeError(f"{lib} on {case} failed:\n{proc.stderr[-3000:]}")
    res = json.loads(Path(str(out) + ".json").read_text())
    res["W"] = np.load(str(out) + ".npy")
    return res


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--cases", nargs="+", default=list(CASES), choices=list(CASES))
    ap.add_argument("--libs", nargs="+", default=LIBS, choices=LIBS + EXTRA)
    ap.add_argument("--section", default="som", help="docs/benchmarks.md section to (re)write")
    ap.add_argument("--epochs", type=int, default=10)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--timeout", type=float, default=1800, help="seconds per single run")
    ap.add_argument("--no-doc", action="store_true", help="print the table; leave docs/benchmarks.md alone")
    ap.add_argument("--worker", choices=LIBS + EXTRA, help=argparse.SUPPRESS)
    ap.add_argument("--case", choices=list(CASES), help=argparse.SUPPRESS)
    ap.add_argument("--data", help=argparse.SUPPRESS)
    ap.add_argument("--out", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.worker:
        return worker(args)

    rec = common.machine_record()
    missing = {lib: why for lib in args.libs if (why := available(lib))}
    libs = [lib for lib in args.libs if lib not in missing]
    for lib, why in missing.items():
        print(f"skipping {lib}: {why}", flush=True)
    results: dict = {"machine": rec, "epochs": args.epochs, "repeats": args.repeats, "missing": missing, "cases": {}}
    with tempfile.TemporaryDirectory(prefix="bench_som_") as tmpdir:
        tmp = Path(tmpdir)
        for case in args.cases:
            X = load_case(case)
            data = common.CACHE / f"som_{case}.npy"
            label, grid, topology = CASES[case]
            K = grid[0] * grid[1]
            flops = common.batch_epoch_flops(X.shape[0], K, X.shape[1])
            runs: dict[str, list] = {lib: [] for lib in libs}
            rates = []
            for rep in range(args.repeats):
                rates.append(common.gemm_rate())
                for lib in libs:
                    r = run_once(lib, case, data, args.epochs, tmp, args.timeout)
                    runs[lib].append(r)
                    print(f"{case} rep {rep + 1}: {lib:13s} {r['seconds']:8.2f} s", flush=True)
            rate = float(np.median(rates))
            bound = flops * args.epochs / rate
            rows = {}
            for lib in libs:
                secs = [r["seconds"] for r in runs[lib]]
                med = float(np.median(secs))
                W = runs[lib][int(np.argsort(secs)[len(secs) // 2])]["W"]
                topo = runs[lib][0]["topology"]
                qe, te = common.som_quality(X, W, grid, topo)
                per_epoch = [r["per_epoch"] for r in runs[lib] if r.get("per_epoch")]
                rows[lib] = {
                    "seconds": secs, "median_s": med, "topology": topo, "qe": qe, "te": te,
                    "per_epoch_s": float(np.median(per_epoch)) if per_epoch else None,
                }
            results["cases"][case] = {"label": label, "n": X.shape[0], "d": X.shape[1], "K": K, "gemm_rates": rates, "gemm_rate": rate,
                                      "epoch_flops": flops, "bound_s": bound, "libs": rows}
            common.save_json(f"bench_{args.section}", results)
    text = render(results)
    print(text)
    if not args.no_doc:
        common.write_section(args.section, text)


def render(results) -> str:
    rec = results["machine"]
    out = [f"### SOM training ({results['epochs']} batch epochs, median of {results['repeats']} runs)\n", common.machine_lines(rec)]
    for lib, why in results["missing"].items():
        out.append(f"- not run: {lib}: {why}\n")
    for case, c in results["cases"].items():
        libs = c["libs"]
        ours = libs.get("musicsom", {}).get("median_s")
        peers = {k: v["median_s"] for k, v in libs.items() if not k.startswith("musicsom")}
        fastest = min(peers, key=peers.get) if peers else None
        out.append(f"\n**{c['label']}** (N = {c['n']}, D = {c['d']}, K = {c['K']}). GEMM rate here {c['gemm_rate'] / 1e9:.1f} GFLOP/s "
                   f"(float64, 1500³, median of {len(c['gemm_rates'])}: {', '.join(f'{r / 1e9:.0f}' for r in c['gemm_rates'])}); "
                   f"one epoch = {c['epoch_flops'] / 1e9:.2f} GFLOP, so the bound is {c['bound_s'] / results['epochs'] * 1e3:.1f} ms/epoch, "
                   f"{c['bound_s']:.2f} s for {results['epochs']} epochs.\n\n")
        header = ["library", "topology", "runs (s)", "median (s)", "per epoch (ms)", "vs musicsom", "share of GEMM bound", "QE", "TE"]
        rows = []
        for lib, v in sorted(libs.items(), key=lambda kv: kv[1]["median_s"]):
            per_epoch = v["per_epoch_s"] * 1e3 if v["per_epoch_s"] else v["median_s"] / results["epochs"] * 1e3
            rows.append([
                lib, v["topology"], ", ".join(f"{s:.2f}" for s in v["seconds"]), v["median_s"], per_epoch,
                f"{v['median_s'] / ours:.2f}×" if ours else "", f"{c['bound_s'] / v['median_s']:.0%}",
                round(v["qe"], 4), round(v["te"], 4),
            ])
        out.append(common.md_table(header, rows))
        if ours and fastest:
            per_epoch_share = ""
            pe = libs["musicsom"]["per_epoch_s"]
            if pe:
                per_epoch_share = f"; per epoch (after the PCA initialisation) {c['bound_s'] / results['epochs'] / pe:.0%} of the bound"
            out.append(f"\nmusicsom (float64) is **{peers[fastest] / ours:.2f}×** faster than the fastest peer ({fastest}) and reaches "
                       f"**{c['bound_s'] / ours:.0%}** of the GEMM bound over the whole fit{per_epoch_share}.\n")
    return "".join(out)


if __name__ == "__main__":
    main()
