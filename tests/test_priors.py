"""Priors: the derived figures follow from the public data, and nothing after the origin."""

import pytest

from models.inference import priors


def test_derived_figures_match_the_data(shared_data):
    derived = priors.derive_base_rates(shared_data)
    assert derived["SYRIA_DAILY_DEATHS_2012_2023_P05_P95"] == pytest.approx(
        priors.SYRIA_DAILY_DEATHS_2012_2023_P05_P95, abs=0.05)
    assert derived["SYRIA_MONTHLY_LOG_CHANGE_SD_2012_2023"] == pytest.approx(
        priors.SYRIA_MONTHLY_LOG_CHANGE_SD_2012_2023, abs=0.005)
    assert derived["SYRIA_DISPLACED_PER_DEATH_2012_2014"] == pytest.approx(
        priors.SYRIA_DISPLACED_PER_DEATH_2012_2014, abs=0.5)
    # forecast discipline: the origin is 1 Dec 2024; the derivation stops in 2023
    assert derived["last_month_used"] < "2024-12-01"


def test_every_prior_states_its_basis():
    for name, p in priors.PRIORS.items():
        assert len(p.basis) > 40, name
        lo, hi = p.spec.interval90()
        assert lo < hi
