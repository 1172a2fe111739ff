"""The explorer's page (Panel + Bokeh) and its server: a thin view over :class:`musicsom.explore.model.ExploreModel`.

Everything the page shows is a Bokeh model (figures, column data sources) or a Bokeh-native Panel
widget, served with Bokeh's and Panel's own JavaScript from the app's server: no CDN, font or icon
is fetched from elsewhere, and the server listens on 127.0.0.1 only.

Steps are computed on a worker thread (one per browser session): the button's callback submits
``model.step`` and returns at once; when the step is done the thread hands the drawing back to the
Bokeh document with ``add_next_tick_callback`` (the documented way to update a document from a
thread), so the page stays responsive while a step at D = 712 computes. A progress bar shows the
steps taken against the horizon and turns indeterminate while a step is in flight.

The page shows one map at a time, picked by the "map" switch among those the run has (MNIST, GMM,
faces): each map is an :class:`ExplorerView` subclass over its own model (:class:`GmmView`,
:class:`FaceView`), built the first time it is picked, with its own worker thread.
"""

from __future__ import annotations

import html
import socket
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from io import BytesIO, StringIO

import numpy as np

from .model import SIDE, ExploreModel, mosaic, torus_path
from .run import RunData, load_maps

__all__ = ["ExplorerView", "GmmView", "FaceView", "ExplorerPage", "build_page", "serve", "free_port", "limit_blas",
           "missing_extra", "MAP_LABELS"]

#: the map switch's labels
MAP_LABELS = {"mnist": "MNIST", "gmm": "GMM", "faces": "faces"}

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


def _rgba(img) -> np.ndarray:
    """A (h, w, 3) uint8 image as Bokeh's packed RGBA (h, w) uint32, flipped (Bokeh's image rows go upwards)."""
    a = np.asarray(img, dtype=np.uint8)
    out = np.empty((a.shape[0], a.shape[1], 4), dtype=np.uint8)
    out[..., :3] = a
    out[..., 3] = 255
    return np.ascontiguousarray(np.flipud(out)).view(np.uint32).reshape(a.shape[0], a.shape[1])


def _fmt(v) -> str:
    if v is None or (isinstance(v, float) and not np.isfinite(v)):
        return "—"
    return f"{v:.3f}" if isinstance(v, float) else html.escape(str(v))


