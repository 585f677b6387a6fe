"""Behind a proxy that terminates TLS, browsers are told to stay on HTTPS (security review, ADR 0076).

Django sends Strict-Transport-Security only on a request it sees as HTTPS, and behind a
TLS-terminating proxy it saw every request as plain HTTP: no setting made it send the header.
CASELOOP_TLS_PROXY=true trusts the proxy's X-Forwarded-Proto; CASELOOP_HSTS_SECONDS sets HSTS.
Settings are read once per process, so each case runs in a fresh interpreter.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[3]
PROBE = """
import json, django
django.setup()
from django.conf import settings
from django.http import HttpResponse
from django.middleware.security import SecurityMiddleware
from django.test import RequestFactory
request = RequestFactory().get("/inbox/", headers={"X-Forwarded-Proto": "https"})
response = SecurityMiddleware(lambda r: HttpResponse())(request)
print(json.dumps({"secure": request.is_secure(), "hsts": response.get("Strict-Transport-Security"),
                  "cookie_secure": settings.SESSION_COOKIE_SECURE}))
"""


def _probe(**env: str) -> dict[str, object]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("CASELOOP_")}
    clean.update(DJANGO_SETTINGS_MODULE="caseloop.config.settings", CASELOOP_SECRET_KEY="test-only-key", **env)
    # this interpreter running the probe above: no outside input
    out = subprocess.run([sys.executable, "-c", PROBE], cwd=REPO, env=clean, capture_output=True,  # noqa: S603
                         text=True, check=True, timeout=60)  # fmt: skip
    result: dict[str, object] = json.loads(out.stdout.strip().splitlines()[-1])
    return result


def test_behind_a_tls_proxy_hsts_is_sent(tmp_path: Path) -> None:
    result = _probe(CASELOOP_DATA_DIR=str(tmp_path), CASELOOP_TLS_PROXY="true", CASELOOP_HSTS_SECONDS="31536000")
    assert result == {"secure": True, "hsts": "max-age=31536000", "cookie_secure": True}


def test_by_default_the_forwarded_header_is_not_trusted_and_no_hsts(tmp_path: Path) -> None:
    # a client may send X-Forwarded-Proto itself: only a deployment that says a proxy sets it trusts it
    result = _probe(CASELOOP_DATA_DIR=str(tmp_path))
    assert result == {"secure": False, "hsts": None, "cookie_secure": False}
