"""Priors from the rule: the stored figures follow from the shared data, nothing after the
origin reaches them, a country without history gets the pool with a message, every prior states
its basis."""

import datetime as dt
import shutil

import pandas as pd
import pytest

from models.data import DataError, load_unhcr_by_origin
from models.inference import priors

ORIGIN = dt.date(2024, 12, 1)
NAMES = ("intensity_at_origin", "trend", "persistence", "innovation_sd", "dispersion",
         "civilian_share", "displacement_per_death")


@pytest.mark.parametrize("iso3", [priors.POOL, "SYR", "SDN"])
def test_stored_figures_follow_from_the_data(shared_data, iso3):
    fig = priors.derive_figures(None if iso3 == priors.POOL else iso3, ORIGIN, shared_data)
    stored = priors.STORED[ORIGIN.isoformat()]
    expected = stored[priors.POOL] | stored[iso3]
    assert {k: fig[k] for k in expected} == expected
    assert fig["months_through"] < ORIGIN.isoformat()[:7]  # monthly data before the origin
    assert fig["years_through"] <= ORIGIN.year - 1


def test_stored_and_recomputed_priors_are_the_same(shared_data):
    stored = priors.derive_priors("SDN", ORIGIN)
    fresh = priors.derive_priors("SDN", ORIGIN, shared_data)
    assert {k: p.spec for k, p in stored.priors.items()} == \
        {k: p.spec for k, p in fresh.priors.items()}
    assert {k: p.basis for k, p in stored.priors.items()} == \
        {k: p.basis for k, p in fresh.priors.items()}
    assert "stored" in stored.messages[-1]


def _copy_with(tmp_path, shared_data, edit: dict):
    """The shared data copied to tmp_path, the files in ``edit`` changed by their function."""
    for f in (priors.PANEL, priors.UNHCR_STOCKS, priors.UNHCR_FLOWS, priors.IDMC):
        if f in edit:
            edit[f](pd.read_csv(shared_data / f)).to_csv(tmp_path / f, index=False)
        else:
            shutil.copy(shared_data / f, tmp_path / f)
    return tmp_path


def test_data_after_the_origin_change_no_prior(shared_data, tmp_path):
    """Origin 2023-10-01: months from 2023-10 on and annual figures from 2022 on are unknown
    (2022's Global Trends appeared in June 2023, so it is known; 2023 is not)."""
    origin = dt.date(2023, 10, 1)
    base = priors.derive_priors("SDN", origin, shared_data)

    def later_months_tenfold(df):
        later = df["date"] >= "2023-10-01"
        df.loc[later, ["ged_sb", "ged_os", "ged_ns"]] *= 10
        return df

    def later_years_tenfold(df):
        num = df.columns.difference(["year", "iso3", "country"])
        df.loc[df["year"] >= 2023, num] *= 10
        return df

    edits = {priors.PANEL: later_months_tenfold, priors.UNHCR_STOCKS: later_years_tenfold,
             priors.UNHCR_FLOWS: later_years_tenfold, priors.IDMC: later_years_tenfold}
    perturbed = priors.derive_priors("SDN", origin, _copy_with(tmp_path, shared_data, edits))
    assert perturbed.figures == base.figures
    assert {k: p.spec for k, p in perturbed.priors.items()} == \
        {k: p.spec for k, p in base.priors.items()}
    assert base.data_through == {"months": "2023-09", "years": "2022"}
    # and the perturbation does reach a later origin
    later = priors.derive_priors("SDN", ORIGIN, tmp_path)
    assert later.figures["daily_q95"] != priors.STORED[ORIGIN.isoformat()]["SDN"]["daily_q95"]


def test_a_month_counts_only_once_it_has_ended(shared_data):
    on_first = priors.derive_figures("SYR", dt.date(2024, 4, 1), shared_data)
    on_last = priors.derive_figures("SYR", dt.date(2024, 4, 30), shared_data)
    after = priors.derive_figures("SYR", dt.date(2024, 5, 1), shared_data)
    assert on_first["months_through"] == on_last["months_through"] == "2024-03"
    assert after["months_through"] == "2024-04"
    assert priors.annual_years_known(dt.date(2024, 7, 1)) == 2023
    assert priors.annual_years_known(dt.date(2024, 6, 30)) == 2022


