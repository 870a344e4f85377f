"""Assumption sensitivity from the draws already made: which input each headline number hangs on.

Every Monte Carlo draw carries its own value of every scenario lever (``lever__<path>``, sampled
once per draw) and of every nowcast parameter (the posterior row ``posterior_draw``), so the share
of an outcome's variance that each input explains can be estimated from the run's own draws, with
no extra runs ("given data"). For each scenario, target and headline horizon, the outcome is the
forecast at that day (all regions unless asked), and for each input ``X_i`` the first-order
Sobol index ``S1_i = Var(E[Y | X_i]) / Var(Y)`` is estimated by SALib's RBD-FAST/EASI estimator
(:func:`SALib.analyze.rbd_fast.analyze`: the outputs are reordered by the input's ranks, and the
power of the first ``M`` harmonics of the reordered series is the variance explained; bias
corrected as Tissot and Prieur 2012; Plischke 2010, doi:10.1016/j.ress.2009.11.005), with a
bootstrap half-width ``S1_conf`` at 95%. Validated on the Ishigami function and a linear model
with known shares (``tests/outputs/test_sensitivity.py``).

How to read it:

* ``S1`` is the share of the variance that knowing the input alone would remove. Levers are drawn
  independently of each other and of the nowcast, so for a lever it is its own main effect.
  Nowcast parameters are correlated in the posterior (a larger reporting share goes with a smaller
  intensity): theirs includes what they tell about the parameters they move with, so their
  shares can overlap and need not add up.
* The rest of the variance (one minus the sum, roughly) is interactions (an event's multiplier
  matters only in draws where the event happens) and the simulation's own chance: the regime
  path, the event days, the daily counts.
* In the ``mixture`` the scenario drawn is an input too (``scenario drawn``); a lever that only
  some of its scenarios have is left out there (it would only repeat which scenario was drawn):
  its share is in that scenario's own rows.
* Shares are of the variance of ``log(1 + outcome)`` by default (``scale="log"``): relative
  differences, which is how multipliers act, and not dominated by a handful of extreme draws
  (the 90-day death toll of the shipped escalation run spans 6,700 to 107,000 in its 90%
  interval and reaches 7 million in one draw, so on the count scale (``scale="count"``) the
  few largest draws decide every share and the bootstrap half-widths exceed the shares).
* The bootstrap resamples half the draws, so ``S1_conf`` is on the wide side. It is computed
  for the inputs the report can show: those among the :data:`CONF_INPUTS` largest shares of
  a scenario and target at any of its horizons (the tornado shows 8, the report's table
  fewer); the others get ``S1`` without a half-width (NaN), because the bootstrap is ten
  times the work of the shares (17 of 18 s in the shipped escalation run, 45 analyses of
  about 40 inputs) and their shares are smaller than every one shown.

Nowcast inputs are the key parameters the engine reads (:data:`NOWCAST_INPUTS`), labelled like
the prior-posterior plot: ``intensity_at_origin[aleppo]``.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
import xarray as xr

from models.vocabulary import ALL, MIXTURE, TARGETS

__all__ = ["COLUMNS", "CONF_INPUTS", "ESTIMATOR", "NOWCAST_INPUTS", "SCALES", "first_order_indices",
           "first_order_shares", "input_label", "sensitivity_inputs", "sensitivity_table"]

NOWCAST_INPUTS = ("intensity_at_origin", "trend", "persistence", "innovation_sd", "dispersion",
                  "civilian_share", "displacement_per_death", "flight_hazard", "refugee_share",
                  "population_at_risk", "reporting_share", "subset_share")
"""Posterior parameters taken as inputs (those present in the fit), one per coordinate."""
ESTIMATOR = ("first-order Sobol index from given data, SALib.analyze.rbd_fast (RBD-FAST/EASI, "
             "bias-corrected), bootstrap 95% half-width")
HARMONICS = 10
"""``M`` of RBD-FAST: harmonics counted as the input's signal (SALib's default)."""
RESAMPLES = 10
"""Bootstrap resamples of the confidence half-width (each on half the draws)."""
CONF_INPUTS = 10
"""Inputs per scenario and target that get a bootstrap half-width: the largest shares at any
horizon (at least the 8 the tornado shows)."""
MIN_DRAWS = 200
"""Fewer draws than this give no estimate (the bias correction needs N >> 2M)."""
MIXTURE_INPUT = "scenario drawn"
SCALES = {"log": np.log1p, "count": lambda y: y}
"""The scale the outcome's variance is shared on (see the module docstring)."""
COLUMNS = ["scenario", "target", "region", "horizon", "scale", "input", "kind", "S1", "S1_conf",
           "rank", "draws"]
