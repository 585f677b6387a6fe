"""Demo data: a year in the life of a home-services company, from a few thousand to a million cases.

`load_demo` writes through `caseloop.demo.rows` (bulk inserts) rather than the
domains' actions, for speed, and produces the same rows the actions would;
see docs/adr/0010-demo-loader-bulk-writes.md.
"""
