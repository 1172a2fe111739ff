"""``musicsom explore RUN_DIR``: a local web page to steer inputs through a finished run's maps (MNIST, GMM, faces).

- :mod:`musicsom.explore.run`: read a run folder (each map with what its view needs: encodings, labels,
  classifier, VAE, the mixture, the face decoder and clusters, config); a missing or outdated file is
  named with the rule that writes it;
- :mod:`musicsom.explore.model`: the explorer's state and logic without any UI (start, goal, mode,
  MUSIC settings, stepping, comparison with linear and VAE interpolation, CSV/PNG/GIF export, the
  reproducing snippet);
- :mod:`musicsom.explore.maps`: the GMM and face maps' models (what a state is shown as and measured by);
- :mod:`musicsom.explore.app`: the Panel/Bokeh page and its server (127.0.0.1 only, every resource
  served by the app itself).

Needs the ``explore`` extra (panel) and the ``pipeline`` extra (torch: the run's classifier):
``pip install "musicsom[pipeline,explore]"``. Nothing here is imported by ``import musicsom``, and
panel is imported only by :mod:`musicsom.explore.app` (docs/EXPLORE.md).
"""

from __future__ import annotations

__all__ = ["load_run", "load_gmm", "load_faces", "load_maps", "RunData", "GmmData", "FaceData", "RunError", "ExploreModel",
           "GmmModel", "FaceModel", "serve"]

_WHERE = {"load_run": "run", "load_gmm": "run", "load_faces": "run", "load_maps": "run", "RunData": "run", "GmmData": "run",
          "FaceData": "run", "RunError": "run", "ExploreModel": "model", "GmmModel": "maps", "FaceModel": "maps", "serve": "app"}


def __getattr__(name):
    # PEP 562: `import musicsom.explore` loads neither torch nor panel; each name on first use
    if name in _WHERE:
        import importlib

        return getattr(importlib.import_module(f"{__name__}.{_WHERE[name]}"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
