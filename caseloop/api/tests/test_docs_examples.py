"""Every curl example in the docs reaches a route that exists and sends a body its schema accepts.

The docs are how people learn the API (issue 2: "use the REST API with curl,
following docs/api.md"), so a renamed route or field must fail here, not on a
reader's machine. Each example runs as an administrator on an empty database,
in a transaction rolled back afterwards. The examples keep ids from earlier
answers in shell variables (`CASE=$(curl … | field id)`, then `$CL/cases/$CASE`
or `"site": '$SITE'` in a body): each such variable reads as 1 here, and need
not exist: a 404 for a missing object is fine, a route that does not exist, a
method it does not take, a body that is not JSON or that its schema refuses
(422 validation_error) and any 5xx are not. That the examples run in order
against the demo data is checked by running them (see docs/api.md's preface).
"""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from django.db import transaction
from django.test import Client
from django.urls import Resolver404, resolve

from caseloop.api.urls import unknown_route
from caseloop.identity.actions import create_token, create_user
from caseloop.identity.choices import Role

pytestmark = pytest.mark.django_db

DOCS = Path(__file__).resolve().parents[3] / "docs"
DOCUMENTS = ("api.md", "policies.md")
PREFIXES = ("$CL", "$API")  # the base URL as the docs spell it: http://127.0.0.1:8000/api/v1
CAPTURED = re.compile(r"^\s*[A-Z_][A-Z0-9_]*=\$\((?=curl )")  # NAME=$(curl … | field id)
SHELL_VARIABLE = re.compile(r"\$(?!(?:CL|API|TOKEN|AUTH)\b)[A-Z_][A-Z0-9_]*\b")  # an id kept from an earlier answer
API_ROOT = "/api/v1"


@dataclass
class Example:
    where: str  # file:line
    method: str
    path: str
    headers: dict[str, str] = field(default_factory=dict)
    body: str | None = None


def _commands(text: str) -> list[tuple[int, str]]:
    """The curl commands in the shell blocks of a Markdown text, each with its first line number."""
    found: list[tuple[int, str]] = []
    in_block, current, start = False, "", 0
    for number, line in enumerate(text.splitlines(), 1):
        if line.startswith("```"):
            in_block, current = line.strip() == "```sh", ""
            continue
        if not in_block:
            continue
        line = CAPTURED.sub("", line) if not current else line
        if not current and not line.lstrip().startswith("curl "):
            continue
        if not current:
            start = number
        current += line.rstrip().removesuffix("\\") + "\n"
        try:
            shlex.split(current, comments=True)
        except ValueError:  # an open quote: the command goes on
            continue
        if not line.rstrip().endswith("\\"):
            found.append((start, current))
            current = ""
    return found


def _example(where: str, command: str) -> Example:
    words = shlex.split(SHELL_VARIABLE.sub("1", command), comments=True)
    if "|" in words:  # … | field id): what reads the answer, not what is sent
        words = words[: words.index("|")]
    assert words[0] == "curl", where
    method, url, headers, body = "", "", {}, None
    words_iter = iter(words[1:])
    for word in words_iter:
        if word == "-X":
            method = next(words_iter)
        elif word == "-H":
            header = next(words_iter)
            if header == "$AUTH":  # AUTH="Authorization: Bearer $TOKEN", as docs/policies.md sets it
                header = "Authorization: Bearer $TOKEN"
            name, _, value = header.partition(":")
            headers[name.strip()] = value.strip()
        elif word == "-d":
            body = next(words_iter)
        elif word.startswith("-"):
            continue  # -s, -L: how curl prints, not what it sends
        else:
            url = word
    prefix = next((p for p in PREFIXES if url.startswith(p)), None)
    assert prefix is not None, f"{where}: {url!r} does not start with $CL"
    return Example(where=where, method=method or ("POST" if body is not None else "GET"),
                   path=API_ROOT + url.removeprefix(prefix), headers=headers, body=body)  # fmt: skip


