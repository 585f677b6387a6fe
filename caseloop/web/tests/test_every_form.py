"""Every form on every page answers edge values with a page or a refusal, never a server error.

The pages are found by walking the URL configuration, not by a list kept by
hand, and opened as an administrator (every staff page) and as a customer
(the portal) on demo data, so ids in paths name real objects. Each form a
page shows is sent back as the page filled it, then once per field with that
field set to an edge value.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from html.parser import HTMLParser
from typing import Any

import pytest
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver

from caseloop.cases.models import Case
from caseloop.demo.loader import load_demo
from caseloop.identity.choices import Role
from caseloop.identity.models import User

pytestmark = pytest.mark.django_db

EDGE_VALUES = ["", "x" * 5_000, "-1", "99999999999999999999", "1e999", "2026-02-30", "\x00"]
SKIPPED = ("static/", "stream", "logout", "api/")  # files, endless event streams, signing out, the API's own test
PARTS = 4


class _Forms(HTMLParser):
    """The POST forms of a page: where each is sent and the values it would send as shown."""

    def __init__(self) -> None:
        super().__init__()
        self.forms: list[tuple[str, dict[str, str]]] = []
        self._fields: dict[str, str] | None = None
        self._select: str | None = None

    def handle_starttag(self, tag: str, attributes: list[tuple[str, str | None]]) -> None:
        a = {name: value or "" for name, value in attributes}
        if tag == "form":
            posts = a.get("method", "get").lower() == "post" or "hx-post" in a
            self._fields = {} if posts else None
            if self._fields is not None:
                self.forms.append((a.get("hx-post") or a.get("action", ""), self._fields))
        elif self._fields is not None and tag in ("input", "textarea") and a.get("name"):
            if a.get("type") in ("checkbox", "radio") and "checked" not in a and a["name"] in self._fields:
                return
            self._fields[a["name"]] = a.get("value", "")
        elif self._fields is not None and tag == "select" and a.get("name"):
            self._select = a["name"]
            self._fields.setdefault(self._select, "")
        elif self._fields is not None and tag == "option" and self._select and not self._fields[self._select]:
            self._fields[self._select] = a.get("value", "")

    def handle_endtag(self, tag: str) -> None:
        if tag == "select":
            self._select = None
        elif tag == "form":
            self._fields = None


def _routes(patterns: list[URLPattern | URLResolver], prefix: str = "") -> Iterator[str]:
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            yield from _routes(pattern.url_patterns, prefix + str(pattern.pattern))
        else:
            yield prefix + str(pattern.pattern)


def _pages(case: Case) -> list[str]:
    real = {"case_ref": case.number, "case_id": str(case.pk)}
    pages = []
    for route in _routes(get_resolver().url_patterns):
        if any(skipped in route for skipped in SKIPPED) or route.startswith("^"):
            continue
        pages.append("/" + re.sub(r"<(?:\w+:)?(\w+)>", lambda m: real.get(str(m.group(1)), "1"), route))
    return pages


def _mutants(fields: dict[str, str]) -> Iterator[dict[str, str]]:
    yield fields
    for name in fields:
        if name != "csrfmiddlewaretoken":
            for edge in EDGE_VALUES:
                yield {**fields, name: edge}


@pytest.mark.parametrize("part", range(PARTS))
def test_edge_values_in_every_form_are_never_a_server_error(part: int) -> None:
    load_demo(cases=30, progress=False, parallel=False)
    case = Case.objects.order_by("pk").first()
    assert case is not None
    pages = _pages(case)
    assert len(pages) > 80  # the whole product, not a few pages
    failures: list[str] = []
    forms_sent = 0
    for role in (Role.ADMIN, Role.CUSTOMER):
        user = User.objects.filter(role=role, is_active=True).first()
        assert user is not None
        client = Client(raise_request_exception=False)
        client.force_login(user)
        seen: set[tuple[str, tuple[str, ...]]] = set()
        for page in pages[part::PARTS]:
            shown = client.get(page)
            if shown.status_code >= 500:
                failures.append(f"{role} GET {page}: {shown.status_code}")
            if shown.status_code != 200 or "html" not in shown.get("Content-Type", ""):
                continue
            parser = _Forms()
            parser.feed(shown.content.decode(errors="replace"))
            for action, fields in parser.forms:
                target = action or page
                shape = (re.sub(r"\d+", "N", target), tuple(sorted(fields)))
                if not target.startswith("/") or shape in seen or any(skipped in target for skipped in SKIPPED):
                    continue  # signing out would leave the rest of the walk signed out
                seen.add(shape)
                forms_sent += 1
                for sent in _mutants(fields):
                    answer: Any = client.post(target, sent)
                    if answer.status_code >= 500:
                        failures.append(f"{role} POST {target} {str(sent)[:160]}: {answer.status_code}")
    assert forms_sent > 0  # the pages were read and their forms found
    assert not failures, "\n".join(failures[:40])
