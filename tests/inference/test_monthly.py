"""The monthly latent-intensity model ``latent_nb`` (:mod:`models.inference.monthly`): the
forecast continues the fitted process (damped trend, AR(1) decay and accumulation,
negative-binomial spread), the mean-anchored deviations are the forward AR(1) path minus its
mean, and its diagnostics are the shared NUTS checks plus the R-hat at the origin.

Statistical tests run at fixed seeds; each states its tolerance and false-alarm rate. The fit
itself (NUTS) is exercised by the slow tests of ``tests/evaluation/test_backtest.py``.
"""

from __future__ import annotations

import numpy as np
import pytest

from models.inference import diagnostics
from models.inference.monthly import (
    MODEL_NAME,
    MonthlyLatentModel,
    forecast_paths,
    is_december,
    monthly_diagnostics,
)


def _params(n, **values):
    base = {"a": np.full((n, 1), np.log(10_000.0)), "trend": np.zeros((n, 1)),
            "eps_origin": np.zeros((n, 1)), "persistence": np.full(n, 0.5),
            "innovation_sd": np.full(n, 1e-9), "dispersion": np.full(n, 1e6)}
    for k, v in values.items():
        base[k] = np.broadcast_to(np.asarray(v, dtype=float), base[k].shape).copy()
    return base


def test_forecast_paths_follow_damped_trend_and_ar_decay():
    """With no innovations and near-Poisson noise, month h's mean is
    exp(a + trend * sum_{k<=h} damping^k + persistence^h * eps_origin). 4000 draws around
    ~10^4: the standard error of a mean is < 0.02%, the tolerance 0.2% (> 10 se), so a false
    alarm is practically impossible while a missing or undamped trend (>= 4% off) fails."""
    n, H, damping, trend, phi, eps0 = 4000, 12, 0.8, 0.05, 0.7, 0.4
    p = _params(n, trend=trend, persistence=phi, eps_origin=eps0)
    x = forecast_paths(p, H, n, damping, np.random.default_rng(3))
    h = np.arange(1, H + 1)
    expected = np.exp(np.log(10_000) + trend * np.cumsum(damping ** h) + phi ** h * eps0)
    np.testing.assert_allclose(x.mean(axis=0), expected, rtol=2e-3)
    assert x.shape == (n, H) and np.all(x == np.round(x)) and np.all(x >= 0)


def test_forecast_paths_negative_binomial_spread():
    """Fixed intensity 100 and size 4: variance 100 + 100^2/4 = 2600. With 20,000 draws the
    sample variance's relative se is ~2.5% (NB kurtosis included), tolerance 12%: false-alarm
    rate < 1e-6; Poisson noise (variance 100) or a doubled size (1350) fail."""
    n = 20_000
    p = _params(n, a=np.log(100.0), dispersion=4.0)
    x = forecast_paths(p, 1, n, 0.8, np.random.default_rng(4))[:, 0]
    assert abs(x.mean() - 100) < 5 * np.sqrt(2600 / n)
    assert abs(x.var() / 2600 - 1) < 0.12


def test_forecast_paths_innovations_accumulate_like_ar1():
    """Log-intensity variance after h months of AR(1) from a known origin value is
    sigma^2 (1 - phi^(2h)) / (1 - phi^2). Checked on log(draws) with size 1e6 and intensity
    1e6 (count noise ~0.1%, negligible): 20,000 paths, tolerance 8% on the variance (se ~1%)."""
    n, sigma, phi = 20_000, 0.3, 0.9
    p = _params(n, a=np.log(1e6), persistence=phi, innovation_sd=sigma)
    x = forecast_paths(p, 12, n, 0.8, np.random.default_rng(5))
    h = np.arange(1, 13)
    expected = sigma**2 * (1 - phi ** (2 * h)) / (1 - phi**2)
    np.testing.assert_allclose(np.log(x).var(axis=0), expected, rtol=0.08)


def test_forecast_paths_reuse_posterior_draws_when_draws_exceed_them():
    p = _params(10, a=np.log(np.arange(1.0, 11.0) * 1000)[:, None])
    x = forecast_paths(p, 2, 25, 0.8, np.random.default_rng(0))
    assert x.shape == (25, 2)


