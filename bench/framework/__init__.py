"""The framework limit: a bare Django + django-ninja project whose one endpoint inserts one row.

Served by the same gunicorn configuration as `caseloop serve` and measured with
the same load generator, it shows what the stack itself can do, so caseloop's
create rate can be read as a fraction of it.
"""