def test_country_without_history_gets_the_pool_with_a_message(shared_data):
    d = priors.derive_priors("ISL", ORIGIN, shared_data)
    pool = priors.derive_priors(None, ORIGIN)
    assert {k: p.spec for k, p in d.priors.items()} == {k: p.spec for k, p in pool.priors.items()}
    assert set(d.source.values()) == {"pool", "judgement"}
    assert any("ISL: no active month before 2024-12-01" in m and "pool alone" in m
               for m in d.messages)
    assert any("displacement per death from the cross-country pool alone" in m
               for m in d.messages)


@pytest.mark.parametrize("iso3", ["ISR", "SSD"])
def test_few_active_months_lean_on_the_pool(shared_data, iso3):
    d = priors.derive_priors(iso3, ORIGIN, shared_data)
    n = d.figures["n_active"]
    w = n / (n + 24)
    assert 0 < n and d.source["intensity_at_origin"] == f"partial pooling with weight {w:.2f}"
    leans = [m for m in d.messages if "lean on the cross-country pool" in m]
    assert leans == ([f"{iso3}: {n} active months before 2024-12-01; intensity, trend and "
                      f"civilian share lean on the cross-country pool (country weight {w:.2f})"]
                     if w < 0.5 else [])


def test_no_data_and_not_stored_gives_the_stored_pool(monkeypatch, tmp_path):
    monkeypatch.setattr(priors, "shared_data_dir", lambda: tmp_path / "absent")
    d = priors.derive_priors("UKR", "2025-03-01")
    pool = priors.derive_priors(None, ORIGIN)
    assert d.iso3 == "UKR" and d.origin == dt.date(2025, 3, 1)
    assert {k: p.spec for k, p in d.priors.items()} == {k: p.spec for k, p in pool.priors.items()}
    assert "no data directory" in d.messages[-1] and "pool's stored priors" in d.messages[-1]
    early = priors.derive_priors("UKR", "2024-01-01")
    assert "they include data after 2024-01-01" in early.messages[-1]


@pytest.mark.parametrize("iso3", [None, "SYR", "SDN"])
def test_every_prior_states_its_basis_and_source(iso3):
    d = priors.derive_priors(iso3, ORIGIN)
    assert tuple(d.priors) == NAMES
    for name, p in d.priors.items():
        assert len(p.basis) > 120, name
        assert "views_cm_ged_all_countries_2018_2024.csv" in p.basis, name
        assert "Rule:" in p.basis or "judgement" in p.basis, name
        lo, hi = p.spec.interval90()
        assert lo < hi
        assert d.source[name] == "judgement" or "pool" in d.source[name]
    assert "unhcr_displacement_by_origin" in d.priors["displacement_per_death"].basis
    assert "unhcr_displacement_by_origin" in d.figures["return_rate_basis"]


def test_shipped_priors_are_syria_at_the_shipped_origin():
    syr = priors.derive_priors("SYR", ORIGIN)
    assert syr.priors["trend"].spec.sd == pytest.approx(0.05, abs=0.002)
    assert set(syr.priors) == set(priors.PREVIOUS_PRIORS)
    assert priors.DISPLACEMENT_REPORT_LOG_SD == 0.3


def test_describe_prints_sources_and_the_previous_priors():
    text = priors.describe(priors.derive_priors("SYR", ORIGIN), priors.PREVIOUS_PRIORS)
    assert "intensity_at_origin: lognormal" in text and "(before: 3.3 - 200.1)" in text
    assert "partial pooling with weight 0.76" in text and "return_rate (reference)" in text


def test_unknown_country_says_did_you_mean():
    with pytest.raises(ValueError, match="Did you mean 'SYR'"):
        priors.derive_priors("SYRR", ORIGIN)


def test_own_monthly_series_replaces_the_panel_rows(shared_data):
    from models.data import load_views_country_month

    own = load_views_country_month(shared_data / "views_syria_monthly_ged_1990_2024.csv")
    d = priors.derive_priors("SYR", ORIGIN, shared_data, country_months=own,
                             country_data="views_syria_monthly_ged_1990_2024.csv")
    assert d.figures["n_active"] > priors.STORED[ORIGIN.isoformat()]["SYR"]["n_active"]
    assert "SYR (views_syria_monthly_ged_1990_2024.csv):" in d.priors["intensity_at_origin"].basis


def test_annual_loader_names_the_bad_line(tmp_path):
    bad = tmp_path / "unhcr.csv"
    bad.write_text("year,iso3,refugees,asylum_seekers,returned_refugees,idps,returned_idps\n"
                   "2020,SYR,1,2,3,4,5\n2020,SYR,1,2,3,4,5\n")
    with pytest.raises(DataError, match="SYR 2020 appears twice"):
        load_unhcr_by_origin(bad)