"""Columns of :func:`sensitivity_table` (and ``sensitivity.csv``); ``kind``: ``lever``,
``nowcast`` or ``mixture``; ``rank`` 1 = the largest ``S1`` of its scenario, target and
horizon."""


def input_label(name: str, cell: Sequence = ()) -> str:
    """``name[cell, ...]`` as in the prior-posterior plot; the lever path as it is."""
    return f"{name}[{', '.join(str(c) for c in cell)}]" if len(cell) else name


def _nowcast_columns(idata, rows: np.ndarray) -> dict[str, np.ndarray]:
    """label -> value per Monte Carlo draw of each nowcast input (posterior stacked over chain
    and draw in order, the rows of the NowcastState; ``rows`` = ``posterior_draw``)."""
    out: dict[str, np.ndarray] = {}
    if idata is None or "posterior" not in idata.groups():
        return out
    post = idata.posterior
    for name in NOWCAST_INPUTS:
        if name not in post:
            continue
        v = post[name].stack(sample=("chain", "draw")).transpose("sample", ...)
        extra = [d for d in v.dims if d != "sample"]
        if not extra:
            out[name] = v.values[rows]
            continue
        flat = v.stack(cell=extra).transpose("sample", "cell")
        for k, cell in enumerate(flat["cell"].values):
            out[input_label(name, cell if isinstance(cell, tuple) else (cell,))] = \
                flat.values[rows, k]
    return out


def sensitivity_inputs(forecast: xr.Dataset, idata, scenario: str) -> tuple[pd.DataFrame, dict]:
    """(draws x inputs) values of every input of one scenario, and input -> kind. Inputs without
    variation in this scenario (a lever it lacks, a fixed value; in the mixture, a lever only
    some of its scenarios have) are left out."""
    cols: dict[str, np.ndarray] = {}
    kinds: dict[str, str] = {}
    for var in forecast.data_vars:
        if not str(var).startswith("lever__"):
            continue
        values = forecast[var].sel(scenario=scenario).values.astype("float64")
        name = forecast[var].attrs.get("lever", str(var)[len("lever__"):].replace("__", "/"))
        if not np.all(np.isfinite(values)):  # lacking, or in the mixture only some scenarios'
            continue
        cols[name], kinds[name] = values, "lever"
    if scenario == MIXTURE and "mixture_component" in forecast:
        cols[MIXTURE_INPUT] = forecast["mixture_component"].values.astype("float64")
        kinds[MIXTURE_INPUT] = "mixture"
    if "posterior_draw" in forecast:
        for label, values in _nowcast_columns(idata, forecast["posterior_draw"].values).items():
            cols[label], kinds[label] = values.astype("float64"), "nowcast"
    keep = {k: v for k, v in cols.items() if np.all(np.isfinite(v)) and np.ptp(v) > 0}
    return pd.DataFrame(keep), {k: kinds[k] for k in keep}


def first_order_indices(X: pd.DataFrame, y: np.ndarray, *, harmonics: int = HARMONICS,
                        resamples: int = RESAMPLES, seed: int = 0,
                        conf_level: float = 0.95) -> pd.DataFrame:
    """First-order Sobol indices of ``y`` for each column of ``X`` from the given draws (SALib
    RBD-FAST/EASI): columns ``input, S1, S1_conf``. A constant ``y`` or too few draws give NaN."""
    from SALib.analyze import rbd_fast

    y = np.asarray(y, dtype="float64")
    names = list(X.columns)
    if not _estimable(y, names):
        return pd.DataFrame({"input": names, "S1": np.nan, "S1_conf": np.nan})
    problem = {"num_vars": len(names), "names": names}
    res = rbd_fast.analyze(problem, X.to_numpy(dtype="float64"), y, M=harmonics,
                           num_resamples=max(resamples, 2), conf_level=conf_level,
                           seed=np.random.default_rng(seed))
    return pd.DataFrame({"input": names, "S1": np.asarray(res["S1"], dtype="float64"),
                         "S1_conf": np.asarray(res["S1_conf"], dtype="float64")})


