"""Known-answer tests of sim.sensitivity: SALib's methods through the module's code path.

Synthetic functions with published or planted answers stand in for the model, fed as the
tidy ``runs`` tables a sweep produces (point, replicate, outcomes), so that the replicate
averaging, the ranking and the report are exercised exactly as on real results.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from sim import sensitivity as S

ISHIGAMI = {"num_vars": 3, "names": ["x1", "x2", "x3"], "bounds": [[-np.pi, np.pi]] * 3}
# Published values (Ishigami & Homma; SALib's test suite): a = 7, b = 0.1.
ISHIGAMI_S1 = [0.314, 0.442, 0.0]
ISHIGAMI_ST = [0.558, 0.442, 0.244]


def as_runs(y: np.ndarray, replicates: int = 2, noise: float = 0.0, seed: int = 0,
            name: str = "y") -> pd.DataFrame:
    """A runs table: each point's value plus independent noise per replicate."""
    rng = np.random.default_rng(seed)
    return pd.concat([pd.DataFrame({"point": np.arange(len(y)), "replicate": r,
                                    name: y + rng.normal(0.0, noise, len(y))})
                      for r in range(replicates)], ignore_index=True)


def ishigami_runs(n_base: int, noise: float = 0.05, seed: int = 0) -> pd.DataFrame:
    from SALib.sample import sobol
    from SALib.test_functions import Ishigami

    X = sobol.sample(ISHIGAMI, n_base, calc_second_order=False, seed=1)
    return as_runs(Ishigami.evaluate(X), noise=noise, seed=seed)


def test_sobol_recovers_ishigami_indices():
    runs = ishigami_runs(1024)
    table = S.sobol_indices(ISHIGAMI, runs.sample(frac=1, random_state=3), ["y"])
    assert list(table.columns) == list(S.SOBOL_COLUMNS)
    by = table.set_index("parameter").loc[["x1", "x2", "x3"]]
    np.testing.assert_allclose(by["S1"], ISHIGAMI_S1, atol=0.05)
    np.testing.assert_allclose(by["ST"], ISHIGAMI_ST, atol=0.05)
    # the intervals hold the published values (within a little of the bootstrap's error)
    assert (by["ST_low"] - 0.02 <= ISHIGAMI_ST).all()
    assert (by["ST_high"] + 0.02 >= ISHIGAMI_ST).all()
    assert by["rank"].tolist() == [1, 2, 3]
    assert by.loc["x3", "rankable"]  # 0.24 is far from 0.44: its rank is settled
    assert (table["n_base"] == 1024).all()


def test_sobol_uses_replicate_means_and_prefixes():
    runs = ishigami_runs(64, noise=0.5)
    means = S.point_means(runs, ["y"])
    expect = runs.groupby("point")["y"].mean()
    np.testing.assert_allclose(means["y"], expect)
    half = S.sobol_indices(ISHIGAMI, runs, ["y"], n_base=32)
    only = runs[runs["point"] < 32 * 5]
    np.testing.assert_allclose(half["ST"], S.sobol_indices(ISHIGAMI, only, ["y"])["ST"])
    with pytest.raises(ValueError, match="n_base=128 must be between 2 and the design's 64"):
        S.sobol_indices(ISHIGAMI, runs, ["y"], n_base=128)
    with pytest.raises(ValueError, match="not a multiple of k \\+ 2 = 5"):
        S.sobol_indices(ISHIGAMI, runs[runs["point"] < 7], ["y"])


def linear_morris(noise: float = 0.01):
    """y = 10 a + 4 b^2 (inert1, inert2, c do nothing); z = 0.5 c: c drives z only."""
    from SALib.sample import morris

    problem = {"num_vars": 5, "names": ["a", "inert1", "b", "c", "inert2"],
               "bounds": [[0, 1]] * 5}
    X = morris.sample(problem, 30, num_levels=4, seed=3)
    y = as_runs(10 * X[:, 0] + 4 * X[:, 2] ** 2, noise=noise)
    z = as_runs(0.5 * X[:, 3], noise=noise, seed=1, name="z")
    return problem, X, y.assign(z=z["z"])


