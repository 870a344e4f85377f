"""Benchmarks: speed and memory of whole runs, the nowcast fit, the Monte Carlo engine and how its
cost scales. A script, not timed tests: ``python -m benchmarks [--quick]`` (see README.md here).

Modules: :mod:`benchmarks.e2e` (``python -m models.run`` per config, cold and warm caches),
:mod:`benchmarks.fit` (nutpie against PyMC's NUTS), :mod:`benchmarks.mc` (engine throughput
against the naive reference and the RNG), :mod:`benchmarks.scaling` (draws and horizon).
"""