class ExplorerView:
    """The page of one map in one browser session: widgets and figures bound to one :class:`ExploreModel`.

    The map-specific parts are methods that :class:`GmmView` and :class:`FaceView` replace: ``_map_layers``
    (what the lattice shows), ``_build_state`` / ``_render_state`` (the current state and what is measured
    along the path), ``_build_compare`` / ``_render_strip`` (the compared paths), ``_measure_text`` (the status).
    """

    title = "MNIST SOM"
    views = ("prototypes", "U-matrix", "labels")
    region_word = "class"

    def __init__(self, model: ExploreModel):
        import panel as pn

        if not isinstance(model, ExploreModel):
            raise ValueError(f"model must be an ExploreModel; got {type(model).__name__}")
        self.model = m = model
        rows, cols = m.grid_shape
        self.rows, self.cols = rows, cols
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="musicsom-explore")
        self._busy = False
        self.playing = False
        self.doc = None  # the session's Bokeh document, set by build_page
        self.errors: list[str] = []
        self.render_seconds: list[float] = []
        self._build_map()
        self._build_state()
        self._build_compare()
        self._build_widgets()
        self.layout = pn.Column(self._header(), self._body())
        self._updating = False
        self.render()

    # ---------------------------------------------------------------- the map
    def _map_figure(self, title):
        from bokeh.models import Range1d
        from bokeh.plotting import figure

        rows, cols = self.rows, self.cols
        f = figure(width=440, height=int(440 * rows / cols) + 30, title=title, tools="", toolbar_location=None,
                   x_range=Range1d(-0.5, cols - 0.5), y_range=Range1d(-0.5, rows - 0.5), match_aspect=True)
        f.axis.visible = False
        f.grid.visible = False
        return f

    def _unit_labels(self) -> tuple[np.ndarray, np.ndarray]:
        """(label, purity) per unit for the labels view and the hover."""
        return np.asarray(self.model.run.labels, dtype=int), np.asarray(self.model.run.purity, dtype=float)

    def _map_layers(self) -> dict:
        """{view name: [renderers]} drawn under the path (MNIST: the decoded prototypes, the U-matrix)."""
        from bokeh.models import LinearColorMapper
        from bokeh.palettes import Greys256

        rows, cols = self.rows, self.cols
        grey = LinearColorMapper(palette=Greys256, low=0.0, high=1.0)
        protos = self.map.image(image=[_grey(self.model.prototype_mosaic())], x=-0.5, y=-0.5, dw=cols, dh=rows, color_mapper=grey)
        return {"prototypes": [protos], "U-matrix": [self._umatrix_layer()]}

    def _umatrix_layer(self):
        from bokeh.models import LinearColorMapper
        from bokeh.palettes import Viridis256

        U = self.model.umatrix()
        return self.map.image(image=[_grey(U)], x=-0.5, y=-0.5, dw=self.cols, dh=self.rows, visible=False,
                              color_mapper=LinearColorMapper(palette=Viridis256, low=float(U.min()), high=float(U.max())))

    def _build_map(self) -> None:
        from bokeh.events import Tap
        from bokeh.models import ColumnDataSource, HoverTool, LinearColorMapper
        from bokeh.palettes import Viridis256

        m, rows, cols = self.model, self.rows, self.cols
        K = m.run.K
        self.map = self._map_figure(f"{self.title} ({m.run.topology}): click a prototype to aim at it")
        self.layers = self._map_layers()
        labels, purity = self._unit_labels()
        U = m.umatrix()
        k = np.arange(K)
        ur, uc = np.divmod(k, cols)
        self.units = ColumnDataSource({
            "x": uc.astype(float), "y": (rows - 1 - ur).astype(float), "unit": k, "label": labels,
            "purity": np.round(purity, 3), "umatrix": np.round(U.ravel(), 4),
            "colour": [CATEGORY10[int(v) % 10] if v >= 0 else "#dddddd" for v in labels], "alpha": 0.15 + 0.75 * purity,
            "text": [str(int(v)) if v >= 0 else "" for v in labels], "ptext": [f"{p:.2f}" for p in purity],
            "activation": np.zeros(K),
        })
        label_view = next((v for v in self.views if v in ("labels", "components")), None)
        first = self.views[0]
        r_labels = self.map.rect("x", "y", 1, 1, source=self.units, fill_color="colour", fill_alpha="alpha",
                                 line_color="white", visible=first == label_view)
        r_text = self.map.text("x", "y", text="text", source=self.units, text_align="center", text_baseline="bottom",
                               text_font_size="11pt", visible=first == label_view)
        r_ptext = self.map.text("x", "y", text="ptext", source=self.units, text_align="center", text_baseline="top",
                                text_font_size="7pt", visible=first == label_view)
        if label_view is not None:
            self.layers[label_view] = [r_labels, r_text, r_ptext]
        for name, renderers in self.layers.items():
            for r in renderers:
                r.visible = name == first
        hover_cells = self.map.rect("x", "y", 1, 1, source=self.units, fill_alpha=0.0, line_alpha=0.0)
        self.map.add_tools(HoverTool(renderers=[hover_cells], tooltips=self._hover()))
        self._map_overlays()
        self.region = ColumnDataSource({"x": [], "y": []})
        self.map.rect("x", "y", 1, 1, source=self.region, fill_alpha=0.0, line_color="#ff7f0e", line_width=3)
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
        self.act = self._map_figure("activation: squared distance to each prototype")
        self.act.css_classes = ["explore-activation"]
        self.act_mapper = LinearColorMapper(palette=Viridis256, low=0.0, high=1.0)
        self.act_src = ColumnDataSource({"image": [_grey(np.zeros((rows, cols)))]})
        self.act.image(image="image", source=self.act_src, x=-0.5, y=-0.5, dw=cols, dh=rows, color_mapper=self.act_mapper)
        self.act.line("x", "y", source=self.path, line_color="white", line_width=2, line_alpha=0.9)
        self.act.scatter("x", "y", source=self.marks, color="colour", marker="marker", size="size", line_color="white")
        self.act.on_event(Tap, self._on_tap)

    def _hover(self):
        return [("unit", "@unit"), ("label", "@label"), ("purity", "@purity"), ("U-matrix", "@umatrix"),
                ("squared distance", "@activation")]

    def _map_overlays(self) -> None:
        """Drawn over every view of the map (the face map's cluster outlines)."""

    # ---------------------------------------------------------------- the state: frame and probabilities
    def _build_state(self) -> None:
        from bokeh.models import ColumnDataSource, LinearColorMapper, Range1d
        from bokeh.palettes import Greys256

        run = self.model.run
        self.frame = self._image_figure("decoded frame", SIDE)
        grey = LinearColorMapper(palette=Greys256, low=0.0, high=1.0)
        self.frame_src = ColumnDataSource({"image": [_grey(np.ones((SIDE, SIDE)))]})
        self.frame.image(image="image", source=self.frame_src, x=0, y=0, dw=SIDE, dh=SIDE, color_mapper=grey)
        n_classes = int(np.asarray(run.classify(run.z_test[:1])).shape[1])
        self.n_classes = n_classes
        self.prob = self._lines_figure("classifier probabilities along the path", [str(c) for c in range(n_classes)],
                                       y_range=Range1d(0, 1.02))
        self.state_panels = [self.frame, self.prob]

    def _image_figure(self, title, side):
        from bokeh.models import Range1d
        from bokeh.plotting import figure

        f = figure(width=230, height=250, title=title, tools="", toolbar_location=None, x_range=Range1d(0, side),
                   y_range=Range1d(0, side))
        f.css_classes = ["explore-frame"]
        f.axis.visible = False
        f.grid.visible = False
        return f

    def _lines_figure(self, title, names, y_range=None, width=460):
        """A figure of one line per name against the step (``self.prob_src`` holds step, p0, p1, ...)."""
        from bokeh.models import ColumnDataSource, Legend
        from bokeh.plotting import figure

        kw = {"y_range": y_range} if y_range is not None else {}
        f = figure(width=width, height=250, title=title, tools="", toolbar_location=None, x_axis_label="step", **kw)
        f.css_classes = ["explore-probs"]
        self.prob_src = ColumnDataSource({"step": [], **{f"p{c}": [] for c in range(len(names))}})
        items = []
        for c, name in enumerate(names):
            r = f.line("step", f"p{c}", source=self.prob_src, line_color=CATEGORY10[c % 10], line_width=2)
            items.append((name, [r]))
        f.add_layout(Legend(items=items, label_text_font_size="8pt", spacing=0, padding=2), "right")
        return f

    def _render_state(self) -> None:
        m = self.model
        P = m.probs()
        self.frame_src.data = {"image": [_grey(1.0 - m.frame())]}
        self.frame.title.text = f"decoded frame, step {m.t}"
        self.prob_src.data = {"step": np.arange(P.shape[0]), **{f"p{c}": P[:, c] for c in range(P.shape[1])}}

    def _measure_text(self, S: dict) -> str:
        return f"predicted <b>{S['label']}</b> ({S['confidence']:.2f})"

    # ---------------------------------------------------------------- the comparison
    def _build_compare(self) -> None:
        from bokeh.models import ColumnDataSource, LinearColorMapper, Range1d
        from bokeh.palettes import Greys256
        from bokeh.plotting import figure

        self.cmp = figure(width=760, height=3 * 64 + 40, title="frame for frame (MUSIC, linear, VAE)", tools="",
                          toolbar_location=None, x_range=Range1d(-40, COMPARE_FRAMES * (SIDE + 1) + 1),
                          y_range=Range1d(0, 3 * (SIDE + 1) + 1))
        self.cmp.axis.visible = False
        self.cmp.grid.visible = False
        blank = np.ones((3 * (SIDE + 1) + 1, COMPARE_FRAMES * (SIDE + 1) + 1), dtype=np.float32)
        self.cmp_src = ColumnDataSource({"image": [blank]})
        grey = LinearColorMapper(palette=Greys256, low=0.0, high=1.0)
        self.cmp.image(image="image", source=self.cmp_src, x=0, y=0, dw=blank.shape[1], dh=blank.shape[0], color_mapper=grey)
        self.cmp_text = ColumnDataSource({"x": [], "y": [], "text": []})
        self.cmp.text("x", "y", text="text", source=self.cmp_text, text_font_size="9pt", text_baseline="middle")

    def _compare_steps(self) -> np.ndarray:
        return np.unique(np.round(np.linspace(0, self.model.horizon, COMPARE_FRAMES)).astype(int))

    def _render_strip(self, paths) -> None:
        m = self.model
        steps = self._compare_steps()
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
        self.cmp.title.text = f"frame for frame at steps {', '.join(map(str, steps))} (MUSIC so far: step {m.t})"
        ys = [(3 - i - 0.5) * (SIDE + 1) for i in range(3)]
        self.cmp_text.data = {"x": [-38] * 3, "y": ys, "text": labels}

    def _render_compare(self) -> None:
        paths = self.model.compare()
        self._render_strip(paths)
        head = "".join(f"<th>{METHOD_NAMES[k]}</th>" for k in paths)
        body = ""
        for key in next(iter(paths.values())).metrics:
            cells = [_fmt(pth.metrics[key]) for pth in paths.values()]
            body += f"<tr><td>{key.replace('_', ' ')}</td>" + "".join(f"<td>{c}</td>" for c in cells) + "</tr>"
        note = "" if len(paths) > 1 else "<p>free evolution has no end point: nothing to interpolate toward.</p>"
        self.metrics.object = (f"<table id='explore-metrics' style='font-size:12px;border-collapse:collapse' border='1' "
                               f"cellpadding='3'><tr><th>metric</th>{head}</tr>{body}</table>{note}")

    # ---------------------------------------------------------------- widgets
    def _start_widgets(self) -> list:
        W = self._W
        m = self.model
        classes = [int(c) for c in np.unique(m.run.y_test)]
        self.w_class = W.Select(label=f"start {self.region_word}", options=classes, value=m.start_class, width=110)
        self.w_rank = W.IntInput(label=f"index in {self.region_word}", value=m.start_rank, start=0, width=110)
        self.w_class.param.watch(self._on_start, "value")
        self.w_rank.param.watch(self._on_start, "value")
        return [self._pn.Row(self.w_class, self.w_rank)]

    def _region_options(self) -> list:
        return sorted(int(c) for c in np.unique(self.model.run.labels) if c >= 0)

    def _build_widgets(self) -> None:
        import panel as pn

        self._pn, self._W = pn, pn.widgets
        W = pn.widgets
        m = self.model
        run = m.run
        start = self._start_widgets()
        self.w_random = W.Button(label="random start", width=110)
        # shown with the map's word for a region (GMM: "component"); the value stays the model's goal kind
        goal_names = {k: (self.region_word if k not in ("prototype", "free") else k) for k in m.goals}
        self.w_goal = W.RadioButtonGroup(label="goal", options={goal_names[k]: k for k in m.goals}, value=m.goal_kind, width=230)
        self.w_proto = W.IntInput(label="prototype", value=int(m.target or 0), start=0, end=run.K - 1, width=110)
        regions = self._region_options()
        region_kind = next(k for k in m.goals if k not in ("prototype", "free"))
        self.w_goal_class = W.Select(label=f"goal {self.region_word}", options=regions,
                                     value=m.goal_value if m.goal_kind == region_kind else regions[0], width=110)
        self.w_mode = W.Select(label="mode", options=list(m.goals[m.goal_kind]), value=m.mode, width=230)
        p = m.params
        self.w_alpha = W.FloatSlider(label="α attraction", start=0.0, end=1.0, step=0.01, value=p.alpha, width=230)
        lam_options = sorted(set(LAMBDAS) | {float(p.lam)})
        self.w_lam = W.DiscreteSlider(label="λ Tikhonov", options=lam_options, value=float(p.lam), width=230)
        self.w_kappa = W.FloatSlider(label="κ cut per step", start=0.01, end=1.0, step=0.01, value=p.kappa, width=230)
        self.w_eta = W.FloatSlider(label="η trust radius", start=0.01, end=2.0, step=0.01, value=p.eta, width=230)
        self.w_prm = W.Checkbox(label="per-row-mean energy", value=bool(p.per_row_mean), width=230)
        ring_name = next((k for k, v in RINGS.items() if v == p.preserve_ring), None)
        rings = dict(RINGS)
        if ring_name is None:
            ring_name = f"{p.preserve_ring}-ring"
            rings[ring_name] = p.preserve_ring
        self.rings = rings
        self.w_ring = W.Select(label="preserved set", options=list(rings), value=ring_name, width=230)
        self.w_horizon = W.IntInput(label="horizon (compared paths' steps)", value=m.horizon, start=1, end=5000, width=230)
        self.w_step = W.Button(label="step", color="primary", width=70)
        self.w_play = W.Button(label="play", color="success", width=70)
        self.w_pause = W.Button(label="pause", width=70)
        self.w_reset = W.Button(label="reset", color="warning", width=70)
        self.w_progress = pn.indicators.Progress(value=0, max=m.horizon, width=300)
        self.exports = [W.FileDownload(callback=self._csv, filename=f"trajectory_{m.map_name}.csv", label="CSV", width=90)]
        if self._has_images():
            self.exports += [W.FileDownload(callback=self._png, filename=f"trajectory_{m.map_name}_strip.png", label="PNG strip", width=90),
                             W.FileDownload(callback=self._gif, filename=f"trajectory_{m.map_name}.gif", label="GIF", width=90)]
        self.w_view = W.RadioButtonGroup(label="map view", options=list(self.views), value=self.views[0], width=300)
        self.status = pn.pane.HTML("", width=760, css_classes=["status"])
        self.metrics = pn.pane.HTML("", width=760)
        self.snip = pn.pane.HTML("", width=760)

        self.w_view.param.watch(self._on_view, "value")
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
        self.controls = pn.Column(
            pn.pane.HTML("<b>1. start</b>"), *start, self.w_random,
            pn.pane.HTML("<b>2. goal</b>"), self.w_goal, pn.Row(self.w_proto, self.w_goal_class), self.w_mode,
            pn.pane.HTML("<b>3. settings</b> (a change restarts the path)"), self.w_alpha, self.w_lam, self.w_kappa,
            self.w_eta, self.w_prm, self.w_ring, self.w_horizon, width=260)

    def _has_images(self) -> bool:
        return True

    def _header(self):
        import panel as pn

        run = self.model.run
        notes = "".join(f"<li>{html.escape(n)}</li>" for n in run.notes)
        return pn.pane.HTML(
            f"<div>{self.title} of seed {run.seed}: {self.rows}x{self.cols} {html.escape(run.topology)}, D = {run.D}; "
            f"settings from <code>{html.escape(run.config_source)}</code> ({self.model.map_name}.music).</div>"
            + (f"<ul>{notes}</ul>" if notes else ""), width=1200)

    def _body(self):
        import panel as pn

        Bk = pn.pane.Bokeh
        compare = [Bk(self.cmp)] if self.cmp is not None else []
        return pn.Row(
            self.controls,
            pn.Column(self.w_view, Bk(self.map), Bk(self.act)),
            pn.Column(
                pn.Row(self.w_step, self.w_play, self.w_pause, self.w_reset, *self._extra_buttons()), self.w_progress, self.status,
                pn.Row(*[Bk(f) for f in self.state_panels]), *self._extra_panels(),
                *compare, self.metrics,
                pn.Row(pn.pane.HTML("<b>export</b>"), *self.exports), self.snip,
            ),
        )

    def _extra_buttons(self) -> list:
        return []

    def _extra_panels(self) -> list:
        return []

    # ---------------------------------------------------------------- drawing
    def render(self) -> None:
        """Redraw everything that depends on the trajectory (call with the document lock held, or before serving)."""
        import time

        t0 = time.perf_counter()
        m = self.model
        S = m.summary()
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
        self._render_state()
        self._render_compare()
        goal = {"prototype": f"prototype {S['goal_value']}", "free": "free evolution"}.get(
            S["goal"], f"{self.region_word} {S['goal_value']} region")
        target = f", target prototype {S['target']}" if S["target"] is not None else ""
        self.status.object = (
            f"<div id='explore-status' data-map='{m.map_name}' data-step='{S['t']}' data-bmu='{S['bmu']}' "
            f"data-target='{S['target']}' data-path='{' '.join(map(str, m.bmus().tolist()))}' data-start='{S['start_index']}'>"
            f"start: {html.escape(m._start_words())} &middot; goal: {html.escape(goal)}{target} &middot; mode {S['mode']}<br>"
            f"step <b id='explore-step'>{S['t']}</b> &middot; BMU {S['bmu']} &middot; {self._measure_text(S)}"
            + (f"<br><span style='color:#b00'>{html.escape(self.errors[-1])}</span>" if self.errors else "") + "</div>")
        self.w_progress.max = max(m.horizon, S["t"], 1)
        self.w_progress.value = S["t"]
        self.snip.object = ("<b>reproduce with the library</b><pre style='font-size:11px;background:#f4f4f4;padding:6px'>"
                            f"{html.escape(m.snippet())}</pre>")
        self.render_seconds.append(time.perf_counter() - t0)

    # ---------------------------------------------------------------- work off the UI thread
    def _background(self, fn, then) -> None:
        """Run ``fn`` on the worker thread, then ``then`` on the document's thread (at once when not served)."""
        future = self._pool.submit(fn)
        doc = self.doc
        if doc is None:
            future.result()
            then()
        else:
            future.add_done_callback(lambda f: doc.add_next_tick_callback(then))

    def watch_knn(self) -> None:
        """MNIST: once the k-NN index of the training images is built, measure the compared paths and redraw their table."""
        run = self.model.run
        if not isinstance(run, RunData) or run.pix_train is None:
            return
        run.knn_index()  # starts the build on its own thread
        run._knn.add_done_callback(lambda f: self._refresh_manifold())

    def _refresh_manifold(self) -> None:
        if isinstance(self.model.run, RunData) and self.model.run.knn_state() == "ready":
            self._background(self.model.fill_manifold, self._render_compare)

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
        self._refresh_manifold()  # a new goal or start: its compared paths get their manifold distance off the UI thread

    def _on_reset(self, event=None) -> None:
        self._restart(self.model.reset)

    # ---------------------------------------------------------------- events
    def _on_view(self, event) -> None:
        for name, renderers in self.layers.items():
            for r in renderers:
                r.visible = name == event.new

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
            self.w_mode.options = list(self.model.goals["prototype"])
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

    def _sync_start(self) -> None:
        self.w_class.value = self.model.start_class
        self.w_rank.value = self.model.start_rank

    def _on_random(self, event) -> None:
        def pick():
            self.model.set_start(random=True)
            self._updating = True
            try:
                self._sync_start()
            finally:
                self._updating = False

        self._restart(pick)

    def _on_goal(self, event) -> None:
        if self._updating:
            return
        kind = self.w_goal.value
        allowed = list(self.model.goals[kind])
        self._updating = True
        try:
            if list(self.w_mode.options) != allowed:
                self.w_mode.options = allowed
            if self.w_mode.value not in allowed:
                self.w_mode.value = allowed[0]
        finally:
            self._updating = False
        value = {"prototype": self.w_proto.value, "free": None}.get(kind, self.w_goal_class.value)
        self._restart(lambda: self.model.set_goal(kind, value, self.w_mode.value))
        self._show_region()

    def _show_region(self) -> None:
        m = self.model
        units = m.class_units(m.goal_value) if m.goal_kind not in ("prototype", "free") else np.zeros(0, dtype=int)
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


