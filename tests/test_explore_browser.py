"""``musicsom explore`` on the smoke run, driven in a real browser (pytest-playwright + Debian's Chromium).

The server runs as the user runs it (``python -m musicsom explore RUN --port P``); the page is loaded
once per test module and the tests follow each other on it: load, click a prototype and step ten
times, export the CSV, switch to the GMM and face maps and step on each, and, throughout, every request
the page made stayed on 127.0.0.1.
``playwright install`` cannot download here: the tests use /usr/bin/chromium (or any Chromium on
PATH) and skip with the command that installs it when there is none. Screenshots go to tmp folders.
"""

from __future__ import annotations

import csv
import io
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("pytest_playwright")
pytest.importorskip("panel")

INSTALL = "apt-get install -y chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
        "--disable-component-update", "--disable-sync"]

pytestmark = [pytest.mark.slow, pytest.mark.ui]


def chromium_binary() -> str | None:
    if Path("/usr/bin/chromium").is_file():
        return "/usr/bin/chromium"
    for name in ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable"):
        found = shutil.which(name)
        if found:
            return found
    return None


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    """pytest-playwright's launch arguments, with Debian's Chromium (playwright's own download is not possible here)."""
    path = chromium_binary()
    if path is None:
        pytest.skip(f"headless Chromium is not installed; install it with `{INSTALL}`")
    return {**browser_type_launch_args, "executable_path": path, "args": ARGS, "headless": True}


@pytest.fixture(scope="module")
def server(smoke_run):
    """`musicsom explore` serving the smoke run; yields (url, run folder)."""
    workdir, _ = smoke_run
    proc = subprocess.Popen([sys.executable, "-m", "musicsom", "explore", str(workdir), "--port", "0"],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True)
    url, lines, deadline = None, [], time.monotonic() + 120
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        if not line:
            break
        lines.append(line)
        if " at http://127.0.0.1:" in line:
            url = line.split(" at ", 1)[1].split()[0]
            break
    if url is None:
        os.killpg(proc.pid, signal.SIGKILL)
        pytest.fail("musicsom explore did not print its address:\n" + "".join(lines)[-4000:])
    yield url, Path(workdir)
    os.killpg(proc.pid, signal.SIGTERM)
    try:
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)


@pytest.fixture(scope="module")
def session(server, browser):
    """One page for the module's tests, with every request it makes recorded."""
    url, workdir = server
    context = browser.new_context(viewport={"width": 1500, "height": 1300}, accept_downloads=True)
    page = context.new_page()
    requests: list[str] = []
    page.on("request", lambda r: requests.append(r.url))
    page.goto(url)
    page.locator("#explore-status").wait_for(timeout=60_000)
    yield page, requests, workdir
    context.close()


def status(page) -> dict:
    el = page.locator("#explore-status")
    return {k: el.get_attribute(f"data-{k}") for k in ("step", "bmu", "target", "path", "start")}


def test_the_page_loads_with_the_map(session, tmp_path):
    page, _, _ = session
    assert status(page)["step"] == "0"
    for name in ("explore-map", "explore-activation", "explore-frame", "explore-probs"):
        assert page.locator(f".{name}").is_visible(), name
    page.screenshot(path=str(tmp_path / "loaded.png"), full_page=True)


def test_clicking_a_prototype_and_stepping_draws_the_path(session, tmp_path):
    page, _, _ = session
    frame, probs = page.locator(".explore-frame"), page.locator(".explore-probs")
    frame0, probs0 = frame.screenshot(), probs.screenshot()
    box = page.locator(".explore-map").bounding_box()
    page.mouse.click(box["x"] + 0.75 * box["width"], box["y"] + 0.3 * box["height"])
    page.get_by_text("goal: prototype").wait_for(timeout=20_000)
    target = status(page)["target"]
    assert target not in (None, "None")
    step = page.get_by_role("button", name="step", exact=True)
    for i in range(1, 11):
        step.click()
        page.locator(f"#explore-status[data-step='{i}']").wait_for(timeout=30_000)
    s = status(page)
    assert len(s["path"].split()) == 11  # the start's BMU and one per step
    assert frame.screenshot() != frame0, "the decoded frame did not change"
    assert probs.screenshot() != probs0, "the probabilities panel did not change"
    page.screenshot(path=str(tmp_path / "ten_steps.png"), full_page=True)


def test_the_csv_export_holds_music_run_states(session, tmp_path):
    from musicsom.explore.run import load_run
    from musicsom.music import Music, MusicParams

    page, _, workdir = session
    s = status(page)
    with page.expect_download(timeout=30_000) as info:
        page.get_by_role("button", name="CSV").click()
    rows = list(csv.DictReader(io.StringIO(Path(info.value.path()).read_text())))
    assert len(rows) == int(s["step"]) + 1 == 11
    run = load_run(workdir)
    D = run.D
    states = np.array([[float(r[f"x{d}"]) for d in range(D)] for r in rows])
    music = Music(run.W, MusicParams(**run.music), grid_shape=run.grid_shape, topology=run.topology, random_state=run.seed)
    ref = music.run(run.z_test[int(s["start"])], 10, "informed", target=int(s["target"]))
    assert np.array_equal(states, ref.states)
    assert [int(r["bmu"]) for r in rows] == ref.bmus.tolist() == [int(b) for b in s["path"].split()]


@pytest.mark.parametrize("name, label", [("gmm", "GMM"), ("faces", "faces")])
def test_the_map_switch_shows_the_gmm_and_face_maps_and_steps(session, tmp_path, name, label):
    """Switch to the smoke run's GMM map, then its face map, and step three times on each (then back to MNIST,
    whose path the switch kept). Face renders go to a tmp folder only (LFW faces are never committed)."""
    from musicsom.explore.maps import model_for
    from musicsom.explore.run import load_gmm, load_faces

    page, _, workdir = session
    page.get_by_role("button", name=label, exact=True).click()
    page.locator(f"#explore-status[data-map='{name}'][data-step='0']").wait_for(timeout=60_000)
    frame = page.locator(".explore-frame")
    assert page.locator(".explore-map").is_visible() and frame.is_visible() and page.locator(".explore-probs").is_visible()
    frame0 = frame.screenshot()
    step = page.get_by_role("button", name="step", exact=True)
    for i in range(1, 4):
        step.click()
        page.locator(f"#explore-status[data-map='{name}'][data-step='{i}']").wait_for(timeout=30_000)
    s = status(page)
    model = model_for((load_gmm if name == "gmm" else load_faces)(workdir))  # the page's defaults, stepped here
    model.step(3)
    assert [int(b) for b in s["path"].split()] == model.bmus().tolist() and s["target"] == str(model.target)
    if name == "gmm":  # the state moves on the projection (a face frame may not: the smoke autoencoder decodes grey)
        assert frame.screenshot() != frame0, "the state's point did not move"
    else:
        assert page.locator(".explore-identity").is_visible()
    page.screenshot(path=str(tmp_path / f"{name}.png"), full_page=True)
    page.get_by_role("button", name="MNIST", exact=True).click()
    page.locator("#explore-status[data-map='mnist'][data-step='10']").wait_for(timeout=30_000)


def test_no_request_leaves_the_machine(session):
    page, requests, _ = session
    page.wait_for_timeout(500)
    assert requests, "no request was recorded"
    away = [u for u in requests if not (u.startswith("http://127.0.0.1:") or u.startswith("ws://127.0.0.1:")
                                        or u.startswith("data:") or u.startswith("blob:"))]
    assert not away, f"requests that left 127.0.0.1: {away}"
