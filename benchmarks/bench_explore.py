"""The explorer's latency: one MUSIC step of the model, the page's redraw, and the round trip in a real browser.

    .venv/bin/python benchmarks/bench_explore.py                       # synthetic full-size maps: MNIST 30x30 at
                                                                       # D = 50 and 712, GMM 20x15 D = 10, faces 24x24 D = 128
    .venv/bin/python benchmarks/bench_explore.py --run /tmp/smoke      # also every map of a finished run
    .venv/bin/python benchmarks/bench_explore.py --no-browser          # model and redraw only

A synthetic run folder is laid out as the pipeline writes it (the full config's 30x30 torus, random
prototypes, a PCA whitening fitted on random pixels, an untrained classifier of the full config's
shape 256-256): the step and redraw costs depend on K, D and the classifier's size, not on what the
map learned. No full run is needed, which is why D = 712 (the full-dimensional whitening of the paper's
setup) is synthetic here. The GMM and face maps are synthetic the same way at the full config's sizes
(GMM: a 20x15 map of the 10-D mixture, 25,000 training points; faces: a 24x24 map of 128-D codes and an
untrained autoencoder of the pipeline's architecture, 64x64 faces from 512-d codes).

GMM: ``step`` adds the component posterior; ``redraw`` the projection, posterior and metrics. Faces: ``step``
adds decoding the new frame, the cluster distances and, every ``faces.identity.every`` (5) steps, dlib's
identity descriptor (``identity_ms``: one descriptor; the step's p90 shows those steps).

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


def synthetic_gmm(root: Path, rows: int = 20, cols: int = 15, dim: int = 10, n_train: int = 25000, n_test: int = 8000) -> Path:
    """A run folder with the GMM files (results/gmm/seed0/{data,som}.npz) at the full config's sizes."""
    from musicsom.experiments.gmm import standardise, synthesise_mixture

    rng = np.random.default_rng(0)
    shape = (dim, 3, 3.0, 0.5, 0.1)
    x_train, y_train, means = synthesise_mixture(n_train, *shape, rng)
    x_test, y_test, _ = synthesise_mixture(n_test, *shape, rng)
    x_train, x_test, means, mean, scale = standardise(x_train, x_test, means)
    gmm = root / "results" / "gmm" / "seed0"
    gmm.mkdir(parents=True, exist_ok=True)
    np.savez(gmm / "data.npz", x_train=x_train, y_train=y_train, x_test=x_test, y_test=y_test, means=means, mean=mean, scale=scale)
    W = x_train[rng.choice(n_train, rows * cols, replace=False)]
    np.savez(gmm / "som.npz", prototypes=W, grid_shape=np.array([rows, cols]), topology=np.array("rectangular"))
    _config(root, {"gmm": {"music": {"alpha": 0.9, "eta": 0.2, "kappa": 0.1, "lam": 0.01, "per_row_mean": False},
                           "mixture": {"dim": dim, "components": 3, "radius": 3.0, "spread": 0.5, "noise": 0.1},
                           "trajectories": {"n_steps": 200}}})
    return root


def synthetic_faces(root: Path, rows: int = 24, cols: int = 24, D: int = 128, n: int = 600) -> Path:
    """A run folder with the face files at the full config's sizes (a face code of the pipeline's architecture, random PCA)."""
    import torch

    from musicsom.encoding import PCAWhitening
    from musicsom.experiments.models import checkpoint
    from musicsom.experiments.models.face_autoencoder import FaceAutoencoder

    rng = np.random.default_rng(0)
    torch.manual_seed(0)
    faces = root / "results" / "faces"
    (faces / "seed0").mkdir(parents=True, exist_ok=True)
    face_code = FaceAutoencoder(size=64, code_dim=512)
    face_code.set_pca(np.full(3 * 64 * 64, 0.5), np.linalg.qr(np.random.default_rng(3).standard_normal((3 * 64 * 64, 512)))[0].T)
    torch.save(checkpoint(face_code, []), faces / "seed0" / "autoencoder.pt")
    codes = rng.standard_normal((n, 512))
    enc = PCAWhitening(n_components=D).fit(codes)
    z = enc.encode(codes)
    np.savez(faces / "seed0" / "latent.npz", x_train=z[: n - 100], x_test=z[n - 100:], pca_mean=enc.mean_, pca_components=enc.components_,
             pca_variance=enc.explained_variance_, pca_total_variance=np.array(enc.total_variance_))
    K = rows * cols
    np.savez(faces / "seed0" / "som.npz", prototypes=rng.standard_normal((K, D)), grid_shape=np.array([rows, cols]),
             topology=np.array("rectangular"))
    clusters = {name: {"units": rng.choice(K, 12, replace=False).tolist()} for name in ("darker_skinned", "female", "random")}
    (faces / "seed0" / "clusters.json").write_text(json.dumps(clusters))
    _config(root, {"faces": {"music": {"alpha": 0.9, "eta": 0.5, "kappa": 0.1, "lam": 0.01, "per_row_mean": True},
                             "informed": {"n_steps": 100}, "target_cluster": "female", "identity": {"every": 5}}})
    return root


