"""The ViEWS prediction-challenge benchmark models, as sample forecasts in our own format.

Each model turns one unit's monthly history up to a forecast origin into ``n_samples`` draws
for horizons ``1..H`` months after the origin: an array ``(n_samples, H)``, one row per draw,
the layout our forecasts use. Definitions follow the ViEWS 2023/24 challenge's benchmark code,
``benchmark.py`` in ``prio-data/prediction_competition_2023`` (functions ``exactly_zero``,
``last_observed_poisson``, ``conflictology``, ``global_bootstrap`` / ``global_bootstrap_240_months``)
and ``ConflictologyModel`` in ``views-platform/views-baseline`` (``views_baseline/model/baseline.py``):

``zero``
    Every draw exactly 0 ("exactly_zero").
``last``
    Poisson draws with mean the last observed month's count, independently for each draw and
    horizon ("last_observed_poisson").
``conflictology``
    The unit's own last 12 months, with equal weight, at every horizon ("conflictology"; the
    views-baseline version resamples them with replacement).
``bootstrap``
    Resampling of a pool of past monthly counts. ViEWS's "global_bootstrap" pools all units'
    counts over the last 12 months (``boot_240``: the last 240); with a single unit's history we
    pool, by default, the unit's whole history up to the origin; pass ``pool`` (e.g. every
    country's months up to the origin) to reproduce the global version.

ViEWS forecasts start ``month_lag`` = 3 months after the last data month; here horizon 1 is the
month right after the last month of ``history``, and the backtest chooses the origin.

Conflictology and bootstrap draw with *balanced* resampling: at every horizon each pool value
appears ``floor(n/k)`` or ``ceil(n/k)`` times among the ``n`` draws (exactly ``n/k`` when ``k``
divides ``n``), in a random order drawn independently per horizon. The draws then reproduce the
equal-weight empirical distribution ViEWS scores, with less Monte Carlo noise than i.i.d.
resampling (which would add noise to a CRPS ratio that top models beat by < 1%). Draws are
independent across horizons, as in ViEWS, where every month is drawn separately.
"""

from __future__ import annotations

import zlib

import numpy as np

__all__ = ["CONFLICTOLOGY_MONTHS", "REFERENCE_MODELS", "all_reference_samples",
           "reference_samples"]

REFERENCE_MODELS = ("zero", "last", "conflictology", "bootstrap")
CONFLICTOLOGY_MONTHS = 12


def _balanced_draws(pool: np.ndarray, n_samples: int, horizons: int,
                    rng: np.random.Generator) -> np.ndarray:
    """(n_samples, horizons) draws from ``pool``, each value ``floor``/``ceil(n/k)`` times per
    horizon, shuffled independently per horizon."""
    k = pool.size
    reps, extra = divmod(n_samples, k)
    base = np.repeat(np.arange(k), reps)
    # The ``extra`` leftover slots go to distinct values chosen at random for each horizon.
    extras = np.argsort(rng.random((horizons, k)), axis=1)[:, :extra]
    idx = np.concatenate([np.broadcast_to(base, (horizons, base.size)), extras], axis=1)
    idx = rng.permuted(idx, axis=1)
    return pool[idx].T.astype(float)


def _as_counts(a, what: str) -> np.ndarray:
    x = np.asarray(a, dtype=float)
    if x.ndim != 1 or x.size == 0:
        raise ValueError(f"{what} must be a non-empty 1-d array of monthly counts, shape {x.shape}")
    if not np.all(np.isfinite(x)) or np.any(x < 0):
        raise ValueError(f"{what} must be finite and >= 0 (monthly counts)")
    return x


def reference_samples(name: str, history, horizons: int, n_samples: int,
                      rng: np.random.Generator, *, window: int | None = None,
                      pool=None) -> np.ndarray:
    """Draws of a ViEWS benchmark model, shape ``(n_samples, horizons)`` (people per month).

    ``history``: the unit's monthly counts up to and including the origin month, oldest first,
    with no gaps (take it from :func:`models.data.series_as_of`). ``window``: months of history
    to use, default 12 for ``conflictology`` and all for ``bootstrap`` (ViEWS's ``boot_240`` is
    ``window=240`` on a global pool). ``pool``: only for ``bootstrap``, counts to resample
    instead of the unit's history (must also come from data up to the origin).
    """
    if name not in REFERENCE_MODELS:
        raise ValueError(f"unknown reference model {name!r}; choose from {', '.join(REFERENCE_MODELS)}")
    if horizons < 1 or n_samples < 1:
        raise ValueError(f"horizons and n_samples must be >= 1, got {horizons}, {n_samples}")
    h = _as_counts(history, "history")
    if pool is not None and name != "bootstrap":
        raise ValueError(f"pool applies to 'bootstrap' only, not {name!r}")
    if name == "zero":
        return np.zeros((n_samples, horizons))
    if name == "last":
        return rng.poisson(h[-1], size=(n_samples, horizons)).astype(float)
    if name == "conflictology":
        months = CONFLICTOLOGY_MONTHS if window is None else int(window)
        if h.size < months:
            raise ValueError(f"conflictology needs {months} months of history, got {h.size}")
        return _balanced_draws(h[-months:], n_samples, horizons, rng)
    values = h if pool is None else _as_counts(pool, "pool")
    if window is not None:
        values = values[-int(window):]
    return _balanced_draws(values, n_samples, horizons, rng)


def all_reference_samples(history, horizons: int, n_samples: int, seed: int, *,
                          pool=None) -> dict[str, np.ndarray]:
    """Draws of every model in :data:`REFERENCE_MODELS` for one history.

    Each model gets its own random stream, seeded from ``seed`` and a stable hash of its name, so
    adding or dropping a model never changes another model's draws.
    """
    out = {}
    for name in REFERENCE_MODELS:
        rng = np.random.default_rng([seed, zlib.crc32(name.encode())])
        out[name] = reference_samples(name, history, horizons, n_samples, rng,
                                      pool=pool if name == "bootstrap" else None)
    return out
