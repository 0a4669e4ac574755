"""Tabular benchmarks: every network of a bounded space pre-evaluated, looked up in microseconds.

- :mod:`darwin_bench.tables.table`: the file format and :class:`Table` (load, save, hash).
- :mod:`darwin_bench.tables.build`: :func:`build_table`, resumable, on any executor.
- :mod:`darwin_bench.tables.lookup`: :class:`TableEvaluator`, the evaluator that answers from a
  table (what ``envs/tabular.py`` plugs into an env).
- :mod:`darwin_bench.tables.verify`: retrain a sample live and compare.
"""

from __future__ import annotations

from darwin_bench.tables.table import FORMAT, Table, load_table, packaged_tables, table_path

__all__ = ["FORMAT", "Table", "load_table", "packaged_tables", "table_path"]
