"""Stored trial results: SQL over a run's Parquet tables (:mod:`dermatwin.results.query`).

This layer knows the tables a trial run writes (``trajectories``, ``endpoints``) but nothing
of how they were simulated: it sits beside :mod:`dermatwin.execution` (whose
``ExecutionError`` it raises) and below the trial front end (docs/architecture.md).
"""
