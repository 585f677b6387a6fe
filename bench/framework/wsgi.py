"""WSGI entry point of the bare project, for gunicorn."""

import os

from django.core.wsgi import get_wsgi_application

os.environ["DJANGO_SETTINGS_MODULE"] = "bench.framework.settings"
application = get_wsgi_application()
