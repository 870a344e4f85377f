"""Rolling-origin backtest of our monthly casualty model against the ViEWS benchmarks.

    python -m models.backtest configs/backtest-syria.yaml --out DIR [--quick] [--quiet]
    python -m models.backtest configs/backtest-countries.yaml --out DIR [--countries AFG,SDN]

or, as a library::

    from models.evaluation.backtest import backtest_from_config, write_outputs
    from scenarios.backtest_config import load_backtest_config

    run = backtest_from_config(load_backtest_config("configs/backtest-syria.yaml"), quick=True)
    write_outputs(run.result, "results/backtest-syria-quick", run.meta)

At every origin month ``t`` (config ``origins``) the backtest reads the history known at ``t``
through :func:`models.data.series_as_of` (and only through it), fits our model to the last
``window_months`` of it, forecasts months ``t+1 .. t+H`` as ``forecast.draws`` Monte Carlo
draws, draws the four benchmark forecasts (:mod:`models.evaluation.reference_forecasts`) from
the same history, and scores all of them against the months that followed
(:mod:`models.evaluation.scoring`). Outcomes are read only after every forecast of that origin
exists, from a separate function (:func:`outcomes_after`).

Our model, ``latent_nb``, is specified in :mod:`models.inference.monthly` (the latent-intensity
family of the nowcast at monthly resolution, fitted by NUTS at each origin with
``sampler.posterior_draws`` draws per chain). What was tuned, on which data, and what the Syria
runs gave: ``docs/backtest-tuning.md``.

Any country: ``data.country`` (ISO alpha-3) selects it from the all-country ViEWS panel (the
default data), and the level and trend priors of ``latent_nb`` are derived at each origin from
the data up to it by the nowcast's rule (:class:`models.inference.monthly.MonthlyPriorRule`).
A config with ``data.countries`` is a cross-country backtest: the countries run in turn with one
compiled model (:func:`backtest_countries`), each scored on its own, with a per-country table
and the pooled figures (:mod:`~models.evaluation.backtest.countries`, ``countries.md``); the
design, the country-selection rule and every choice made after seeing scores:
``docs/cross-country-backtest.md``.

The rooms follow the flow: :mod:`~models.evaluation.backtest.loop` (settings and the
rolling-origin loop) -> :mod:`~models.evaluation.backtest.scores` (statistics, numpy and pandas
only) -> :mod:`~models.evaluation.backtest.plots` (figures from those statistics) and
:mod:`~models.evaluation.backtest.summary` (report blocks) -> :mod:`~models.evaluation.backtest.write`
(the one writer); :mod:`~models.evaluation.backtest.pipeline` runs a config through the loop;
:mod:`~models.evaluation.backtest.countries` holds the cross-country table.

Outputs (``DIR``, written to a temporary sibling and renamed when complete)
-------------------------------------------------------------------------
* ``scores.csv``: ``model, horizon, metric, value``: mean of each metric over the origins
  (:func:`models.evaluation.scoring.summarise_scores`); metrics ``crps, log_score,
  binned_log_score, mis_90, interval_score_50, coverage_50, coverage_90``; models ``latent_nb``
  and the benchmarks;
* ``forecast_scores.csv``: the same per origin (``origin``, ``origin_date``), with PIT bounds;
* ``fits.csv``: per origin, fit time and NUTS diagnostics of our model;
* ``crps_by_horizon.png``, ``calibration.png``, ``summary.md``, ``run.json``,
  ``config.resolved.json`` (the validated config, whose hash ``run.json`` records).

A cross-country run writes these per country into ``DIR/<ISO3>/`` and, in ``DIR``,
``countries.md`` and ``countries.csv`` (the per-country table and the pooled figures against the
targets), ``run.json`` and ``config.resolved.json``.

Bad config or data: one line per problem on stderr (file, line, key), exit 2, no traceback.
"""

from models.evaluation.backtest.countries import (
    TARGETS,
    active_countries,
    countries_markdown,
    countries_table,
    country_row,
    pooled_figures,
)
from models.evaluation.backtest.loop import (
    BacktestResult,
    BacktestSettings,
    Forecaster,
    OriginRangeError,
    check_history,
    origin_seed,
    outcomes_after,
    run_backtest,
)
from models.evaluation.backtest.pipeline import (
    BacktestRun,
    CountriesRun,
    Unit,
    backtest_countries,
    backtest_from_config,
    forecaster_from_config,
    load_backtest_data,
    prior_rule,
    run_meta,
    sampler_settings,
    units,
)
from models.evaluation.backtest.plots import plot_calibration, plot_crps_by_horizon, plot_statistics
from models.evaluation.backtest.scores import (
    NOMINAL_LEVELS,
    BacktestStatistics,
    backtest_statistics,
    block_bootstrap_indices,
    coverage_curve,
    crps_ratios,
    pit_histograms,
    score_forecast,
    scores_table,
)
from models.evaluation.backtest.summary import summary_blocks, summary_markdown
from models.evaluation.backtest.write import (
    MARKER,
    is_backtest_output,
    write_country_outputs,
    write_outputs,
)
from models.inference.monthly import MODEL_NAME, OriginForecast

__all__ = [
    "MARKER",
    "MODEL_NAME",
    "NOMINAL_LEVELS",
    "TARGETS",
    "BacktestResult",
    "BacktestRun",
    "BacktestSettings",
    "BacktestStatistics",
    "CountriesRun",
    "Forecaster",
    "OriginForecast",
    "OriginRangeError",
    "Unit",
    "active_countries",
    "backtest_countries",
    "backtest_from_config",
    "backtest_statistics",
    "block_bootstrap_indices",
    "check_history",
    "countries_markdown",
    "countries_table",
    "country_row",
    "coverage_curve",
    "crps_ratios",
    "forecaster_from_config",
    "is_backtest_output",
    "load_backtest_data",
    "origin_seed",
    "outcomes_after",
    "pit_histograms",
    "plot_calibration",
    "plot_crps_by_horizon",
    "plot_statistics",
    "pooled_figures",
    "prior_rule",
    "run_backtest",
    "run_meta",
    "sampler_settings",
    "score_forecast",
    "scores_table",
    "summary_blocks",
    "summary_markdown",
    "units",
    "write_country_outputs",
    "write_outputs",
]
