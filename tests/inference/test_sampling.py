"""An interrupted fit is never taken for a posterior (models.inference.sampling)."""

from __future__ import annotations

import numpy as np
import pytest
import xarray as xr

from models.inference.sampling import complete_posterior, sample_nutpie
from models.runtime import import_arviz


def _idata(values: np.ndarray):
    az = import_arviz()
    return az.InferenceData(posterior=xr.Dataset(
        {"log_intensity": (("chain", "draw", "region"), values),
         "regime": (("chain", "draw"), np.zeros(values.shape[:2], dtype="int64"))}))


def test_a_complete_posterior_passes():
    idata = _idata(np.random.default_rng(0).normal(size=(4, 50, 2)))
    assert complete_posterior(idata, chains=4, draws=50) is idata


def test_fewer_draws_than_asked_are_an_interrupt():
    with pytest.raises(KeyboardInterrupt, match="stopped early"):
        complete_posterior(_idata(np.zeros((4, 30, 2))), chains=4, draws=50)


def test_chains_padded_with_nan_are_an_interrupt():
    """nutpie, interrupted, returns every chain at the longest chain's length, the ones cut short
    padded with NaN (seen: 4 x 200,000 draws with two chains half NaN)."""
    values = np.random.default_rng(1).normal(size=(4, 50, 2))
    values[2:, 31:] = np.nan
    with pytest.raises(KeyboardInterrupt, match="log_intensity"):
        complete_posterior(_idata(values), chains=4, draws=50)


def test_an_interrupt_before_the_first_draw_stays_an_interrupt(monkeypatch):
    """nutpie catches the Ctrl-C and aborts; with no draws yet its abort raises an error of its
    own inside that handler (as nutpie.sample does: ``except KeyboardInterrupt: sampler.abort()``).
    The caller sees the KeyboardInterrupt (exit 130), not the error (exit 2)."""
    import nutpie

    def interrupted(*args, **kwargs):
        try:
            raise KeyboardInterrupt
        except KeyboardInterrupt:
            raise ValueError("Sampler has no results to take") from None

    monkeypatch.setattr(nutpie, "sample", interrupted)
    with pytest.raises(KeyboardInterrupt):
        sample_nutpie(object(), chains=4, draws=50)


def test_a_samplers_own_error_is_not_taken_for_an_interrupt(monkeypatch):
    import nutpie

    def broken(*args, **kwargs):
        raise ValueError("mass matrix is not positive definite")

    monkeypatch.setattr(nutpie, "sample", broken)
    with pytest.raises(ValueError, match="positive definite"):
        sample_nutpie(object(), chains=4, draws=50)