class GmmView(ExplorerView):
    """The GMM map: components over the lattice (no images), the state in the data's first two principal axes."""

    title = "GMM SOM"
    views = ("components", "U-matrix")
    region_word = "component"

    def _map_layers(self) -> dict:
        return {"U-matrix": [self._umatrix_layer()]}  # the components view is the labels layer (added by _build_map)

    def _hover(self):
        return [("unit", "@unit"), ("component", "@label"), ("share of its hits", "@purity"), ("U-matrix", "@umatrix"),
                ("squared distance", "@activation")]

    def _build_state(self) -> None:
        from bokeh.models import ColumnDataSource, Range1d
        from bokeh.plotting import figure

        m = self.model
        run = m.run
        P, T = m.prototypes_xy(), m.test_xy()
        lo, hi = np.minimum(P.min(0), T.min(0)), np.maximum(P.max(0), T.max(0))
        pad = 0.05 * (hi - lo)
        self.frame = figure(width=330, height=330, title="the state on the data's first two principal axes", tools="",
                            toolbar_location=None, x_range=Range1d(lo[0] - pad[0], hi[0] + pad[0]),
                            y_range=Range1d(lo[1] - pad[1], hi[1] + pad[1]), x_axis_label="PC 1", y_axis_label="PC 2")
        self.frame.css_classes = ["explore-frame"]
        self.frame.scatter(T[:, 0], T[:, 1], size=3, alpha=0.35, color=[CATEGORY10[int(c) % 10] for c in run.y_test])
        # the lattice: each prototype joined to its right and lower neighbour (no wrap-around lines)
        rows, cols = self.rows, self.cols
        xs, ys = [], []
        for k in range(run.K):
            r, c = divmod(k, cols)
            for n in ([k + 1] if c + 1 < cols else []) + ([k + cols] if r + 1 < rows else []):
                xs.append([P[k, 0], P[n, 0]])
                ys.append([P[k, 1], P[n, 1]])
        self.frame.multi_line(xs, ys, line_color="#555555", line_alpha=0.5)
        self.frame.scatter(P[:, 0], P[:, 1], size=5, color="black")
        M = m.project(run.means)
        self.frame.scatter(M[:, 0], M[:, 1], marker="x", size=14, line_width=3, color=[CATEGORY10[c % 10] for c in range(len(M))])
        self.lin_src = ColumnDataSource({"x": [], "y": []})
        self.frame.line("x", "y", source=self.lin_src, line_color="#7f7f7f", line_dash="dashed", line_width=2)
        self.state_src = ColumnDataSource({"x": [], "y": []})
        self.frame.line("x", "y", source=self.state_src, line_color="#d62728", line_width=2)
        self.now_src = ColumnDataSource({"x": [], "y": [], "colour": [], "marker": [], "size": []})
        self.frame.scatter("x", "y", source=self.now_src, color="colour", marker="marker", size="size", line_color="black")
        names = [f"component {c}" for c in range(run.n_components)]
        if m.has_posterior:
            self.prob = self._lines_figure("component posterior along the path", names, y_range=Range1d(0, 1.02), width=400)
        else:
            self.prob = self._lines_figure("the BMU's component along the path (no mixture parameters)", names,
                                           y_range=Range1d(0, 1.02), width=400)
        self.state_panels = [self.frame, self.prob]

    def _render_state(self) -> None:
        m = self.model
        P = m.probs()
        xy = m.project(m.states())
        self.state_src.data = {"x": xy[:, 0], "y": xy[:, 1]}
        x0, x = xy[0], xy[-1]
        marks = {"x": [x0[0], x[0]], "y": [x0[1], x[1]], "colour": ["#2ca02c", "#d62728"], "marker": ["circle", "circle"],
                 "size": [11, 11]}
        if m.target is not None:
            t = m.project(m.run.W[m.target])[0]
            for k, v in (("x", t[0]), ("y", t[1]), ("colour", "#ffdd00"), ("marker", "star"), ("size", 18)):
                marks[k].append(v)
        self.now_src.data = marks
        self.frame.title.text = f"the state on the data's first two principal axes, step {m.t}"
        self.prob_src.data = {"step": np.arange(P.shape[0]), **{f"p{c}": P[:, c] for c in range(P.shape[1])}}

    def _build_compare(self) -> None:
        self.cmp = None  # no images: the linear path is drawn on the projection (dashed)

    def _render_strip(self, paths) -> None:
        L = paths.get("linear")
        xy = self.model.project(L.states) if L is not None else np.zeros((0, 2))
        self.lin_src.data = {"x": xy[:, 0], "y": xy[:, 1]}

    def _measure_text(self, S: dict) -> str:
        m = self.model
        d = m.run.mean_distances(m.states()[-1:])[0]
        dist = ", ".join(f"{c}: {v:.2f}" for c, v in enumerate(d))
        word = "posterior" if m.has_posterior else "BMU's component"
        return f"component <b>{S['label']}</b> ({word} {S['confidence']:.2f}) &middot; distance to the component means {dist}"

    def _has_images(self) -> bool:
        return False


