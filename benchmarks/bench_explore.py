"""The explorer's latency: one MUSIC step of the model, the page's redraw, and the round trip in a real browser.

    .venv/bin/python benchmarks/bench_explore.py                       # synthetic 30x30 maps at D = 50 and 712
    .venv/bin/python benchmarks/bench_explore.py --run /tmp/smoke      # also a finished run's own map
    .venv/bin/python benchmarks/bench_explore.py --no-browser          # model and redraw only

A synthetic run folder is laid out as the pipeline writes it (the full config's 30x30 torus, random
prototypes, a PCA whitening fitted on random pixels, an untrained classifier of the full config's
shape 256-256): the step and redraw costs depend on K, D and the classifier's size, not on what the
map learned. No full run is needed, which is why D = 712 (the full-dimensional whitening of the paper's
setup) is synthetic here.

- ``step``: ``ExploreModel.step(1)`` (the MUSIC solve with every other prototype preserved, the BMU,
  the classifier on the new state), informed mode at the run's settings;
- ``redraw``: ``ExplorerView.render()`` (decode the frame, the activation pattern, the BMU path, the
  probabilities, the comparison strip and its metrics, the snippet), with the page attached to a
  Bokeh document as when served;
- ``ui_lag_max_ms``: while five steps compute on a worker thread (as served), the longest a 5 ms timer on
  the main thread (the server's event loop) overslept: what the page's other controls wait at most;
- ``browser``: click "step" in headless Chromium until the page's step counter shows the new step
  (the whole round trip: websocket, worker thread, redraw, patch, paint), by ``musicsom explore``
  serving the run folder.

Medians over ``--steps`` steps; the machine's CPU and load are printed with them.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np


def synthetic_run(root: Path, D: int, rows: int = 30, cols: int = 30, n_test: int = 200) -> Path:
    """A run folder with a random rows x cols map in D dimensions (files as the pipeline names them)."""
    import torch

    from musicsom.encoding import PCAWhitening
    from musicsom.experiments.models import MLPClassifier, checkpoint

    rng = np.random.default_rng(0)
    pix = rng.random((max(1000, D + 200), 784))
    enc = PCAWhitening(n_components=D).fit(pix)
    z = enc.encode(pix[:n_test])
    mnist = root / "results" / "mnist"
    (mnist / "seed0").mkdir(parents=True, exist_ok=True)
    np.savez(mnist / "encoding.npz", mean=enc.mean_, components=enc.components_, explained_variance=enc.explained_variance_,
             total_variance=enc.total_variance_)
    y = np.arange(n_test) % 10
    np.savez(mnist / "latent.npz", x_test=z, y_test=y)
    K = rows * cols
    np.savez(mnist / "seed0" / "som.npz", prototypes=rng.standard_normal((K, D)), grid_shape=np.array([rows, cols]),
             topology=np.array("toroidal"))
    labels = np.arange(K) % 10
    np.savez(mnist / "seed0" / "labels.npz", labels=labels, purity=np.full(K, 0.9))
    torch.manual_seed(0)
    torch.save(checkpoint(MLPClassifier(D, 10, hidden=[256, 256]), []), mnist / "classifier.pt")
    (root / "results" / "report").mkdir(parents=True, exist_ok=True)
    music = {"alpha": 0.5, "lam": 0.01, "kappa": 0.1, "eta": 0.2, "per_row_mean": True, "preserve_ring": None}
    (root / "results" / "report" / "config.json").write_text(json.dumps(
        {"seeds": [0], "mnist": {"music": music, "transition": {"n_steps": 200}, "target_min_purity": 0.7}}))
    return root


def median_ms(values) -> float:
    return 1000.0 * statistics.median(values)


def bench_model(run_dir: Path, steps: int, threads: int = 1) -> dict:
    from bokeh.document import Document

    from musicsom.explore.app import ExplorerView
    from musicsom.explore.model import ExploreModel
    from musicsom.explore.run import load_run

    run = load_run(run_dir, threads=threads)
    model = ExploreModel(run)
    view = ExplorerView(model)
    doc = Document()
    view.layout.get_root(doc)  # attached as when served: the redraw's model changes go through the document
    view.select_prototype(int(np.argmax(model.activations())))  # the farthest prototype: a long path
    model.step(1)  # warm caches (BLAS, torch)
    view.render()
    step_t, render_t = [], []
    for _ in range(steps):
        t0 = time.perf_counter()
        model.step(1)
        t1 = time.perf_counter()
        view.render()
        render_t.append(time.perf_counter() - t1)
        step_t.append(t1 - t0)
    # the UI thread while steps compute on the worker (as served): the longest a 5 ms timer waits beyond its 5 ms
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(1) as pool:
        future = pool.submit(model.step, 5)
        lags = []
        while not future.done():
            t0 = time.perf_counter()
            time.sleep(0.005)
            lags.append(time.perf_counter() - t0 - 0.005)
        future.result()
    return {"K": run.K, "D": run.D, "step_ms": median_ms(step_t), "redraw_ms": median_ms(render_t),
            "ui_lag_max_ms": 1000 * max(lags, default=0.0),
            "step_p90_ms": 1000 * float(np.percentile(step_t, 90)), "redraw_p90_ms": 1000 * float(np.percentile(render_t, 90))}


def bench_browser(run_dir: Path, steps: int, threads: int = 1) -> dict | None:
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        return None
    chromium = "/usr/bin/chromium"
    if not Path(chromium).is_file():
        return None
    proc = subprocess.Popen([sys.executable, "-m", "musicsom", "explore", str(run_dir), "--port", "0", "--threads", str(threads)], stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True, start_new_session=True)
    try:
        url = None
        for line in proc.stdout:
            if " at http://127.0.0.1:" in line:
                url = line.split(" at ", 1)[1].split()[0]
                break
        if url is None:
            raise SystemExit("musicsom explore did not start")
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=chromium, args=["--headless", "--no-sandbox", "--disable-gpu"])
            page = browser.new_page(viewport={"width": 1500, "height": 1300})
            t0 = time.perf_counter()
            page.goto(url)
            page.locator("#explore-status").wait_for(timeout=120_000)
            load_s = time.perf_counter() - t0
            button = page.get_by_role("button", name="step", exact=True)
            times = []
            for i in range(1, steps + 1):
                t0 = time.perf_counter()
                button.click()
                page.locator(f"#explore-status[data-step='{i}']").wait_for(timeout=120_000)
                times.append(time.perf_counter() - t0)
            browser.close()
        return {"page_load_s": load_s, "click_to_redraw_ms": median_ms(times), "click_to_redraw_p90_ms": 1000 * float(np.percentile(times, 90))}
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=30)


def machine() -> str:
    cpu = platform.processor() or "?"
    try:
        for line in subprocess.run(["lscpu"], capture_output=True, text=True).stdout.splitlines():
            if line.startswith("Model name"):
                cpu = line.split(":", 1)[1].strip()
    except OSError:
        pass
    return f"{cpu}, {os.cpu_count()} CPUs, load {' '.join(f'{v:.2f}' for v in os.getloadavg())}"


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--dims", type=int, nargs="*", default=[50, 712], help="synthetic maps to time (D)")
    p.add_argument("--run", type=Path, action="append", default=[], help="a finished run folder to time as well")
    p.add_argument("--steps", type=int, default=20, help="steps per measurement (median)")
    p.add_argument("--no-browser", action="store_true", help="skip the browser round trip")
    p.add_argument("--threads", type=int, default=1, help="BLAS and torch threads, as `musicsom explore --threads` (default 1)")
    p.add_argument("--out", type=Path, default=None, help="write the results as JSON here")
    a = p.parse_args(argv)
    from musicsom.explore.app import limit_blas

    limit_blas(a.threads)  # as the server does
    rows = []
    with tempfile.TemporaryDirectory(prefix="bench_explore_") as tmp:
        targets = [(f"synthetic 30x30, D={D}", synthetic_run(Path(tmp) / f"d{D}", D)) for D in a.dims]
        targets += [(f"run {r}", r) for r in a.run]
        for name, folder in targets:
            row = {"map": name, **bench_model(folder, a.steps, a.threads)}
            if not a.no_browser:
                row.update(bench_browser(folder, a.steps, a.threads) or {})
            rows.append(row)
            print(json.dumps(row), flush=True)
    print(f"\n{machine()}\n")
    keys = [k for k in ("K", "D", "step_ms", "step_p90_ms", "redraw_ms", "ui_lag_max_ms", "click_to_redraw_ms", "page_load_s") if any(k in r for r in rows)]
    print("| map | " + " | ".join(keys) + " |\n|---|" + "---|" * len(keys))
    for r in rows:
        print(f"| {r['map']} | " + " | ".join(f"{r[k]:.3g}" if isinstance(r.get(k), float) else str(r.get(k, "—")) for k in keys) + " |")
    if a.out:
        a.out.write_text(json.dumps({"machine": machine(), "rows": rows}, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
