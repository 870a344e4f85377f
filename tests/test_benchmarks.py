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