class FaceView(ExplorerView):
    """The face map: decoded prototype faces, the labelled clusters outlined, cluster and identity distances."""

    title = "face SOM"
    views = ("prototype faces", "U-matrix")
    region_word = "cluster"
    CLUSTER_COLOURS = ("#e377c2", "#8c564b", "#17becf", "#bcbd22", "#9467bd")

    def _unit_labels(self):
        run = self.model.run
        return np.full(run.K, -1), np.zeros(run.K)

    def _hover(self):
        return [("unit", "@unit"), ("clusters", "@clusters"), ("U-matrix", "@umatrix"), ("squared distance", "@activation")]

    def _map_layers(self) -> dict:
        img = self.model.prototype_mosaic()
        faces = self.map.image_rgba(image=[_rgba(img)], x=-0.5, y=-0.5, dw=self.cols, dh=self.rows)
        return {"prototype faces": [faces], "U-matrix": [self._umatrix_layer()]}

    def _map_overlays(self) -> None:
        from bokeh.models import ColumnDataSource, Legend

        m = self.model
        member = [[] for _ in range(m.run.K)]
        items = []
        for i, name in enumerate(m.cluster_names):
            units = m.run.clusters[name]
            for u in units.tolist():
                member[u].append(name)
            r, c = np.divmod(units, self.cols)
            # nested outlines (a unit may be in two clusters): each cluster's squares a little smaller
            w = 0.96 - 0.1 * i
            src = ColumnDataSource({"x": c.astype(float), "y": (self.rows - 1 - r).astype(float)})
            rr = self.map.rect("x", "y", w, w, source=src, fill_alpha=0.0, line_width=2,
                               line_color=self.CLUSTER_COLOURS[i % len(self.CLUSTER_COLOURS)])
            items.append((name, [rr]))
        self.units.data = {**self.units.data, "clusters": [", ".join(n) or "—" for n in member]}
        self.map.add_layout(Legend(items=items, label_text_font_size="8pt", spacing=0, padding=2), "below")
        self.map.height += 30

    def _build_state(self) -> None:
        from bokeh.models import ColumnDataSource, Range1d
        from bokeh.plotting import figure

        m = self.model
        side = int(m.frame().shape[0])
        self.side = side
        self.frame = self._image_figure("decoded face", side)
        self.frame_src = ColumnDataSource({"image": [_rgba(m.frame())]})
        self.frame.image_rgba(image="image", source=self.frame_src, x=0, y=0, dw=side, dh=side)
        self.prob = self._lines_figure("mean distance to each labelled cluster", list(m.cluster_names), width=420)
        every = m.identity_every
        how = f"every {every} steps" if every else "on demand"
        self.ident = figure(width=340, height=250, tools="", toolbar_location=None, x_axis_label="step",
                            title=f"identity distance to the start (dlib, {how})")
        self.ident.css_classes = ["explore-identity"]
        self.ident_src = ColumnDataSource({"step": [], "drift": []})
        self.ident.line("step", "drift", source=self.ident_src, line_color="#9467bd", line_width=2)
        self.ident.scatter("step", "drift", source=self.ident_src, color="#9467bd", size=6)
        self.ident.line([0, max(m.horizon, 1)], [0.6, 0.6], line_dash="dotted", line_color="#7f7f7f")  # dlib's same-person threshold
        self.ident.y_range = Range1d(0, 1.0)
        self.state_panels = [self.frame, self.prob]

    def _extra_panels(self) -> list:
        import panel as pn

        return [pn.pane.Bokeh(self.ident)]

    def _extra_buttons(self) -> list:
        import panel as pn

        self.w_identity = pn.widgets.Button(label="identity now", width=110, disabled=not self.model.identity_available)
        self.w_identity.on_click(self._on_identity)
        return [self.w_identity]

    def _on_identity(self, event=None) -> None:
        # dlib takes ~0.1 s a frame: measured on the worker thread, then drawn
        self._background(lambda: (self.model.measure_identity(), self.model.measure_linear_identity()), self.render)

    def _render_state(self) -> None:
        m = self.model
        P = m.probs()
        self.frame_src.data = {"image": [_rgba(m.frame())]}
        self.frame.title.text = f"decoded face, step {m.t}"
        self.prob_src.data = {"step": np.arange(P.shape[0]), **{f"p{c}": P[:, c] for c in range(P.shape[1])}}
        steps, drift = m.identity()
        self.ident_src.data = {"step": steps, "drift": drift}
        self.ident.y_range.end = max(1.0, float(drift.max()) * 1.1 if drift.size else 1.0)

    def _build_compare(self) -> None:
        from bokeh.models import ColumnDataSource, Range1d
        from bokeh.plotting import figure

        side = int(self.model.frame().shape[0])
        width, height = COMPARE_FRAMES * (side + 1) + 1, 2 * (side + 1) + 1
        self.cmp = figure(width=760, height=int(760 * height / (width + 80)) + 40, title="frame for frame (MUSIC, linear)",
                          tools="", toolbar_location=None, x_range=Range1d(-80, width), y_range=Range1d(0, height))
        self.cmp.axis.visible = False
        self.cmp.grid.visible = False
        self.cmp_src = ColumnDataSource({"image": [_rgba(np.full((height, width, 3), 255, np.uint8))]})
        self.cmp.image_rgba(image="image", source=self.cmp_src, x=0, y=0, dw=width, dh=height)
        self.cmp_text = ColumnDataSource({"x": [-78, -78], "y": [1.5 * (side + 1), 0.5 * (side + 1)], "text": ["MUSIC", "linear"]})
        self.cmp.text("x", "y", text="text", source=self.cmp_text, text_font_size="9pt", text_baseline="middle")

    def _render_strip(self, paths) -> None:
        from .maps import rgb_mosaic

        m = self.model
        steps = self._compare_steps()
        side = int(m.frame().shape[0])
        tiles = np.full((2, COMPARE_FRAMES, side, side, 3), 217, dtype=np.uint8)
        for i, method in enumerate(("music", "linear")):
            if method in paths:
                imgs = paths[method].images
                for j, s in enumerate(steps):
                    if s < imgs.shape[0]:
                        tiles[i, j] = imgs[s]
        self.cmp_src.data = {"image": [_rgba(rgb_mosaic(tiles.reshape(-1, side, side, 3), 2, COMPARE_FRAMES))]}
        self.cmp.title.text = f"frame for frame at steps {', '.join(map(str, steps))} (MUSIC so far: step {m.t})"

    def _start_widgets(self) -> list:
        m = self.model
        n = len(m.run.z_test)
        self.w_face = self._W.IntInput(label=f"test face (0-{n - 1})", value=m.start_index, start=0, end=n - 1, width=220)
        self.w_face.param.watch(self._on_start, "value")
        return [self.w_face]

    def _sync_start(self) -> None:
        self.w_face.value = self.model.start_index

    def _on_start(self, event) -> None:
        if self._updating:
            return
        self._restart(lambda: self.model.set_start(index=self.w_face.value))

    def _region_options(self) -> list:
        return list(self.model.cluster_names)

    def _measure_text(self, S: dict) -> str:
        d = S["goal_distance"]
        dist = f"distance to the goal: {d:.3f}" if d is not None else "free evolution (no goal distance)"
        if not self.model.identity_available:
            ident = "identity distance: dlib or face-recognition-models is not installed"
        elif S["identity"] is None:
            ident = "identity distance: not measured yet"
        else:
            ident = f"identity distance to the start {S['identity'][1]:.3f} (step {S['identity'][0]})"
        return f"face {html.escape(S['start_face'])} &middot; {dist} &middot; {ident}"


