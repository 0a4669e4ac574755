"""Library code of the ``darwin-bench perf`` commands.

Each module measures one thing side by side in one run and returns a JSON-serializable dict;
``darwin_bench/cli/perf.py`` only parses arguments and prints what these functions return.
"""
