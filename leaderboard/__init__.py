"""The leaderboard: submissions are run logs, verified by re-execution, stored and ranked.

Not built yet; see ``docs/runlog.md`` for the submission format it will read.
"""