VIEWS = {"mnist": ExplorerView, "gmm": GmmView, "faces": FaceView}


class ExplorerPage:
    """One browser session's page: the map switch (the maps the run has) over one :class:`ExplorerView` per map,
    each built the first time it is picked."""

    def __init__(self, maps: dict, notes=(), doc=None):
        import panel as pn

        from .maps import model_for

        if not isinstance(maps, dict) or not maps:
            raise ValueError("maps must be a non-empty {name: data} (musicsom.explore.run.load_maps)")
        unknown = set(maps) - set(VIEWS)
        if unknown:
            raise ValueError(f"unknown maps {sorted(unknown)}; the explorer shows {list(VIEWS)}")
        self.maps, self.doc, self._model_for = maps, doc, model_for
        self.views: dict[str, ExplorerView] = {}
        names = [n for n in VIEWS if n in maps]
        self.w_map = pn.widgets.RadioButtonGroup(label="map", options=[MAP_LABELS[n] for n in names],
                                                 value=MAP_LABELS[names[0]], width=300)
        self.w_map.param.watch(lambda e: self.show(next(k for k, v in MAP_LABELS.items() if v == e.new)), "value")
        run = next(iter(maps.values()))
        notes_html = "".join(f"<li>{html.escape(n)}</li>" for n in notes)
        header = pn.pane.HTML(f"<h2 style='margin:4px 0'>musicsom explore</h2><div>run <code>{html.escape(str(run.run_dir))}</code></div>"
                              + (f"<ul>{notes_html}</ul>" if notes_html else ""), width=1200)
        self.body = pn.Column()
        self.layout = pn.Column(header, pn.Row(pn.pane.HTML("<b>map</b>"), self.w_map), self.body)
        self.show(names[0])

    def view(self, name: str) -> ExplorerView:
        """The view of map ``name`` (built on first use)."""
        if name not in self.maps:
            raise ValueError(f"this run has no {name} map; it has {list(self.maps)}")
        if name not in self.views:
            view = VIEWS[name](self._model_for(self.maps[name]))
            view.doc = self.doc
            view._show_region()
            view.watch_knn()
            self.views[name] = view
        return self.views[name]

    def show(self, name: str) -> ExplorerView:
        """Put map ``name``'s view on the page (what the switch does)."""
        view = self.view(name)
        for other in self.views.values():
            if other is not view:
                other.pause()  # a hidden map does not keep stepping (and redrawing) behind the shown one
        self.body.objects = [view.layout]
        if self.w_map.value != MAP_LABELS[name]:
            self.w_map.value = MAP_LABELS[name]
        return view