def _examples() -> list[Example]:
    examples = []
    for name in DOCUMENTS:
        for line, command in _commands((DOCS / name).read_text()):
            examples.append(_example(f"docs/{name}:{line}", command))
    return examples


EXAMPLES = _examples()


def test_the_docs_hold_the_examples_this_test_reads() -> None:
    assert len(EXAMPLES) >= 40
    assert {e.method for e in EXAMPLES} >= {"GET", "POST", "PATCH", "DELETE", "PUT"}


@pytest.mark.parametrize("example", EXAMPLES, ids=lambda e: f"{e.where} {e.method} {e.path[:60]}")
def test_each_example_reaches_its_route_with_a_body_its_schema_takes(example: Example) -> None:
    admin = create_user(username="docs", email="docs@example.com", role=Role.ADMIN, display_name="Docs Reader")
    token = create_token(user=admin, name="docs").plain
    path = example.path.partition("?")[0]
    try:
        route = resolve(path)
    except Resolver404:
        route = None
    if route is None or route.func is unknown_route:  # the API's catch-all, answering 404 problem+json
        pytest.fail(f"{example.where}: no route for {path}")
    headers = {name: value.replace("$TOKEN", token) for name, value in example.headers.items()}
    body = example.body
    from_file = body is not None and body.startswith("@")
    if from_file:
        body = "{}"  # a file on the reader's disk: the route and method are still checked, not the body
    content_type = headers.pop("Content-Type", "application/x-www-form-urlencoded")  # curl's, with -d
    with transaction.atomic():
        response = Client().generic(example.method, example.path, data=body or "", content_type=content_type,
                                    headers=headers)  # fmt: skip
        transaction.set_rollback(True)
    problem = response.json() if response["Content-Type"].startswith("application/problem+json") else {}
    detail = f"{example.where}: {example.method} {example.path} -> {response.status_code} {problem}"
    assert response.status_code < 500, detail
    assert response.status_code != 405, detail
    if not from_file:
        assert problem.get("code") not in ("validation_error", "malformed_json", "bad_request"), detail
    # an object the example names may be missing here ("Contact 881 was not found."); the route may not
    assert problem.get("detail") != "There is nothing here.", detail


METHOD = "(?:GET|POST|PUT|PATCH|DELETE)"
ROUTE_MENTION = re.compile(rf"\b({METHOD}(?:/{METHOD})*) (/api/v1/[^\s`?,;)]*)")


def _mentions() -> list[tuple[str, str, str]]:
    """(where, method, path template) for each route the docs name in prose, e.g. "POST /api/v1/cases/{ref}/quotes"."""
    found = []
    for document in sorted([*DOCS.rglob("*.md"), DOCS.parent / "README.md"]):
        for number, line in enumerate(document.read_text().splitlines(), 1):
            for methods, path in ROUTE_MENTION.findall(line):
                for method in methods.split("/"):
                    found.append((f"{document.relative_to(DOCS.parent)}:{number}", method, path))
    return found


def test_every_route_the_docs_name_in_prose_exists_with_that_method() -> None:
    mentions = _mentions()
    assert len(mentions) >= 15
    schema = Client().get(f"{API_ROOT}/openapi.json").json()
    routes = [(re.compile("^" + re.sub(r"\\{[^/]+\\}", "[^/]+", re.escape(path)) + "$"), {m.upper() for m in ops})
              for path, ops in schema["paths"].items()]  # fmt: skip
    missing = []
    for where, method, path in mentions:
        concrete = re.sub(r"\{[^/]+\}", "1", path)
        methods = set().union(*(ops for pattern, ops in routes if pattern.match(concrete)))
        if method not in methods:
            missing.append(f"{where}: {method} {path} (the API has {sorted(methods) or 'no such route'})")
    assert not missing, "\n".join(missing)
