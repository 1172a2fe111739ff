"""The explorer's page (Panel + Bokeh) and its server: a thin view over :class:`musicsom.explore.model.ExploreModel`.

Everything the page shows is a Bokeh model (figures, column data sources) or a Bokeh-native Panel
widget, served with Bokeh's and Panel's own JavaScript from the app's server: no CDN, font or icon
is fetched from elsewhere, and the server listens on 127.0.0.1 only.

Steps are computed on a worker thread (one per browser session): the button's callback submits
``model.step`` and returns at once; when the step is done the thread hands the drawing back to the
Bokeh document with ``add_next_tick_callback`` (the documented way to update a document from a
thread), so the page stays responsive while a step at D = 712 computes. A progress bar shows the
steps taken against the horizon and turns indeterminate while a step is in flight.
"""

from __future__ import annotations

import html
import socket
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from io import BytesIO, StringIO

import numpy as np

from .model import GOALS, METRICS, SIDE, ExploreModel, mosaic, torus_path
from .run import RunData, load_run

__all__ = ["ExplorerView", "build_page", "serve", "free_port", "limit_blas", "missing_extra"]

CATEGORY10 = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"]
LAMBDAS = [1e-6, 1e-5, 1e-4, 1e-3, 1e-2, 1e-1, 1.0, 10.0, 100.0]
RINGS = {"all others": None, "1-ring": 1, "2-ring": 2, "3-ring": 3, "4-ring": 4}
COMPARE_FRAMES = 9
METHOD_NAMES = {"music": "MUSIC", "linear": "linear", "vae": "VAE"}


def missing_extra() -> str | None:
    """None when the packages the page needs import, else the line that says how to install them."""
    missing = []
    for name in ("panel", "bokeh", "PIL", "torch"):
        try:
            __import__(name)
        except ImportError:
            missing.append(name)
    if not missing:
        return None
    return f"needs {', '.join(missing)}: install the extras with pip install \"musicsom[pipeline,explore]\""


def limit_blas(threads: int = 1) -> None:
    """Run BLAS on ``threads`` threads (default 1) for the whole process.

    OpenBLAS's threads spin while they wait: on a loaded 2-core machine two of them turn a 1 ms decode into
    10-20 ms, and the page's redraw at D = 712 from 11 ms into 70 ms (benchmarks/bench_explore.py).
    """
    if isinstance(threads, bool) or not isinstance(threads, int) or threads < 1:
        raise ValueError(f"threads must be an integer >= 1; got {threads!r}")
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # without it BLAS keeps its default (all cores): slower under load, still correct
        return
    threadpool_limits(limits=threads, user_api="blas")


