"""Every operation of the OpenAPI document answers edge values with a 4xx problem, never a 500.

The document is walked, not a list kept by hand, so an endpoint is covered the
day it lands. Each write starts from a body built from its own request schema,
so that it gets past the shape checks into the domain; then one field at a
time (and one field of each nested object) takes an edge value. Query
parameters and path ids take edge values too. The data is the demo's, so ids
in paths name real objects of every kind.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from typing import Any

import pytest
from django.test import Client

from caseloop.cases.models import Case
from caseloop.demo.loader import load_demo
from caseloop.identity.actions import create_token
from caseloop.identity.choices import Role
from caseloop.identity.models import User

pytestmark = pytest.mark.django_db

WRITES = ("post", "put", "patch")
# values a field may be sent that its schema or the domain must refuse (or take) without failing
EDGE_VALUES: list[Any] = [
    None, -1, 2**63, 10**30, "", "x" * 10_000, [], {}, True, 1.5, "\ud800", "2026-02-30", "CL-0",
    "<script>alert(1)</script>",
]  # fmt: skip
# a nested field gets the few that reach past its schema most often
EDGE_NESTED: list[Any] = [None, -1, 10**30, "", "x" * 10_000, {}, "\ud800", "2026-02-30"]
EDGE_QUERY = ["", "-1", "0", "99999999999999999999", "abc", "x" * 3_000, "2026-13-45", "%00", "%ED%A0%80", "1e999"]
EDGE_IDS = ["0", "-1", "99999999999999999999", "abc", "CL-0", "%00"]


def _resolve(schema: dict[str, Any], components: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in schema:
        schema = components[schema["$ref"].rsplit("/", 1)[-1]]
    if len(schema.get("allOf", ())) == 1:
        return _resolve(schema["allOf"][0], components)
    return schema


def _example(schema: dict[str, Any], components: dict[str, Any], depth: int = 0) -> Any:
    """A plausible value for `schema`: its required fields (all fields at the top), first enum values."""
    schema = _resolve(schema, components)
    if "anyOf" in schema:
        options = [o for o in schema["anyOf"] if _resolve(o, components).get("type") != "null"]
        return _example(options[0], components, depth) if options else None
    if "enum" in schema:
        return schema["enum"][0]
    kind = schema.get("type")
    if kind == "object" or "properties" in schema:
        required = set(schema.get("required", ()))
        return {
            name: _example(field, components, depth + 1)
            for name, field in schema.get("properties", {}).items()
            if depth == 0 or name in required
        }
    if kind == "array":
        return [_example(schema.get("items", {}), components, depth + 1)] if depth < 3 else []
    formats = {"date-time": "2026-11-20T10:00:00Z", "date": "2026-11-20", "time": "10:00:00", "email": "a@example.com"}
    return {"integer": 1, "number": 1.5, "boolean": True}.get(kind or "", formats.get(schema.get("format", ""), "x"))


def _mutants(body: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """`body` with one field, or one field of a nested object (or of a list's first object), set to an edge value."""
    for name, value in body.items():
        for edge in EDGE_VALUES:
            yield {**body, name: edge}
        nested = value if isinstance(value, dict) else value[0] if isinstance(value, list) and value else None
        if not isinstance(nested, dict):
            continue
        for inner in nested:
            for edge in EDGE_NESTED:
                mutant = copy.deepcopy(body)
                target = mutant[name] if isinstance(value, dict) else mutant[name][0]
                target[inner] = edge
                yield mutant


def _real_ids(client: Client, headers: dict[str, str], paths: dict[str, Any]) -> dict[str, str]:
    """For each templated path, the id of a real object: the first item its collection lists."""
    ids: dict[str, str] = {}
    for path in paths:
        if "{" not in path:
            continue
        collection, _, rest = path.partition("/{")
        name = rest.split("}", 1)[0]
        if "{" in collection or collection not in paths or "get" not in paths[collection]:
            continue
        listed = client.get(collection, headers=headers)
        answer = listed.json() if listed.status_code == 200 else None
        items = answer.get("items") if isinstance(answer, dict) else answer  # a page, or a plain list
        if isinstance(items, list) and items and isinstance(items[0], dict):
            key = "sku" if name == "sku" else "id"
            if key in items[0]:
                ids[f"{collection}/{{{name}}}"] = str(items[0][key])
    return ids


def _fill(path: str, ids: dict[str, str], edge: str | None = None) -> str:
    while "{" in path:
        start, end = path.index("{"), path.index("}")
        known = ids.get(path[: end + 1], "1")
        path = path[:start] + (edge if edge is not None else known) + path[end + 1 :]
    return path


def _check(response: Any, label: str, failures: list[str]) -> None:
    if response.status_code >= 500:
        failures.append(f"{label}: {response.status_code} {response.content[:200]!r}")
    elif response.status_code >= 400 and response.get("Content-Type") == "application/json":
        failures.append(f"{label}: {response.status_code} is not a problem+json")


PARTS = 4  # the operations are shared out over a few tests, so that parallel test workers split them


def _demo_api(
    caller: User | None = None,
) -> tuple[Client, dict[str, str], dict[str, str], dict[str, Any], dict[str, Any]]:
    """Demo data; a client; bearer headers for an administrator and for `caller` (a customer when None); the
    OpenAPI document's paths and schemas."""
    if not Case.objects.exists():
        load_demo(cases=30, progress=False, parallel=False)
    admin = User.objects.filter(role=Role.ADMIN, is_active=True).first()
    caller = caller or User.objects.filter(role=Role.CUSTOMER, is_active=True).first()
    assert admin is not None and caller is not None
    client = Client()
    staff = {"Authorization": f"Bearer {create_token(user=admin, name='staff').plain}"}
    as_caller = {"Authorization": f"Bearer {create_token(user=caller, name='caller').plain}"}
    document = client.get("/api/v1/openapi.json").json()
    return client, staff, as_caller, document["paths"], document["components"]["schemas"]


@pytest.mark.parametrize("part", range(PARTS))
def test_edge_values_to_every_operation_are_answered_with_a_problem_never_a_500(part):
    client, headers, as_customer, paths, components = _demo_api()
    ids = _real_ids(client, headers, paths)
    failures: list[str] = []
    operations = [(m, p, op) for p, item in paths.items() for m, op in item.items() if m in (*WRITES, "get", "delete")]
    assert len(operations) > 100  # the whole API, not a few routes
    operations = operations[part::PARTS]

    def send(method: str, path: str, body: Any = None, who: dict[str, str] = headers) -> Any:
        if method in WRITES:
            raw = json.dumps(body if body is not None else {})  # ensure_ascii: "\ud800" goes as its JSON escape
            return getattr(client, method)(path, raw, content_type="application/json", headers=who)
        return getattr(client, method)(path, headers=who)

    deletes = []
    for method, path, operation in operations:
        if method == "delete":
            deletes.append((path, operation))  # last: they remove what the other operations name
            continue
        real = _fill(path, ids)
        body_schema = operation.get("requestBody", {}).get("content", {}).get("application/json", {}).get("schema")
        body = _example(body_schema, components) if body_schema else None
        for who, label in ((headers, "admin"), (as_customer, "customer")):
            _check(send(method, real, body, who), f"{label} {method.upper()} {real}", failures)
        if isinstance(body, dict) and method in WRITES:
            for mutant in _mutants(body):
                _check(send(method, real, mutant), f"{method.upper()} {real} {json.dumps(mutant)[:150]}", failures)
        for parameter in operation.get("parameters", ()):
            if parameter["in"] == "query":
                for value in EDGE_QUERY:
                    target = f"{real}?{parameter['name']}={value}"
                    _check(send(method, target, body), f"{method.upper()} {target[:150]}", failures)
        if "{" in path:
            for edge in EDGE_IDS:
                target = _fill(path, ids, edge)
                _check(send(method, target, body), f"{method.upper()} {target}", failures)
    for path, _operation in deletes:
        for id_or_real in [*EDGE_IDS, None]:  # None: the real object's, last
            target = _fill(path, ids, id_or_real)
            _check(send("delete", target), f"DELETE {target}", failures)
    assert not failures, "\n".join(failures[:40])


def _listed(client: Client, path: str, headers: dict[str, str], key: str) -> list[str]:
    answer = client.get(path, headers=headers)
    if answer.status_code != 200:
        return []
    body = answer.json()
    items = body.get("items") if isinstance(body, dict) else body
    return [str(item[key]) for item in items or () if isinstance(item, dict) and key in item]


def _partner_with_work() -> User:
    """A partner's user whose organization installs two of the demo's cases."""
    from caseloop.customers.actions import create_organization
    from caseloop.customers.choices import OrganizationKind
    from caseloop.identity.actions import create_user
    from caseloop.testing.factories import make_contact

    admin = User.objects.filter(role=Role.ADMIN).first()
    installer = create_organization(actor=admin, name="Quick Installs", kind=OrganizationKind.PARTNER)
    user = create_user(username="installer", email="pat@installs.example", role=Role.PARTNER)
    contact = make_contact(name="Pat Partner", organization=installer)
    contact.user = user
    contact.save()
    Case.objects.filter(pk__in=Case.objects.order_by("-pk").values("pk")[:2]).update(partner=installer)
    return user


@pytest.mark.parametrize("role", [Role.CUSTOMER, Role.PARTNER])
def test_a_customer_or_partner_reaches_no_object_of_anyone_else_through_any_operation(role):
    """For every operation on `/<collection>/{id}`: an object staff can list but the caller cannot is refused.

    Reading it, changing it, acting on it: 403 or 404, and a write changes nothing (the audit log shows no entry).
    A body that fails its schema is refused before any view runs (422 `validation_error`), which tells nothing
    about the object either. The price book is a catalogue, no one's object: customers read it.
    """
    from caseloop.timeline.models import AuditEntry

    load_demo(cases=30, progress=False, parallel=False)
    client, staff, as_customer, paths, components = _demo_api(_partner_with_work() if role == Role.PARTNER else None)
    audited = AuditEntry.objects.count()
    tried, leaks = 0, []
    for path, item in paths.items():
        collection, _, rest = path.partition("/{")
        if not rest or "{" in collection or "get" not in paths.get(collection, {}) or "/price-book" in collection:
            continue
        key = "sku" if rest.startswith("sku}") else "id"
        own = set(_listed(client, collection, as_customer, key))
        others = [i for i in _listed(client, collection, staff, key) if i not in own]
        if not others:
            continue
        target = path.replace("{" + rest.split("}", 1)[0] + "}", others[0])
        if "{" in target:
            continue
        for method, operation in item.items():
            if method not in (*WRITES, "get", "delete"):
                continue
            schema = operation.get("requestBody", {}).get("content", {}).get("application/json", {}).get("schema")
            body = json.dumps(_example(schema, components) if schema else {})
            call = getattr(client, method)
            answer = (call(target, body, content_type="application/json", headers=as_customer) if method in WRITES
                      else call(target, headers=as_customer))  # fmt: skip
            tried += 1
            refused_unread = answer.status_code == 422 and answer.json().get("code") == "validation_error"
            if answer.status_code not in (403, 404) and not refused_unread:
                leaks.append(f"{method.upper()} {target}: {answer.status_code} {answer.content[:120]!r}")
    assert tried > 20  # cases, contacts, sites, assets, orders, organizations, promises… were all tried
    assert not leaks, "\n".join(leaks)
    assert AuditEntry.objects.count() == audited
