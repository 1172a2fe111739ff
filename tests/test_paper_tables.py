"""The paper's Tables 1 and 2 as the paper lays them out (musicsom.experiments.paper_tables and its stage).

Synthetic per-trajectory frames with known answers: pooled medians and percentiles over seeds, arm means, exact
Wilcoxon p-values Holm-adjusted, the digit pairs favouring MUSIC in each metric's direction; the paper's rows and
columns in its order, and its cells marked "lost in extraction" or with the marks that survive.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from musicsom.experiments import paper_tables as pt
from musicsom.pipeline.report import paper_tables as stage

TABLE1_METRICS = ["transition_rate", "dwell_median", "dwell_iqr", "continuity", "curvature_within", "curvature_across",
                  "geodesic_efficiency", "segmented_continuity"]


def per_trajectory() -> pd.DataFrame:
    """Two seeds, two regimes; informed transition_rate 0.1..0.5 split 3 + 2 over the seeds (pooled median 0.3,
    percentiles 0.2 and 0.4; the seeds' own medians are 0.2 and 0.45), cluster = informed + 1."""
    rows = []
    for regime, shift in (("informed", 0.0), ("cluster", 1.0)):
        for i, v in enumerate([0.1, 0.2, 0.3, 0.4, 0.5]):
            seed = 0 if i < 3 else 1
            row = {"regime": regime, "trajectory": i, "seed": seed}
            for k, m in enumerate(TABLE1_METRICS):
                row[m] = v + shift + 10 * k
            rows.append(row)
    frame = pd.DataFrame(rows)
    # a trajectory with no step inside a cell has no within-cell curvature: it is left out, not counted as 0
    frame.loc[(frame["regime"] == "cluster") & (frame["trajectory"] == 4), "curvature_across"] = np.nan
    return frame


def test_table1_pools_every_seed_and_gives_median_and_quartiles():
    t = pt.table1(per_trajectory())
    r = t[(t["regime"] == "informed") & (t["metric"] == "transition_rate")].iloc[0]
    assert (r["median"], r["q25"], r["q75"]) == pytest.approx((0.3, 0.2, 0.4))
    assert r["iqr"] == pytest.approx(0.2) and r["n_trajectories"] == 5 and r["n_seeds"] == 2
    assert r["ours"] == "0.3 [0.2, 0.4]"
    c = t[(t["regime"] == "cluster") & (t["metric"] == "geodesic_efficiency")].iloc[0]  # 1.1..1.5 + 60
    assert (c["median"], c["q25"], c["q75"]) == pytest.approx((61.3, 61.2, 61.4))
    # the NaN is skipped: across-cell curvature of the cluster regime, 1.1..1.4 + 50
    w = t[(t["regime"] == "cluster") & (t["metric"] == "curvature_across")].iloc[0]
    assert (w["median"], w["q25"], w["q75"]) == pytest.approx((51.25, 51.175, 51.325)) and w["n_trajectories"] == 4


def test_table1_has_the_papers_panels_and_rows_in_order_and_every_paper_cell_is_lost():
    t = pt.table1(per_trajectory())
    panels = pt.table1_layout(t)
    assert [title.split(" (")[0] for title, _ in panels] == ["(a) Informed convergence", "(b) Cluster exploration"]
    assert panels[0][0] == "(a) Informed convergence (5 trajectories, 2 seeds pooled)"
    for _, layout in panels:
        assert list(layout.columns) == ["Metric", "Median [IQR] (ours)", "Paper: Median IQR"]
        assert layout["Metric"].tolist() == [
            "Transition rate", "Dwell length (steps)", "Dwell IQR", "Step–direction continuity", "Curvature",
            "Geodesic efficiency", "Segmented continuity", "Segmented continuity IQR"]
        assert set(layout["Paper: Median IQR"]) == {"lost in extraction"}
    informed = panels[0][1].set_index("Metric")["Median [IQR] (ours)"]
    # one paper row, both of our curvatures, named
    assert informed["Curvature"] == "within 40.3 [40.2, 40.4]; across 50.3 [50.2, 50.4]"
    # the frame has no within-trajectory IQR of segment continuities: said so, not invented
    assert informed["Segmented continuity IQR"] == "not computed"
    assert t.loc[t["metric"] == "segmented_continuity_iqr", "n_trajectories"].eq(0).all()


def test_table1_uses_a_segmented_continuity_iqr_column_when_the_frame_has_one():
    frame = per_trajectory()
    frame["segmented_continuity_iqr"] = np.where(frame["regime"] == "informed", 0.01, 0.5)
    layout = dict(pt.table1_layout(pt.table1(frame)))
    row = layout["(b) Cluster exploration (5 trajectories, 2 seeds pooled)"].set_index("Metric").loc["Segmented continuity IQR"]
    assert row["Median [IQR] (ours)"] == "0.5 [0.5, 0.5]"


def test_table1_refuses_a_frame_without_both_regimes_or_without_metrics():
    frame = per_trajectory()
    with pytest.raises(ValueError, match=r"regimes \['cluster'\]"):
        pt.table1(frame[frame["regime"] == "informed"])
    with pytest.raises(ValueError, match="lacks the columns \\['regime'\\]"):
        pt.table1(frame.drop(columns="regime"))
    with pytest.raises(ValueError, match="none of Table 1's metric columns"):
        pt.table1(frame[["regime", "trajectory", "seed"]])


def pairs_frame(seed: int = 0) -> pd.DataFrame:
    """4 digit pairs × 2 starts (8 paired units) of MUSIC, linear and a VAE arm that Table 2 ignores.

    MUSIC − linear per unit: mean confidence 0 (no difference: p = 1); min confidence +1..+6 on three pairs and
    −0.1, −0.2 on the fourth (exact two-sided p = 2·5/256); sharpness +, manifold distance +, geodesic efficiency
    and continuity − on every unit (exact p = 2/256 each).
    """
    steps = np.arange(1, 9) / 100.0  # distinct magnitudes: no ties in the signed ranks
    rows = []
    for u in range(8):
        pair, start = f"{u // 2}->{u // 2 + 1}", u % 2
        base = {"seed": seed, "pair": pair, "start": start}
        linear = {"mean_confidence": 0.9, "min_confidence": 0.4, "sharpness": 0.05, "manifold_distance": 4.0,
                  "geodesic_efficiency": 1.0, "continuity": 1.0}
        d_min = [0.01, 0.02, 0.03, 0.04, 0.05, 0.06, -0.001, -0.002][u]
        music = {"mean_confidence": 0.9, "min_confidence": 0.4 + d_min, "sharpness": 0.05 + steps[u],
                 "manifold_distance": 4.0 + steps[u], "geodesic_efficiency": 1.0 - steps[u], "continuity": 1.0 - steps[u] / 10}
        rows += [{**base, "method": "linear", **linear}, {**base, "method": "music", **music},
                 {**base, "method": "vae", **{k: -5.0 for k in linear}}]
    return pd.DataFrame(rows)


def test_table2_means_holm_p_and_pairs_favouring_music():
    t = pt.table2(pairs_frame()).set_index("metric")
    assert t.index.tolist() == ["mean_confidence", "min_confidence", "sharpness", "manifold_distance",
                                "geodesic_efficiency", "continuity"]
    assert t.loc["sharpness", "mean_music"] == pytest.approx(0.05 + 0.045) and t.loc["sharpness", "mean_linear"] == pytest.approx(0.05)
    assert (t["n_music"] == 8).all() and (t["n_paired"] == 8).all() and (t["n_pairs"] == 4).all()
    # four metrics with every difference of one sign: exact p = 2/256, Holm's smallest of six: 6 × 2/256
    for m in ("sharpness", "manifold_distance", "geodesic_efficiency", "continuity"):
        assert t.loc[m, "p_value"] == pytest.approx(2 / 256) and t.loc[m, "p_holm"] == pytest.approx(6 * 2 / 256)
        assert t.loc[m, "significant"]
    # one pair against MUSIC: p = 10/256, fifth of six in Holm's order: 2 × 10/256 = 0.078 > 0.05
    assert t.loc["min_confidence", "p_holm"] == pytest.approx(2 * 10 / 256) and not t.loc["min_confidence", "significant"]
    assert t.loc["mean_confidence", "p_holm"] == 1.0
    # pairs favouring MUSIC in each metric's direction; a tie favours neither; lower manifold distance is better
    favour = t["pairs_favour_music"].to_dict()
    assert favour == {"mean_confidence": 0, "min_confidence": 3, "sharpness": 4, "manifold_distance": 0,
                      "geodesic_efficiency": 0, "continuity": 0}
    assert t.loc["mean_confidence", "sig"] == "ns (p = 1); 0/4 pairs favour MUSIC"
    assert t.loc["min_confidence", "sig"] == "ns (p = 0.078); 3/4 pairs favour MUSIC"
    assert t.loc["sharpness", "sig"] == "p = 0.047; 4/4 pairs favour MUSIC"
    assert t.loc["sharpness", "music"] == "0.095" and t.loc["sharpness", "linear"] == "0.05"


def test_table2_pools_the_seeds_and_groups_by_digit_pair_over_them():
    second = pairs_frame(seed=1)
    second.loc[second["method"] == "music", "mean_confidence"] = 0.7  # seed 1: MUSIC lower on every unit
    t = pt.table2(pd.concat([pairs_frame(0), second], ignore_index=True)).set_index("metric")
    assert t.loc["mean_confidence", "mean_music"] == pytest.approx(0.8) and t.loc["mean_confidence", "n_music"] == 16
    assert t.loc["mean_confidence", "n_paired"] == 16 and t.loc["mean_confidence", "n_pairs"] == 4
    assert t.loc["mean_confidence", "pairs_favour_music"] == 0 and t.loc["sharpness", "pairs_favour_music"] == 4


def test_table2_has_the_papers_rows_columns_and_surviving_marks():
    layout = pt.table2_layout(pt.table2(pairs_frame()))
    assert list(layout.columns) == ["Metric", "MUSIC", "Linear", "Sig.", "Paper: MUSIC", "Paper: Linear", "Paper: Sig."]
    assert layout["Metric"].tolist() == ["Mean confidence", "Min confidence", "Mean sharpness", "Manifold distance",
                                         "Geodesic efficiency", "Step continuity"]
    assert set(layout["Paper: MUSIC"]) == {"lost in extraction"}
    assert layout["Paper: Linear"].str.startswith("lost in extraction").all()
    paper_sig = layout.set_index("Metric")["Paper: Sig."]
    assert paper_sig["Mean confidence"] == "ns (p lost in extraction)"
    assert paper_sig["Min confidence"].startswith("… pairs") and "8 of 10 pairs" in paper_sig["Min confidence"]
    assert paper_sig["Mean sharpness"].startswith("lost in extraction") and "all 10 pairs" in paper_sig["Mean sharpness"]
    assert paper_sig["Manifold distance"].startswith("lost in extraction")
    assert paper_sig["Geodesic efficiency"] == "—" and paper_sig["Step continuity"] == "—"


def test_table2_refuses_frames_without_both_arms_or_columns():
    frame = pairs_frame()
    with pytest.raises(ValueError, match="needs 'music' and 'linear'"):
        pt.table2(frame[frame["method"] != "linear"])
    with pytest.raises(ValueError, match=r"lacks the columns \['sharpness'\]"):
        pt.table2(frame.drop(columns="sharpness"))


def test_the_stage_writes_both_tables_and_their_markdown(tmp_path):
    gmm, mnist = [], []
    frame = per_trajectory()
    for s in (0, 1):
        gmm.append(tmp_path / f"gmm{s}.csv")
        frame[frame["seed"] == s].to_csv(gmm[-1], index=False)
        mnist.append(tmp_path / f"pairs{s}.csv")
        pairs_frame(s).to_csv(mnist[-1], index=False)
    t1, t2 = tmp_path / "tables" / "paper_table1_gmm.csv", tmp_path / "tables" / "paper_table2_mnist.csv"
    stage.main(["--gmm", *map(str, gmm), "--table1", str(t1), "--mnist", *map(str, mnist), "--table2", str(t2)])
    assert pd.read_csv(t1).shape[0] == 2 * 9  # two panels × eight paper rows, Curvature as two metrics
    md1 = t1.with_suffix(".md").read_text()
    assert "## (a) Informed convergence (5 trajectories, 2 seeds pooled)" in md1
    assert "| Transition rate | 0.3 [0.2, 0.4] | lost in extraction |" in md1
    assert "| Segmented continuity IQR | not computed | lost in extraction |" in md1
    md2 = t2.with_suffix(".md").read_text()
    assert "16 paired trajectories (2 seeds pooled)" in md2
    assert "| Geodesic efficiency | 0.955 | 1 |" in md2 and "| — |" in md2
    assert pd.read_csv(t2)["paper_row"].tolist()[0] == "Mean confidence"


def test_the_stage_needs_each_input_with_its_output(tmp_path):
    from musicsom.pipeline.files import InputError

    with pytest.raises(InputError, match="--gmm goes with --table1"):
        stage.main(["--gmm", str(tmp_path / "a.csv")])
    with pytest.raises(InputError, match="nothing to do"):
        stage.main([])