def _config(root: Path, config: dict) -> None:
    (root / "results" / "report").mkdir(parents=True, exist_ok=True)
    (root / "results" / "report" / "config.json").write_text(json.dumps({"seeds": [0], **config}))


def median_ms(values) -> float:
    return 1000.0 * statistics.median(values)


def bench_model(run_dir: Path, steps: int, threads: int = 1, name: str = "mnist") -> dict:
    from bokeh.document import Document

    from musicsom.explore.app import VIEWS
    from musicsom.explore.maps import model_for
    from musicsom.explore.run import load_faces, load_gmm, load_run

    loader = {"mnist": load_run, "gmm": load_gmm, "faces": load_faces}[name]
    run = loader(run_dir, threads=threads) if name != "gmm" else loader(run_dir)
    model = model_for(run)
    view = VIEWS[name](model)
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
    out = {"K": run.K, "D": run.D, "step_ms": median_ms(step_t), "redraw_ms": median_ms(render_t),
           "ui_lag_max_ms": 1000 * max(lags, default=0.0),
           "step_p90_ms": 1000 * float(np.percentile(step_t, 90)), "redraw_p90_ms": 1000 * float(np.percentile(render_t, 90))}
    if name == "faces" and model.identity_available:
        times = []
        for _ in range(5):
            t0 = time.perf_counter()
            model._identity.pop(model.t, None)
            model.measure_identity()
            times.append(time.perf_counter() - t0)
        out["identity_ms"] = median_ms(times)
    return out


def bench_browser(run_dir: Path, steps: int, threads: int = 1, name: str = "mnist") -> dict | None:
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
            switch = page.get_by_role("button", name={"mnist": "MNIST", "gmm": "GMM", "faces": "faces"}[name], exact=True)
            if switch.count():  # the map switch (absent when the run has one map)
                switch.click()
            page.locator(f"#explore-status[data-map='{name}']").wait_for(timeout=120_000)
            button = page.get_by_role("button", name="step", exact=True)
            times = []
            for i in range(1, steps + 1):
                t0 = time.perf_counter()
                button.click()
                page.locator(f"#explore-status[data-map='{name}'][data-step='{i}']").wait_for(timeout=120_000)
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
    p.add_argument("--dims", type=int, nargs="*", default=[50, 712], help="synthetic MNIST maps to time (D)")
    p.add_argument("--no-synthetic-maps", action="store_true", help="skip the synthetic full-size GMM and face maps")
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
        from musicsom.explore.run import load_maps

        targets = [(f"synthetic MNIST 30x30, D={D}", synthetic_run(Path(tmp) / f"d{D}", D), "mnist") for D in a.dims]
        if not a.no_synthetic_maps:
            targets += [("synthetic GMM 20x15, D=10", synthetic_gmm(Path(tmp) / "gmm"), "gmm"),
                        ("synthetic faces 24x24, D=128", synthetic_faces(Path(tmp) / "faces"), "faces")]
        for r in a.run:
            targets += [(f"run {r}: {m}", r, m) for m in load_maps(r)[0]]
        for label, folder, name in targets:
            row = {"map": label, **bench_model(folder, a.steps, a.threads, name)}
            if not a.no_browser:
                row.update(bench_browser(folder, a.steps, a.threads, name) or {})
            rows.append(row)
            print(json.dumps(row), flush=True)
    print(f"\n{machine()}\n")
    keys = [k for k in ("K", "D", "step_ms", "step_p90_ms", "redraw_ms", "ui_lag_max_ms", "identity_ms", "click_to_redraw_ms",
                        "page_load_s") if any(k in r for r in rows)]
    print("| map | " + " | ".join(keys) + " |\n|---|" + "---|" * len(keys))
    for r in rows:
        print(f"| {r['map']} | " + " | ".join(f"{r[k]:.3g}" if isinstance(r.get(k), float) else str(r.get(k, "—")) for k in keys) + " |")
    if a.out:
        a.out.write_text(json.dumps({"machine": machine(), "rows": rows}, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
