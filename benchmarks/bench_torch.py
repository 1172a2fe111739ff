"""The torch backend: SOM.fit epoch time and Music.run_batch steps/s, numpy vs torch on the CPU (and CUDA when available).

    .venv/bin/python benchmarks/bench_torch.py                              # the sizes below; writes docs/benchmarks.md
    .venv/bin/python benchmarks/bench_torch.py --epochs 3 --steps 2 --repeats 1 --no-doc

SOM: Gaussian-mixture data (``common.gaussian_mixture``, 10 components) of 20,000 × 50 on a 30 × 30 map
and 60,000 × 100 on a 40 × 40 map, rectangular lattice, float64 BMU search, PCA init. The epoch time is
the median interval between successive ``callback`` calls (the first epoch, which pays torch's warm-up,
left out), so initialisation is not counted; the numpy fit runs its usual way (BMU search on the CPUs
this process may use, BLAS single-threaded). The last columns compare the torch map with numpy's: the
largest prototype deviation relative to the largest prototype coordinate, and the share of samples with
the same BMU.

MUSIC: ``Music.run_batch`` in informed mode, K standard-normal prototypes in D (fixed seed), B random
starts each with its own random target, every other prototype preserved, ``per_row_mean=True``,
α = 0.9, λ = 0.01, κ = 0.1, η = 0.2 (as bench_music_batch.py). (K, D, B) = (900, 50, 300) and
(900, 712, 300); with k = K ≥ D the solver is the primal one (D × D systems). Steps/s count
trajectory-steps (B × steps / time), the median over ``--repeats`` runs; the last column is the largest
state deviation from numpy's, relative to the largest state coordinate.

torch's CPU threads are its default unless ``--torch-threads`` is given (``torch.get_num_threads()``, recorded). A GPU row appears when
``torch.cuda.is_available()``; otherwise the table says "cuda: not available". Nothing here asserts on time.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import common  # noqa: E402

from musicsom.music import Music, MusicParams  # noqa: E402
from musicsom.som import SOM  # noqa: E402

SOM_SIZES = [(20000, 50, (30, 30)), (60000, 100, (40, 40))]
MUSIC_SIZES = [(900, 50, 300), (900, 712, 300)]


def backends() -> tuple[list[tuple[str, str, str]], str]:
    """([(label, backend, device)], a line on torch and CUDA) for this machine."""
    try:
        import torch
    except ImportError:
        return [("numpy", "numpy", "cpu")], "torch: not installed (pip install torch); cuda: not available"
    out = [("numpy", "numpy", "cpu"), ("torch-cpu", "torch", "cpu")]
    if torch.cuda.is_available():
        out.append(("torch-cuda", "torch", "cuda"))
        cuda = f"cuda: {torch.cuda.get_device_name(0)} (CUDA {torch.version.cuda})"
    else:
        cuda = "cuda: not available"
    return out, f"torch {torch.__version__}, {torch.get_num_threads()} CPU threads; {cuda}"


def som_epoch_time(X, grid, epochs: int, backend: str, device: str):
    """(median epoch time without the first epoch, fitted SOM)."""
    stamps = []
    som = SOM(grid, epochs=epochs, backend=backend, device=device)
    som.fit(X, callback=lambda e, s, W: stamps.append(time.perf_counter()))
    gaps = np.diff(stamps)
    return float(np.median(gaps)), som


def bench_som(labels, args):
    rows, raw = [], []
    for n, D, grid in SOM_SIZES:
        X = common.gaussian_mixture(n, D)
        ref = None
        for label, backend, device in labels:
            if backend == "torch" and device == "cuda":
                som_epoch_time(X[:2000], (5, 5), 3, backend, device)  # CUDA context and kernels: not timed
            t, som = som_epoch_time(X, grid, args.epochs, backend, device)
            if ref is None:
                ref = som
            dev = float(np.abs(som.prototypes_ - ref.prototypes_).max() / np.abs(ref.prototypes_).max())
            same = float(np.mean(som.predict(X) == ref.predict(X))) if som is not ref else 1.0
            raw.append({"n": n, "D": D, "grid": list(grid), "backend": label, "epoch_s": t, "epochs": args.epochs,
                        "max_rel_deviation": dev, "same_bmu_share": same})
            rows.append([f"{n:,} × {D}", f"{grid[0]}×{grid[1]}", label, t, f"{ref_time(raw, n) / t:.2f}×",
                         f"{dev:.1e}", f"{same:.4f}"])
            print(f"SOM {n}x{D} {grid}: {label} {t:.3f} s/epoch, deviation {dev:.1e}, same BMU {same:.4f}", flush=True)
    return rows, raw


def ref_time(raw, n) -> float:
    """The numpy epoch time of the rows of size ``n`` (the first backend measured)."""
    return next(r["epoch_s"] for r in raw if r["n"] == n)


def bench_music(labels, args):
    rows, raw = [], []
    params = MusicParams(alpha=0.9, lam=0.01, kappa=0.1, eta=0.2, per_row_mean=True)
    for K, D, B in MUSIC_SIZES:
        rng = np.random.default_rng(0)
        W = rng.standard_normal((K, D))
        X0 = 1.5 * rng.standard_normal((B, D))
        targets = rng.integers(0, K, B)
        T = args.steps if D <= 100 else args.big_steps
        music = Music(W, params)
        ref = ref_rate = None
        for label, backend, device in labels:
            warm = 1 if device == "cuda" else 0
            t, _, batch = common.median_time(
                lambda: music.run_batch(X0, T, "informed", targets=targets, backend=backend, device=device),
                args.repeats, warmup=warm)
            rate = B * T / t
            if ref is None:
                ref, ref_rate = batch, rate
            dev = float(np.abs(batch.states - ref.states).max() / np.abs(ref.states).max())
            raw.append({"K": K, "D": D, "B": B, "steps": T, "backend": label, "seconds": t, "steps_per_s": rate,
                        "max_rel_deviation": dev, "same_bmus": bool(np.array_equal(batch.bmus, ref.bmus))})
            rows.append([K, D, B, T, label, rate, f"{rate / ref_rate:.2f}×", f"{dev:.1e}"])
            print(f"MUSIC K={K} D={D} B={B}: {label} {rate:.0f} steps/s, deviation {dev:.1e}", flush=True)
    return rows, raw


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--epochs", type=int, default=5, help="epochs per SOM fit (the first is not timed)")
    ap.add_argument("--steps", type=int, default=10, help="MUSIC steps per run for D <= 100")
    ap.add_argument("--big-steps", type=int, default=2, help="MUSIC steps per run for D > 100 (seconds per step on a CPU)")
    ap.add_argument("--repeats", type=int, default=3, help="MUSIC runs per backend (median)")
    ap.add_argument("--torch-threads", type=int, default=None,
                    help="torch.set_num_threads for the torch-cpu rows (default: torch's own, one per core); on a loaded "
                         "machine OpenMP's barriers make 1 much faster")
    ap.add_argument("--no-doc", action="store_true", help="print only: do not write docs/benchmarks.md or the JSON")
    args = ap.parse_args(argv)
    if args.torch_threads is not None:
        import torch

        torch.set_num_threads(args.torch_threads)
    if args.epochs < 3:
        ap.error("--epochs must be at least 3 (the first epoch is not timed)")
    rec = common.machine_record()
    labels, torch_line = backends()
    print(torch_line, flush=True)
    som_rows, som_raw = bench_som(labels, args)
    music_rows, music_raw = bench_music(labels, args)
    text = (
        f"### The torch backend: numpy vs torch (SOM median epoch of {args.epochs - 1}; MUSIC median of {args.repeats} runs)\n\n"
        + common.machine_lines(rec)
        + f"- {torch_line}\n"
        + "\n`SOM(..., backend=...)`: seconds per epoch (initialisation not counted), rectangular lattice, float64 "
        "BMU search; deviation: largest |ΔW| vs numpy relative to the largest prototype coordinate.\n\n"
        + common.md_table(["data", "map", "backend", "s / epoch", "speed-up vs numpy", "max rel. |ΔW|", "same BMU share"], som_rows)
        + "\n`Music.run_batch(..., backend=...)`, informed mode, every other prototype preserved: trajectory-steps per second.\n\n"
        + common.md_table(["K", "D", "B", "steps", "backend", "steps/s", "speed-up vs numpy", "max rel. |Δx|"], music_rows)
    )
    print(text)
    if not args.no_doc:
        common.save_json("bench_torch", {"machine": rec, "torch": torch_line, "som": som_raw, "music": music_raw})
        common.write_section("torch", text)


if __name__ == "__main__":
    main()