def build_page(run, notes=()):
    """A new page for one browser session: ``run`` is a {map: data} of :func:`musicsom.explore.run.load_maps`
    (or one map's data); each map gets its own view and model."""
    import panel as pn

    from .run import FaceData, GmmData

    if not isinstance(run, dict):
        name = "gmm" if isinstance(run, GmmData) else "faces" if isinstance(run, FaceData) else "mnist"
        run = {name: run}
    return ExplorerPage(run, notes, doc=pn.state.curdoc).layout


def serve(run_dir=".", port: int = 0, seed: int | None = None, threads: int = 1, ready=None):
    """Serve the explorer of ``run_dir`` on http://127.0.0.1:PORT/ until interrupted (``port`` 0: a free one).

    Prints the address; opens no browser and binds no other interface. ``ready(url)`` is called once the
    server listens (tests). Raises :class:`musicsom.explore.run.RunError` for an unreadable run folder.
    """
    import panel as pn

    if isinstance(port, bool) or not isinstance(port, int) or not 0 <= port <= 65535:
        raise ValueError(f"port must be an integer in [0, 65535]; got {port!r}")
    limit_blas(threads)
    maps, notes = load_maps(run_dir, seed=seed, threads=threads)
    run = next(iter(maps.values()))
    address = "127.0.0.1"
    port = port or free_port(address)
    if "mnist" in maps:
        maps["mnist"].knn_index()  # the k-NN index of the training images builds on its own thread from now on
    from .maps import model_for

    for name, data in maps.items():
        # warm-up: the first view of a map pays imports and torch's first call (~1-2 s), not the first user's switch
        VIEWS[name](model_for(data))

    def page():  # a plain function: Panel calls it once per session (it would render a partial as text)
        return build_page(maps, notes)

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