def test_morris_ranks_active_inputs_and_screen_drops_inert_ones():
    problem, X, runs = linear_morris()
    m = S.morris_indices(problem, X, runs, ["y", "z"], num_levels=4)
    assert list(m.columns) == list(S.MORRIS_COLUMNS)
    y = m[m["outcome"] == "y"].set_index("parameter")
    assert y.loc["a", "rank"] == 1 and y.loc["b", "rank"] == 2
    assert y.loc["a", "mu_star"] == pytest.approx(10, rel=0.05)
    assert y.loc[["inert1", "inert2", "c"], "mu_star"].max() < 0.1
    z = m[m["outcome"] == "z"].set_index("parameter")
    assert z.loc["c", "rank"] == 1
    # c is under 1% of y's largest mu_star, but z's own driver survives
    assert S.screen(m) == ["a", "c", "b"]
    assert S.screen(m, max_keep=2) == ["a", "c"]
    assert S.screen(m, keep_share=1.0) == ["a", "c"]
    with pytest.raises(ValueError, match="keep_share=0 must be in"):
        S.screen(m, keep_share=0)


def test_noise_share_recovers_planted_share():
    rng = np.random.default_rng(5)
    signal = rng.normal(0.0, 1.0, 400)  # parameter variance 1
    runs = as_runs(signal, replicates=4, noise=0.5, seed=6)  # noise variance 0.25
    table = S.noise_share(runs, ["y"])
    assert list(table.columns) == list(S.NOISE_COLUMNS)
    row = table.iloc[0]
    assert row["noise_variance"] == pytest.approx(0.25, rel=0.1)
    assert row["noise_share"] == pytest.approx(0.25 / 1.25, abs=0.04)
    assert row["mean_noise_share"] == pytest.approx(0.0625 / 1.0625, abs=0.02)
    assert row["replicates"] == 4


def test_point_means_names_incomplete_points():
    runs = as_runs(np.arange(10.0), replicates=3)
    with pytest.raises(ValueError, match=r"point\(s\) 7 miss a replicate"):
        S.point_means(runs.drop(index=runs[(runs.point == 7) & (runs.replicate == 1)].index),
                      ["y"])
    bad = runs.copy()
    bad.loc[(bad.point == 4) & (bad.replicate == 2), "y"] = np.nan
    with pytest.raises(ValueError, match=r"point\(s\) 4 miss outcome\(s\) \['y'\]"):
        S.point_means(bad, ["y"])
    with pytest.raises(ValueError, match=r"point\(s\) 2 have the same replicate twice"):
        S.point_means(pd.concat([runs, runs[(runs.point == 2) & (runs.replicate == 0)]]), ["y"])
    with pytest.raises(ValueError, match=r"no column\(s\) \['vacancy_rate'\]"):
        S.point_means(runs, ["vacancy_rate"])


def test_convergence_intervals_shrink_with_base_samples():
    runs = ishigami_runs(512)
    conv = S.sobol_convergence(ISHIGAMI, runs, ["y"])
    assert sorted(conv["n_base"].unique()) == [64, 128, 256, 512]
    width = conv.groupby("n_base")["ST_width"].mean()
    assert width.is_monotonic_decreasing
    assert width[512] < 0.6 * width[64]  # ~1/sqrt(8) = 0.35 expected


def two_close_drivers(noise: float) -> pd.DataFrame:
    from SALib.sample import sobol

    problem = {"num_vars": 3, "names": ["a", "b", "c"], "bounds": [[0, 1]] * 3}
    X = sobol.sample(problem, 256, calc_second_order=False, seed=2)
    runs = as_runs(X[:, 0] + 0.85 * X[:, 1] + 0.2 * X[:, 2], noise=noise, seed=4)
    return S.sobol_indices(problem, runs, ["y"])


def test_needed_base_samples_grows_with_noise():
    quiet = S.needed_base_samples(two_close_drivers(0.01)).iloc[0]
    noisy = S.needed_base_samples(two_close_drivers(0.3)).iloc[0]
    assert quiet["n_base"] == noisy["n_base"] == 256
    assert noisy["needed_n_base"] > quiet["needed_n_base"]
    assert not noisy["rankable_now"] and noisy["limiting_pair"] == "a > b"
    need = noisy["needed_n_base"]
    assert need == 2 ** int(np.log2(need))  # a power of two, as Sobol designs need


def synthetic_sobol() -> pd.DataFrame:
    """A Sobol table for registered names: faith.rate dominates; two others overlap."""
    rows = [("faith.rate", 0.40, 0.62, 0.55, 0.70),
            ("trust.confidence_rate", 0.02, 0.18, 0.12, 0.24),
            ("faith.leader_weight", 0.10, 0.15, 0.09, 0.21)]
    f = pd.DataFrame(rows, columns=["parameter", "S1", "ST", "ST_low", "ST_high"])
    f = f.assign(outcome="care_coordination", S1_low=f.S1 - 0.05, S1_high=f.S1 + 0.05,
                 rank=[1, 2, 3], rankable=[True, False, False], n_base=64)
    return f[list(S.SOBOL_COLUMNS)]