def test_mean_anchored_deviations_have_zero_mean_over_the_window():
    """With ``anchor="mean"`` the deviations sum to zero over the window (so
    ``log_base_intensity`` is the window's mean log-intensity on the trend line) and are the
    forward AR(1) path of the same innovations (a naive recursion here) minus its mean."""
    import pymc as pm

    model = MonthlyLatentModel(24, n_units=2, anchor="mean").model
    names = ["persistence", "innovation_sd", "innovation_z", "ar_deviation_path"]
    phi, sigma, z, eps = pm.draw([model[n] for n in names], draws=200, random_seed=4)
    np.testing.assert_allclose(eps.mean(axis=2), 0.0, atol=1e-9)
    forward = np.zeros_like(z)
    forward[..., 0] = sigma[:, None] * z[..., 0]
    for t in range(1, 24):
        forward[..., t] = phi[:, None] * forward[..., t - 1] + sigma[:, None] * z[..., t]
    np.testing.assert_allclose(eps, forward - forward.mean(axis=2, keepdims=True), atol=1e-9)


def test_latent_intensity_refuses_an_unknown_anchor():
    with pytest.raises(ValueError, match="anchor must be 'start' or 'mean'"):
        MonthlyLatentModel(24, anchor="end")



def test_is_december_marks_month_ids_of_december():
    # ViEWS month 12 is December 1980, 13 January 1981, 539 November 2024
    np.testing.assert_array_equal(is_december([11, 12, 13, 539, 540]), [0, 1, 0, 0, 1])


def test_december_excess_multiplies_only_december_means():
    """exp(december_excess) on the marked month, nothing elsewhere: with excess log(3) the
    December mean is 3x the others (near-Poisson, 4000 draws of ~10^4: se < 0.1%, tolerance
    1%)."""
    n = 4000
    p = _params(n, dispersion=1e6)
    p["december_excess"] = np.full((n, 1), np.log(3.0))
    x = forecast_paths(p, 3, n, 0.8, np.random.default_rng(6), is_december=np.array([0, 1, 0]))
    np.testing.assert_allclose(x.mean(axis=0) / 10_000, [1, 3, 1], rtol=0.01)
    with pytest.raises(ValueError, match="is_december must have shape"):
        forecast_paths(p, 3, n, 0.8, np.random.default_rng(6))


def test_diagnostics_are_the_shared_checks_plus_the_origin_rhat():
    """monthly_diagnostics = diagnostics.convergence over the parameters and the log-intensity
    at the origin, with that quantity's own R-hat and the fit time; 4 chains of well-mixed
    independent normal draws pass, a chain shifted by 3 sd fails on R-hat."""
    import arviz as az
    import xarray as xr

    rng = np.random.default_rng(8)

    def idata(shift):
        def var(*shape):
            x = rng.standard_normal((4, 500, *shape))
            x[0] += shift
            return x
        post = {v: (("chain", "draw"), var()) for v in
                ("trend", "persistence", "innovation_sd", "dispersion")}
        post["log_base_intensity"] = (("chain", "draw"), var())
        post["ar_deviation_path"] = (("chain", "draw", "month"), var(24))
        stats = xr.Dataset({"diverging": (("chain", "draw"), np.zeros((4, 500), bool))})
        return az.InferenceData(posterior=xr.Dataset(post), sample_stats=stats)

    good = monthly_diagnostics(idata(0.0), 1.5)
    assert good["passed"] and good["messages"] == "" and good["fit_seconds"] == 1.5
    assert good["max_rhat"] <= diagnostics.RHAT_MAX and good["min_ess_tail"] >= diagnostics.ESS_MIN
    bad = monthly_diagnostics(idata(3.0), 1.5)
    assert not bad["passed"] and bad["rhat_log_intensity_at_origin"] > diagnostics.RHAT_MAX
    assert f"> {diagnostics.RHAT_MAX}" in bad["messages"]
    assert MODEL_NAME == "latent_nb"