def first_order_shares(X: pd.DataFrame, y: np.ndarray, *,
                       harmonics: int = HARMONICS) -> np.ndarray:
    """The ``S1`` of :func:`first_order_indices` without the bootstrap (SALib's own steps of
    RBD-FAST: outputs reordered by the input, the first harmonics' share of the periodogram, the
    bias correction): one value per column of ``X``, NaN where nothing can be estimated."""
    from SALib.analyze import rbd_fast

    y = np.asarray(y, dtype="float64")
    if not _estimable(y, list(X.columns)):
        return np.full(X.shape[1], np.nan)
    values = X.to_numpy(dtype="float64")
    return np.array([rbd_fast.unskew_S1(rbd_fast.compute_first_order(
        rbd_fast.permute_outputs(values[:, i], y), harmonics), harmonics, y.size)
        for i in range(values.shape[1])])


def _estimable(y: np.ndarray, names: list) -> bool:
    return len(y) >= MIN_DRAWS and bool(np.ptp(y) > 0) and bool(names)


def sensitivity_table(forecast: xr.Dataset, idata, horizons: Sequence[int], *,
                      region: str = ALL, targets: Sequence[str] | None = None,
                      scenarios: Sequence[str] | None = None, scale: str = "log",
                      resamples: int = RESAMPLES, seed: int = 0) -> pd.DataFrame:
    """The share of each outcome's variance attributable to each input (see the module
    docstring), one row per scenario, target, horizon and input (:data:`COLUMNS`), sorted by
    scenario, target, horizon and rank. ``horizons`` beyond the forecast are skipped."""
    if scale not in SCALES:
        raise ValueError(f"scale: expected one of {', '.join(SCALES)}, got {scale!r}")
    transform = SCALES[scale]
    targets = list(targets or [t for t in TARGETS if t in forecast["target"].values])
    scenarios = [str(s) for s in (scenarios or forecast["scenario"].values)]
    last = int(forecast["day"].max())
    horizons = [int(h) for h in horizons if 1 <= int(h) <= last]
    frames = []
    for scenario in scenarios:
        X, kinds = sensitivity_inputs(forecast, idata, scenario)
        cube = forecast["forecast"].sel(scenario=scenario, region=region)
        for target in targets:
            ys = {h: transform(cube.sel(target=target, day=h).values.astype("float64"))
                  for h in horizons}
            shares = {h: pd.Series(first_order_shares(X, y), index=X.columns, dtype="float64")
                      for h, y in ys.items()}
            shown = _inputs_shown(shares)
            for h, y in ys.items():
                f = first_order_indices(X[shown], y, resamples=resamples,
                                        seed=int(np.random.SeedSequence(
                                            [seed, h, len(frames)]).generate_state(1)[0]))
                rest = shares[h].drop(shown)
                if len(rest):
                    f = pd.concat([f, pd.DataFrame({"input": rest.index, "S1": rest.to_numpy(),
                                                    "S1_conf": np.nan})], ignore_index=True)
                f.insert(0, "scale", scale)
                f.insert(0, "horizon", h)
                f.insert(0, "region", region)
                f.insert(0, "target", target)
                f.insert(0, "scenario", scenario)
                f["kind"] = f["input"].map(kinds)
                f["rank"] = f["S1"].rank(ascending=False, method="first").astype("Int64")
                f["draws"] = len(y)
                frames.append(f.sort_values("rank", na_position="last"))
    if not frames:
        return pd.DataFrame(columns=COLUMNS)
    return pd.concat(frames, ignore_index=True)[COLUMNS]


def _inputs_shown(shares: dict[int, pd.Series]) -> list[str]:
    """The inputs that get a bootstrap half-width: among the :data:`CONF_INPUTS` largest shares
    at any horizon (``shares``: horizon -> share per input), in the inputs' order."""
    names = next(iter(shares.values())).index if shares else pd.Index([])
    shown: set[str] = set()
    for s1 in shares.values():
        shown |= set(s1.sort_values(ascending=False, na_position="last").index[:CONF_INPUTS])
    return [c for c in names if c in shown]
