"""WSGI entry point for gunicorn (`caseloop serve`)."""

import os

from django.core.wsgi import get_wsgi_application
from django.urls import get_resolver

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "caseloop.config.settings")
application = get_wsgi_application()

# `caseloop serve` loads this module once, in gunicorn's master, and forks its workers from it. Loading the
# URL configuration here (every route, and the API's request and response schemas) does that work once, in
# memory the workers share, instead of on each worker's first request (about 0.6 s, again after a restart).
get_resolver().url_patterns  # noqa: B018  (a cached property: reading it loads it)