# --- priors for any country (models.inference.monthly_priors) ---------------------------------

def _panel(tmp_path, series: dict[str, np.ndarray], first: int = 457):
    """An all-country ViEWS panel (CSV) holding ``series`` (ISO code -> monthly deaths, as
    state-based deaths) from month ``first`` (457 = January 2018)."""
    import pandas as pd

    from scenarios.geography import resolve_country

    rows = [pd.DataFrame({"month_id": first + np.arange(len(y)),
                          "country_id": resolve_country(iso).views_id,
                          "ged_sb": np.asarray(y, dtype=int), "ged_os": 0, "ged_ns": 0})
            for iso, y in series.items()]
    path = tmp_path / "panel.csv"
    pd.concat(rows).to_csv(path, index=False)
    return path


def _history(y, first: int = 457):
    import pandas as pd

    return pd.DataFrame({"month_id": first + np.arange(len(y)), "deaths": np.asarray(y, float)})


def _series(seed, n=60, level=300.0):
    rng = np.random.default_rng(seed)
    return np.round(level * np.exp(np.cumsum(rng.normal(0, 0.2, n)))).astype(int)


def test_priors_at_an_origin_use_no_data_after_it(tmp_path):
    """The level and trend priors at an origin are the same whether the months after it (in
    the country's history and in the pool panel) are real or poisoned (1e6 deaths)."""
    from models.inference.monthly_priors import MonthlyPriorRule, _pool_figures

    series = {"SDN": _series(1), "AFG": _series(2, level=2000), "MLI": _series(3, level=80)}
    origin = 457 + 40  # month 41 of 60
    clean_dir, poison_dir = tmp_path / "clean", tmp_path / "poison"
    clean_dir.mkdir(), poison_dir.mkdir()
    clean = _panel(clean_dir, series)
    poisoned = _panel(poison_dir, {k: np.where(np.arange(60) > 40, 10**6, v)
                                   for k, v in series.items()})
    history = _history(series["SDN"])
    got = []
    for path in (clean, poisoned):
        _pool_figures.cache_clear()
        rule = MonthlyPriorRule(path, unit="SDN", window=24)
        got.append(rule(history[history["month_id"] <= origin]).record())
    assert got[0] == got[1]
    # the poison would show: the same rule one month after the poisoning starts differs
    late = MonthlyPriorRule(poisoned, unit="SDN", window=24)(
        history.assign(deaths=np.where(np.arange(60) > 40, 1e6, history["deaths"])).iloc[:45])
    assert late.record()["prior_intensity_high"] > got[0]["prior_intensity_high"]


def test_partial_pooling_weight_and_pool_quantiles(tmp_path):
    """The level prior is exp(w log c + (1 - w) log p) of the country's (c) and the pool's (p)
    5% and 95% quantiles of active months' deaths, w = n / (n + 24), n the active months."""
    from models.inference.monthly_priors import MonthlyPriorRule, window_slopes

    series = {"SDN": np.tile([90, 110], 18), "AFG": np.arange(1000, 1036)}
    rule = MonthlyPriorRule(_panel(tmp_path, series), unit="SDN", window=24)
    p = rule(_history(series["SDN"]))
    w = 36 / (36 + 24)
    pool_q05, pool_q95 = np.quantile(np.r_[series["SDN"], series["AFG"]], [0.05, 0.95])
    spec = p.priors["intensity_at_origin"].spec
    assert spec.low == pytest.approx(np.exp(w * np.log(90) + (1 - w) * np.log(pool_q05)),
                                     rel=1e-3)
    assert spec.high == pytest.approx(np.exp(w * np.log(110) + (1 - w) * np.log(pool_q95)),
                                      rel=1e-3)
    assert p.source["intensity"] == f"partial pooling, country weight {w:.2f}"
    # trend: one 24-month block per country (n < 2: the pool alone), the pool's two blocks' RMS
    assert p.source["trend"] == "the pool alone"
    slopes = [np.polyfit(np.arange(24), np.log1p(series[k][12:]), 1)[0] for k in series]
    assert p.priors["trend"].spec.sd == pytest.approx(np.sqrt(np.mean(np.square(slopes))))
    frame = _history(series["AFG"]).assign(iso3="AFG")
    np.testing.assert_allclose(window_slopes(frame, 24, 457 + 35), slopes[1:])
    assert len(window_slopes(frame, 12, 457 + 35)) == 3  # blocks counted back, non-overlapping