def test_summary_words_name_meanings_numbers_and_warnings():
    noise = pd.DataFrame([{"outcome": "care_coordination", "replicates": 3,
                           "noise_variance": 1.0, "total_variance": 4.0, "noise_share": 0.25,
                           "mean_noise_share": 0.1}])
    words = S.summary_words(None, synthetic_sobol(), noise)
    first = words[0]
    assert first.startswith("faith.rate (of the gap to target faith closed, share per week)")
    assert "explains most of the variation in care coordination" in first
    assert "(total index 0.62, 0.55 to 0.70)" in first
    assert any("trust.confidence_rate" in w and "mostly through interactions" in w
               for w in words)
    warning = [w for w in words if w.startswith("Warning")]
    assert len(warning) == 1 and "trust.confidence_rate or faith.leader_weight" in warning[0]
    assert "base samples (now 64) would be needed" in warning[0]
    said = [w for w in words if "Replicate noise is 25% of the spread of care coordination" in w]
    assert len(said) == 1 and "adds about 0.10 to every total index" in said[0]


def small_tables():
    runs = ishigami_runs(16)
    problem, X, mruns = linear_morris()
    return {"morris": S.morris_indices(problem, X, mruns, ["y"], num_levels=4),
            "sobol": S.sobol_indices(ISHIGAMI, runs, ["y"]),
            "convergence": S.sobol_convergence(ISHIGAMI, runs, ["y"], steps=[8, 16]),
            "noise": S.noise_share(runs, ["y"]),
            "screened": ["a", "b"], "settings": {"system": "teaching", "replicates": 2}}


def test_write_report_writes_every_file(tmp_path):
    out = S.write_report(tmp_path / "sensitivity", **small_tables())
    assert out == tmp_path / "sensitivity"
    for name in S.TABLES:
        assert len(pd.read_csv(out / f"{name}.csv")) > 0
        assert (out / f"{name}.parquet").is_file()
    figures = sorted(p.name for p in (out / "figures").iterdir())
    assert figures == ["convergence_y.png", "morris_y.png", "sobol_y.png"]
    text = (out / "sensitivity.md").read_text()
    for part in ("## What was run", "- system: teaching", "kept by screening (2): a, b",
                 "common random numbers", "## Sobol indices", "| 1 | x", "## Convergence",
                 "## Replicate noise", "](figures/sobol_y.png)", "## In words"):
        assert part in text, part
    assert sorted(p.name for p in tmp_path.iterdir()) == ["sensitivity"]  # no temporary


def test_write_report_leaves_nothing_when_it_fails(tmp_path, monkeypatch):
    tables = small_tables()
    old = S.write_report(tmp_path / "sensitivity", **tables)
    before = (old / "sensitivity.md").read_text()

    def broken(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(S, "plot_convergence", broken)
    with pytest.raises(RuntimeError, match="disk full"):
        S.write_report(tmp_path / "fresh", **tables)
    with pytest.raises(RuntimeError, match="disk full"):
        S.write_report(tmp_path / "sensitivity", **{**tables, "settings": {"changed": 1}})
    assert sorted(p.name for p in tmp_path.iterdir()) == ["sensitivity"]
    assert (old / "sensitivity.md").read_text() == before  # the earlier report is intact


def test_write_report_never_replaces_foreign_files(tmp_path):
    folder = tmp_path / "sensitivity"
    folder.mkdir()
    (folder / "notes.txt").write_text("mine")
    with pytest.raises(FileExistsError, match="notes.txt"):
        S.write_report(folder, morris=None, sobol=None, convergence=None, noise=None,
                       screened=None, settings={})
    assert [p.name for p in folder.iterdir()] == ["notes.txt"]


def test_summary_words_after_screening_only():
    problem, X, runs = linear_morris()
    m = S.morris_indices(problem, X, runs, ["y"], num_levels=4)
    words = S.summary_words(m, None, None)
    assert len(words) == 1
    assert words[0].startswith("Screening ranks a first for y (Morris mu* 10")


def test_sobol_intervals_repeat_with_the_seed_even_zero():
    """SALib's Sobol' analysis ignores a seed of 0 and draws its bootstrap from NumPy's
    global state; the wrapper must not: the same seed gives the same intervals."""
    runs = ishigami_runs(64, noise=0.5)
    np.random.seed(1)
    first = S.sobol_indices(ISHIGAMI, runs, ["y"], seed=0)
    np.random.seed(2)
    again = S.sobol_indices(ISHIGAMI, runs, ["y"], seed=0)
    other = S.sobol_indices(ISHIGAMI, runs, ["y"], seed=5)
    pd.testing.assert_frame_equal(first, again)
    assert not np.allclose(first["ST_low"], other["ST_low"])
