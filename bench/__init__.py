"""caseloop's benchmark: seed data, serve it as in production, measure over HTTP.

Run by hand (`python -m bench --cases 100000`), never by the test suite. See
docs/performance.md for what is measured, the targets and the latest figures.
"""
