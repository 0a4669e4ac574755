"""The leaderboard's pages: served (FastAPI, :mod:`leaderboard.web.app`) or exported as a
static site (:mod:`leaderboard.web.export`), both rendered by :mod:`leaderboard.web.pages`."""
