"""The benchmark suite's own inputs are what they claim (the timings themselves are measured by
``python -m benchmarks``, never in a test)."""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.e2e import new_report_configs  # noqa: E402
from scenarios.compose import compose  # noqa: E402


def test_new_report_configs_add_reports_and_keep_the_comparison(tmp_path):
    shipped = compose([ROOT / "configs" / "escalation.yaml"])
    for reports in (1, 3):
        path = new_report_configs("escalation", tmp_path / str(reports), reports)
        comparison = compose([path])
        assert comparison.scenario_ids == shipped.scenario_ids  # baseline still compared
        for loaded, original in zip(comparison.configs, shipped.configs, strict=True):
            added = set(loaded.config.evidence) - set(original.config.evidence)
            assert len(added) == reports and all(a.startswith("benchmark_new_report_")
                                                 for a in added)
            assert loaded.config.episode == original.config.episode


def test_a_serial_only_backtest_gives_its_memory_and_no_speed_up():
    """``--backtest-paths serial`` (the 22 countries' memory without the Dask hour): the summary
    has the peak memory and no speed-up or equality it did not measure."""
    from benchmarks.__main__ import summary

    serial = {"wall_s": 10.0, "cpu_s": 18.0, "peak_tree_mb": 711.0}
    s = summary({"backtest": {"serial": serial}, "load_avg": {"start": 0.1, "end": 0.2}})
    assert s["backtest_peak_mb"] == 711.0
    assert "backtest_speedup" not in s and "backtest_equal" not in s
    both = summary({"backtest": {"serial": serial, "dask": {**serial, "peak_tree_mb": 900.0},
                                 "speedup": 1.1, "equal_scores": True},
                    "load_avg": {"start": 0.1, "end": 0.2}})
    assert both["backtest_peak_mb"] == 900.0 and both["backtest_speedup"] == 1.1
