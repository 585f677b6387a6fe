"""WSGI entry point for gunicorn (`caseloop serve`)."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "caseloop.config.settings")
application = get_wsgi_application()