def free_port(address: str = "127.0.0.1") -> int:
    """A TCP port free on ``address`` now (the server binds it right after)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((address, 0))
        return int(s.getsockname()[1])


def _grey(img) -> np.ndarray:
    """A (h, w) [0, 1] image flipped for Bokeh (whose image rows go upwards), as float32."""
    return np.ascontiguousarray(np.flipud(np.asarray(img, dtype=np.float32)))


class ExplorerView:
    """The page of one browser session: widgets and figures bound to one :class:`ExploreModel`."""

    def __init__(self, model: ExploreModel):
        import panel as pn
        from bokeh.events import Tap
        from bokeh.models import ColumnDataSource, HoverTool, Legend, LinearColorMapper, Range1d
        from bokeh.palettes import Greys256, Viridis256
        from bokeh.plotting import figure

        if not isinstance(model, ExploreModel):
            raise ValueError(f"model must be an ExploreModel; got {type(model).__name__}")
        self.model = m = model
        run = m.run
        rows, cols = m.grid_shape
        self.rows, self.cols = rows, cols
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="musicsom-explore")
        self._busy = False
        self.playing = False
        self.doc = None  # the session's Bokeh document, set by build_page
        self.errors: list[str] = []
        self.render_seconds: list[float] = []

        # ---------------------------------------------------------------- the map
        def map_figure(title):
            f = figure(width=440, height=int(440 * rows / cols) + 30, title=title, tools="", toolbar_location=None,
                       x_range=Range1d(-0.5, cols - 0.5), y_range=Range1d(-0.5, rows - 0.5), match_aspect=True)
            f.axis.visible = False
            f.grid.visible = False
            return f

        self.map = map_figure("MNIST SOM (torus): click a prototype to aim at it")
        grey = LinearColorMapper(palette=Greys256, low=0.0, high=1.0)
        self.r_protos = self.map.image(image=[_grey(m.prototype_mosaic())], x=-0.5, y=-0.5, dw=cols, dh=rows, color_mapper=grey)
        U = m.umatrix()
        self.r_umatrix = self.map.image(image=[_grey(U)], x=-0.5, y=-0.5, dw=cols, dh=rows, visible=False,
                                        color_mapper=LinearColorMapper(palette=Viridis256, low=float(U.min()), high=float(U.max())))
        k = np.arange(run.K)
        ur, uc = np.divmod(k, cols)
        self.units = ColumnDataSource({
            "x": uc.astype(float), "y": (rows - 1 - ur).astype(float), "unit": k, "label": run.labels.astype(int),
            "purity": np.round(run.purity, 3), "umatrix": np.round(U.ravel(), 4),
            "colour": [CATEGORY10[int(v) % 10] for v in run.labels], "alpha": 0.15 + 0.75 * run.purity,
            "text": [str(int(v)) for v in run.labels], "ptext": [f"{p:.2f}" for p in run.purity],
            "activation": np.zeros(run.K),
        })
        self.r_labels = self.map.rect("x", "y", 1, 1, source=self.units, fill_color="colour", fill_alpha="alpha",
                                      line_color="white", visible=False)
        self.r_text = self.map.text("x", "y", text="text", source=self.units, text_align="center", text_baseline="bottom",
                                    text_font_size="11pt", visible=False)
        self.r_ptext = self.map.text("x", "y", text="ptext", source=self.units, text_align="center", text_baseline="top",
                                     text_font_size="7pt", visible=False)
        hover_cells = self.map.rect("x", "y", 1, 1, source=self.units, fill_alpha=0.0, line_alpha=0.0)
        self.map.add_tools(HoverTool(renderers=[hover_cells], tooltips=[
            ("unit", "@unit"), ("label", "@label"), ("purity", "@purity"), ("U-matrix", "@umatrix"), ("squared distance", "@activation")]))
        self.region = ColumnDataSource({"x": [], "y": []})
        self.map.rect("x", "y", 1, 1, source=self.region, fill_alpha=0.0, line_color="#ff7f0e", line_width=2)
        self.path = ColumnDataSource({"x": [], "y": []})
        self.marks = ColumnDataSource({"x": [], "y": [], "colour": [], "marker": [], "size": []})
        self.map.line("x", "y", source=self.path, line_color="#d62728", line_width=3, line_alpha=0.8)
        # every visited BMU as a dot: a jump across the map (or around the torus) is not drawn as a line
        self.path_pts = ColumnDataSource({"x": [], "y": []})
        self.map.scatter("x", "y", source=self.path_pts, color="#d62728", size=6, alpha=0.8)
        self.map.scatter("x", "y", source=self.marks, color="colour", marker="marker", size="size", line_color="black")
        self.map.on_event(Tap, self._on_tap)
        self.map.css_classes = ["explore-map"]  # classes the tests (and users' scripts) find the figures by

        # the activation pattern: squared distances of the current state to every prototype
        self.act = map_figure("activation: squared distance to each prototype")
        self.act.css_classes = ["explore-activation"]
        self.act_mapper = LinearColorMapper(palette=Viridis256, low=0.0, high=1.0)
        self.act_src = ColumnDataSource({"image": [_grey(np.zeros((rows, cols)))]})
        self.act.image(image="image", source=self.act_src, x=-0.5, y=-0.5, dw=cols, dh=rows, color_mapper=self.act_mapper)
        self.act.line("x", "y", source=self.path, line_color="white", line_width=2, line_alpha=0.9)
        self.act.scatter("x", "y", source=self.marks, color="colour", marker="marker", size="size", line_color="white")
        self.act.on_event(Tap, self._on_tap)

        # ---------------------------------------------------------------- the frame and the probabilities
        self.frame = figure(width=230, height=250, title="decoded frame", tools="", toolbar_location=None,
                            x_range=Range1d(0, SIDE), y_range=Range1d(0, SIDE))
        self.frame.css_classes = ["explore-frame"]
        self.frame.axis.visible = False
        self.frame.grid.visible = False
        self.frame_src = ColumnDataSource({"image": [_grey(np.ones((SIDE, SIDE)))]})
        self.frame.image(image="image", source=self.frame_src, x=0, y=0, dw=SIDE, dh=SIDE, color_mapper=grey)
        n_classes = int(np.asarray(run.classify(run.z_test[:1])).shape[1])
        self.n_classes = n_classes
        self.prob = figure(width=460, height=250, title="classifier probabilities along the path", tools="",
                           toolbar_location=None, y_range=Range1d(0, 1.02), x_axis_label="step")
        self.prob.css_classes = ["explore-probs"]
        self.prob_src = ColumnDataSource({"step": [], **{f"p{c}": [] for c in range(n_classes)}})
        items = []
        for c in range(n_classes):
            r = self.prob.line("step", f"p{c}", source=self.prob_src, line_color=CATEGORY10[c % 10], line_width=2)
            items.append((str(c), [r]))
        self.prob.add_layout(Legend(items=items, label_text_font_size="8pt", spacing=0, padding=2), "right")

        # ---------------------------------------------------------------- the comparison
        self.cmp = figure(width=760, height=3 * 64 + 40, title="frame for frame (MUSIC, linear, VAE)", tools="",
                          toolbar_location=None, x_range=Range1d(-40, COMPARE_FRAMES * (SIDE + 1) + 1),
                          y_range=Range1d(0, 3 * (SIDE + 1) + 1))
        self.cmp.axis.visible = False
        self.cmp.grid.visible = False
        blank = np.ones((3 * (SIDE + 1) + 1, COMPARE_FRAMES * (SIDE + 1) + 1), dtype=np.float32)
        self.cmp_src = ColumnDataSource({"image": [blank]})
        self.cmp.image(image="image", source=self.cmp_src, x=0, y=0, dw=blank.shape[1], dh=blank.shape[0], color_mapper=grey)
        self.cmp_text = ColumnDataSource({"x": [], "y": [], "text": []})
        self.cmp.text("x", "y", text="text", source=self.cmp_text, text_font_size="9pt", text_baseline="middle")

        # ---------------------------------------------------------------- widgets (Bokeh-native only)
        W = pn.widgets
        classes = [int(c) for c in np.unique(run.y_test)]
        self.w_class = W.Select(label="start class", options=classes, value=m.start_class, width=110)
        self.w_rank = W.IntInput(label="index in class", value=m.start_rank, start=0, width=110)
        self.w_random = W.Button(label="random start", width=110)
        self.w_goal = W.RadioButtonGroup(label="goal", options=list(GOALS), value=m.goal_kind, width=230)
        self.w_proto = W.IntInput(label="prototype", value=int(m.target or 0), start=0, end=run.K - 1, width=110)
        label_classes = sorted(int(c) for c in np.unique(run.labels))
        self.w_goal_class = W.Select(label="goal class", options=label_classes,
                                     value=m.goal_value if m.goal_kind == "class" else label_classes[0], width=110)
        self.w_mode = W.Select(label="mode", options=list(GOALS[m.goal_kind]), value=m.mode, width=230)
        p = m.params
        self.w_alpha = W.FloatSlider(label="α attraction", start=0.0, end=1.0, step=0.01, value=p.alpha, width=230)
        lam_options = sorted(set(LAMBDAS) | {float(p.lam)})
        self.w_lam = W.DiscreteSlider(label="λ Tikhonov", options=lam_options, value=float(p.lam), width=230)
        self.w_kappa = W.FloatSlider(label="κ cut per step", start=0.01, end=1.0, step=0.01,
                                     value=p.kappa, width=230)
        self.w_eta = W.FloatSlider(label="η trust radius", start=0.01, end=2.0, step=0.01, value=p.eta, width=230)
        self.w_prm = W.Checkbox(label="per-row-mean energy", value=bool(p.per_row_mean), width=230)
        ring_name = next((k for k, v in RINGS.items() if v == p.preserve_ring), None)
        rings = dict(RINGS)
        if ring_name is None:
            ring_name = f"{p.preserve_ring}-ring"
            rings[ring_name] = p.preserve_ring
        self.rings = rings
        self.w_ring = W.Select(label="preserved set", options=list(rings), value=ring_name, width=230)
        self.w_horizon = W.IntInput(label="horizon (linear / VAE steps)", value=m.horizon, start=1, end=5000, width=230)
        self.w_step = W.Button(label="step", color="primary", width=70)
        self.w_play = W.Button(label="play", color="success", width=70)
        self.w_pause = W.Button(label="pause", width=70)
        self.w_reset = W.Button(label="reset", color="warning", width=70)
        self.w_progress = pn.indicators.Progress(value=0, max=m.horizon, width=300)
        self.w_csv = W.FileDownload(callback=self._csv, filename="trajectory.csv", label="CSV", width=90)
        self.w_png = W.FileDownload(callback=self._png, filename="trajectory_strip.png", label="PNG strip", width=90)
        self.w_gif = W.FileDownload(callback=self._gif, filename="trajectory.gif", label="GIF", width=90)
        self.w_view = W.RadioButtonGroup(label="map view", options=["prototypes", "U-matrix", "labels"], value="prototypes", width=300)
        self.status = pn.pane.HTML("", width=760, css_classes=["status"])
        self.metrics = pn.pane.HTML("", width=760)
        self.snip = pn.pane.HTML("", width=760)
        notes = "".join(f"<li>{html.escape(n)}</li>" for n in run.notes)
        header = pn.pane.HTML(
            f"<h2 style='margin:4px 0'>musicsom explore</h2><div>run <code>{html.escape(str(run.run_dir))}</code>, "
            f"MNIST map of seed {run.seed}: {rows}x{cols} {html.escape(run.topology)}, D = {run.D}; settings from "
            f"<code>{html.escape(run.config_source)}</code>. GMM and face maps: not in this version.</div>"
            + (f"<ul>{notes}</ul>" if notes else ""), width=1200)

        self.w_view.param.watch(self._on_view, "value")
        self.w_class.param.watch(self._on_start, "value")
        self.w_rank.param.watch(self._on_start, "value")
        self.w_random.on_click(self._on_random)
        for w in (self.w_goal, self.w_proto, self.w_goal_class, self.w_mode):
            w.param.watch(self._on_goal, "value")
        for w in (self.w_alpha, self.w_lam, self.w_kappa, self.w_eta, self.w_prm, self.w_ring):
            w.param.watch(self._on_params, "value")
        self.w_horizon.param.watch(self._on_horizon, "value")
        self.w_step.on_click(lambda e: self.advance(1))
        self.w_play.on_click(self._on_play)
        self.w_pause.on_click(lambda e: self.pause())
        self.w_reset.on_click(self._on_reset)

        controls = pn.Column(
            pn.pane.HTML("<b>1. start</b>"), pn.Row(self.w_class, self.w_rank), self.w_random,
            pn.pane.HTML("<b>2. goal</b>"), self.w_goal, pn.Row(self.w_proto, self.w_goal_class), self.w_mode,
            pn.pane.HTML("<b>3. settings</b> (a change restarts the path)"), self.w_alpha, self.w_lam, self.w_kappa,
            self.w_eta, self.w_prm, self.w_ring, self.w_horizon, width=260)
        self.layout = pn.Column(
            header,
            pn.Row(
                controls,
                pn.Column(self.w_view, pn.pane.Bokeh(self.map), pn.pane.Bokeh(self.act)),
                pn.Column(
                    pn.Row(self.w_step, self.w_play, self.w_pause, self.w_reset), self.w_progress, self.status,
                    pn.Row(pn.pane.Bokeh(self.frame), pn.pane.Bokeh(self.prob)),
                    pn.pane.Bokeh(self.cmp), self.metrics,
                    pn.Row(pn.pane.HTML("<b>export</b>"), self.w_csv, self.w_png, self.w_gif), self.snip,
                ),
            ),
        )
        self._updating = False
        self.render()

    # ---------------------------------------------------------------- drawing
    def render(self) -> None:
        """Redraw everything that depends on the trajectory (call with the document lock held, or before serving)."""
        import time

        t0 = time.perf_counter()
        m = self.model
        S = m.summary()
        P = m.probs()
        x, y = m.bmu_path()
        self.path.data = {"x": x, "y": y}
        self.path_pts.data = {"x": x[np.isfinite(x)], "y": y[np.isfinite(y)]}
        bx, by = torus_path([S["bmu"]], m.grid_shape, False)
        sx, sy = torus_path(m.bmus()[:1], m.grid_shape, False)
        mx, my, colour, marker, size = [sx[0], bx[0]], [sy[0], by[0]], ["#2ca02c", "#d62728"], ["circle", "circle"], [12, 12]
        if S["target"] is not None:
            tx, ty = torus_path([S["target"]], m.grid_shape, False)
            mx, my = mx + [tx[0]], my + [ty[0]]
            colour, marker, size = colour + ["#ffdd00"], marker + ["star"], size + [20]
        self.marks.data = {"x": mx, "y": my, "colour": colour, "marker": marker, "size": size}
        a = m.activations()
        self.act_src.data = {"image": [_grey(a.reshape(self.rows, self.cols))]}
        self.act_mapper.update(low=float(a.min()), high=float(a.max()))
        self.units.patch({"activation": [(slice(0, a.size), np.round(a, 4))]})
        self.frame_src.data = {"image": [_grey(1.0 - m.frame())]}
        self.frame.title.text = f"decoded frame, step {S['t']}"
        self.prob_src.data = {"step": np.arange(P.shape[0]), **{f"p{c}": P[:, c] for c in range(P.shape[1])}}
        self._render_compare()
        goal = {"prototype": f"prototype {S['goal_value']}", "class": f"class {S['goal_value']} region",
                "free": "free evolution"}[S["goal"]]
        target = f", target prototype {S['target']}" if S["target"] is not None else ""
        self.status.object = (
            f"<div id='explore-status' data-step='{S['t']}' data-bmu='{S['bmu']}' data-target='{S['target']}' "
            f"data-path='{' '.join(map(str, m.bmus().tolist()))}' data-start='{S['start_index']}'>start: test image {S['start_index']} "
            f"(class {S['start_class']}, #{S['start_rank']}) &middot; goal: {goal}{target} &middot; mode {S['mode']}<br>"
            f"step <b id='explore-step'>{S['t']}</b> &middot; BMU {S['bmu']} &middot; predicted "
            f"<b>{S['label']}</b> ({S['confidence']:.2f})"
            + (f"<br><span style='color:#b00'>{html.escape(self.errors[-1])}</span>" if self.errors else "") + "</div>")
        self.w_progress.max = max(m.horizon, S["t"], 1)
        self.w_progress.value = S["t"]
        self.snip.object = ("<b>reproduce with the library</b><pre style='font-size:11px;background:#f4f4f4;padding:6px'>"
                            f"{html.escape(m.snippet())}</pre>")
        self.render_seconds.append(time.perf_counter() - t0)

    def _render_compare(self) -> None:
        m = self.model
        paths = m.compare()
        steps = np.unique(np.round(np.linspace(0, m.horizon, COMPARE_FRAMES)).astype(int))
        n = steps.size
        tiles = np.ones((3, COMPARE_FRAMES, SIDE, SIDE))
        labels = []
        for i, method in enumerate(("music", "linear", "vae")):
            if method not in paths:
                labels.append(f"{METHOD_NAMES[method]}: —")
                continue
            imgs = paths[method].images
            for j, s in enumerate(steps):
                if s < imgs.shape[0]:
                    tiles[i, j] = 1.0 - imgs[s]
            labels.append(METHOD_NAMES[method])
        img = mosaic(tiles.reshape(-1, SIDE, SIDE), 3, COMPARE_FRAMES, fill=0.85)
        self.cmp_src.data = {"image": [_grey(img)]}
        self.cmp.title.text = f"frame for frame at steps {', '.join(map(str, steps[:n]))} (MUSIC so far: step {m.t})"
        ys = [(3 - i - 0.5) * (SIDE + 1) for i in range(3)]
        self.cmp_text.data = {"x": [-38] * 3, "y": ys, "text": labels}
        head = "".join(f"<th>{METHOD_NAMES[k]}</th>" for k in paths)
        body = ""
        for key in METRICS:
            cells = []
            for pth in paths.values():
                v = pth.metrics[key]
                cells.append("—" if v is None or (isinstance(v, float) and not np.isfinite(v))
                             else (f"{v:.3f}" if isinstance(v, float) else str(v)))
            body += f"<tr><td>{key.replace('_', ' ')}</td>" + "".join(f"<td>{c}</td>" for c in cells) + "</tr>"
        note = "" if len(paths) > 1 else "<p>free evolution has no end point: nothing to interpolate toward.</p>"
        self.metrics.object = (f"<table id='explore-metrics' style='font-size:12px;border-collapse:collapse' border='1' "
                               f"cellpadding='3'><tr><th>metric</th>{head}</tr>{body}</table>{note}")

    # ---------------------------------------------------------------- stepping off the UI thread
    def advance(self, n: int = 1) -> bool:
        """Submit ``n`` steps to the worker thread; False when a step is already in flight."""
        if self._busy:
            return False
        self._busy = True
        self.w_progress.value = -1  # indeterminate while the step computes
        future = self._pool.submit(self.model.step, n)
        doc = self.doc
        if doc is None:  # not served (tests, benchmarks): finish here
            self._after_step(future)
        else:
            future.add_done_callback(lambda f: doc.add_next_tick_callback(partial(self._after_step, f)))
        return True

    def _after_step(self, future) -> None:
        self._busy = False
        try:
            future.result()
        except Exception as exc:  # a setting that made the step fail (e.g. an overflow): say so, stop playing
            self.errors.append(f"step failed: {exc}")
            self.playing = False
        self.render()
        if self.playing:
            self.advance(1)

    def _on_play(self, event=None) -> None:
        self.playing = True
        self.advance(1)

    def pause(self) -> None:
        self.playing = False

    def _restart(self, action) -> None:
        """Stop playing, apply ``action`` (which restarts the model's path) and redraw; a bad value is reported."""
        self.playing = False
        try:
            action()
            self.errors.clear()
        except ValueError as exc:
            self.errors.append(str(exc))
        self.render()

    def _on_reset(self, event=None) -> None:
        self._restart(self.model.reset)

    # ---------------------------------------------------------------- events
    def _on_view(self, event) -> None:
        v = event.new
        self.r_protos.visible = v == "prototypes"
        self.r_umatrix.visible = v == "U-matrix"
        for r in (self.r_labels, self.r_text, self.r_ptext):
            r.visible = v == "labels"

    def _on_tap(self, event) -> None:
        c, r = int(round(event.x)), self.rows - 1 - int(round(event.y))
        if not (0 <= c < self.cols and 0 <= r < self.rows):
            return
        self.select_prototype(r * self.cols + c)

    def select_prototype(self, unit: int) -> None:
        """Aim at prototype ``unit`` (what a click on the map does)."""
        self._updating = True
        try:
            self.w_goal.value = "prototype"
            self.w_mode.options = list(GOALS["prototype"])
            self.w_mode.value = "informed"
            self.w_proto.value = int(unit)
        finally:
            self._updating = False
        self._restart(lambda: self.model.set_goal("prototype", int(unit), "informed"))
        self._show_region()

    def _on_start(self, event) -> None:
        if self._updating:
            return
        self._restart(lambda: self.model.set_start(cls=self.w_class.value, rank=self.w_rank.value))

    def _on_random(self, event) -> None:
        def pick():
            self.model.set_start(random=True)
            self._updating = True
            try:
                self.w_class.value = self.model.start_class
                self.w_rank.value = self.model.start_rank
            finally:
                self._updating = False

        self._restart(pick)

    def _on_goal(self, event) -> None:
        if self._updating:
            return
        kind = self.w_goal.value
        allowed = list(GOALS[kind])
        self._updating = True
        try:
            if list(self.w_mode.options) != allowed:
                self.w_mode.options = allowed
            if self.w_mode.value not in allowed:
                self.w_mode.value = allowed[0]
        finally:
            self._updating = False
        value = {"prototype": self.w_proto.value, "class": self.w_goal_class.value, "free": None}[kind]
        self._restart(lambda: self.model.set_goal(kind, value, self.w_mode.value))
        self._show_region()

    def _show_region(self) -> None:
        m = self.model
        units = m.class_units(m.goal_value) if m.goal_kind == "class" else np.zeros(0, dtype=int)
        r, c = np.divmod(units, self.cols)
        self.region.data = {"x": c.astype(float), "y": (self.rows - 1 - r).astype(float)}

    def _on_params(self, event) -> None:
        self._restart(lambda: self.model.set_params(
            alpha=float(self.w_alpha.value), lam=float(self.w_lam.value), kappa=float(self.w_kappa.value),
            eta=float(self.w_eta.value), per_row_mean=bool(self.w_prm.value), preserve_ring=self.rings[self.w_ring.value]))

    def _on_horizon(self, event) -> None:
        self._restart(lambda: self.model.set_horizon(int(self.w_horizon.value)))

    # ---------------------------------------------------------------- export
    def _csv(self):
        return StringIO(self.model.to_csv())

    def _png(self):
        return BytesIO(self.model.strip_png())

    def _gif(self):
        return BytesIO(self.model.gif())


def build_page(run: RunData):
    """A new page (one :class:`ExplorerView` with its own model) for one browser session."""
    import panel as pn

    view = ExplorerView(ExploreModel(run))
    view.doc = pn.state.curdoc
    view._show_region()
    return view.layout


def serve(run_dir=".", port: int = 0, seed: int | None = None, threads: int = 1, ready=None):
    """Serve the explorer of ``run_dir`` on http://127.0.0.1:PORT/ until interrupted (``port`` 0: a free one).

    Prints the address; opens no browser and binds no other interface. ``ready(url)`` is called once the
    server listens (tests). Raises :class:`musicsom.explore.run.RunError` for an unreadable run folder.
    """
    import panel as pn

    if isinstance(port, bool) or not isinstance(port, int) or not 0 <= port <= 65535:
        raise ValueError(f"port must be an integer in [0, 65535]; got {port!r}")
    limit_blas(threads)
    run = load_run(run_dir, seed=seed, threads=threads)
    address = "127.0.0.1"
    port = port or free_port(address)
    def page():  # a plain function: Panel calls it once per session (it would render a partial as text)
        return build_page(run)

    server = pn.serve(
        {"/": page}, port=port, address=address, show=False, start=False, title="musicsom explore",
        websocket_origin=[f"{address}:{port}", f"localhost:{port}"], verbose=False,
    )
    url = f"http://{address}:{port}/"
    print(f"musicsom explore: serving {run.run_dir} at {url} (Ctrl-C to stop)", flush=True)
    if ready is not None:
        ready(url)
    server.start()
    try:
        server.io_loop.start()
    except KeyboardInterrupt:
        pass
    finally:
        server.stop()
    return 0