def test_a_country_without_active_months_takes_the_pool_with_a_message(tmp_path):
    from models.inference.monthly_priors import MonthlyPriorRule

    series = {"SDN": _series(1), "AFG": _series(2, level=2000)}
    rule = MonthlyPriorRule(_panel(tmp_path, series), unit="KEN", window=24)
    p = rule(_history(np.zeros(30, int)))
    assert p.source["intensity"] == "the pool alone"
    assert any("KEN: no active month" in m and "pool alone" in m for m in p.messages)
    assert p.record()["prior_messages"] == "; ".join(p.messages)
    pooled = MonthlyPriorRule(_panel(tmp_path, series), unit="POOL", window=24)
    alone = pooled(_history(np.zeros(30, int))).priors["intensity_at_origin"]
    assert p.priors["intensity_at_origin"].spec == alone.spec


def test_without_a_pool_the_country_alone_with_a_message(tmp_path):
    """No pool panel (or none of its months up to the origin, as for Syria before 2018): the
    country's own figures alone, said; no active month either: the weak priors, said."""
    from models.inference.monthly_priors import WEAK_PRIORS, MonthlyPriorRule

    rule = MonthlyPriorRule(tmp_path / "absent.csv", unit="SYR", window=24)
    p = rule(_history(_series(4), first=300))
    assert p.source["intensity"].startswith("the country alone")
    assert any("no month of the pool panel" in m for m in p.messages)
    q = rule(_history(np.zeros(30, int), first=300))
    assert q.priors["intensity_at_origin"] == WEAK_PRIORS["intensity_at_origin"]
    assert any("weak data-free level prior" in m for m in q.messages)


def test_the_monthly_model_keeps_no_country_constant():
    """Every prior basis of latent_nb is generic (no country named), the level and trend priors
    are data of the model (one compilation for every origin and country)."""
    from models.inference.monthly import LEVEL_TREND, MONTHLY_PRIORS

    for name, prior in MONTHLY_PRIORS.items():
        assert "syria" not in prior.basis.lower(), name
    model = MonthlyLatentModel(24).model
    for k in ("log_intensity_mu", "log_intensity_sigma", "trend_mean", "trend_sd"):
        assert f"prior_{k}" in model.named_vars
    assert set(LEVEL_TREND) == {"intensity_at_origin", "trend"}


def test_student_t_innovations_in_the_fit_and_the_forecast():
    """With ``innovation_nu`` the fit's innovations get a t(nu) density (a Potential on top of
    latent_intensity's normal ones: its log density is log t - log normal) and the forecast
    draws t innovations: one-month log-intensity changes with nu = 3 have far heavier tails
    (share beyond 4 scale units ~2% against 6e-5 for normal; 20,000 paths: the 0.5% threshold
    sits > 10 se from both)."""
    import pymc as pm

    model = MonthlyLatentModel(24, innovation_nu=3.0).model
    assert "innovation_t" in [p.name for p in model.potentials]
    z = np.linspace(-3, 3, 7)
    t = pm.logp(pm.StudentT.dist(nu=3.0, mu=0, sigma=1), z).eval()
    n = pm.logp(pm.Normal.dist(0, 1), z).eval()
    assert (t - n)[0] == pytest.approx((t - n)[-1]) and (t - n)[0] > (t - n)[3] + 1.5  # tails
    n_paths = 20_000
    p = _params(n_paths, a=np.log(1e6), innovation_sd=0.1)
    for nu, heavy in ((None, False), (3.0, True)):
        x = forecast_paths(p, 1, n_paths, 0.8, np.random.default_rng(9), innovation_nu=nu)
        share = np.mean(np.abs(np.log(x[:, 0] / 1e6)) > 0.4)
        assert (share > 0.005) == heavy
