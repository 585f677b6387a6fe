"""`/promises` outside the company: only what the customer was told, and only as told.

On Carla's case "Boiler leaks", attributed to Fast Installs, Ann has promised
Carla a call back (now at risk), a visit (released, for a reason staff wrote
for staff), a thank-you call Carla is not to hear of (an untold source) and a
note to the team (kind `other`). Fast Installs also keeps a promise on a case
of Oscar's that is not attributed to it. Staff read every promise whole; Carla
reads the three told ones in her words (ToldPromiseOut); Pat, for Fast
Installs, the same three of the attributed case and nothing else; anything
else is "not found".
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import pytest

from caseloop.cases.models import Case
from caseloop.core import clock
from caseloop.customers.actions import create_organization
from caseloop.customers.choices import OrganizationKind
from caseloop.identity.actions import create_user
from caseloop.identity.choices import Role
from caseloop.identity.models import User
from caseloop.promises.actions import Owner, make_promise, release_promise
from caseloop.promises.choices import PromiseKind, PromiseState
from caseloop.promises.models import Promise
from caseloop.testing.api import ApiClient
from caseloop.testing.factories import make_case, make_contact

pytestmark = pytest.mark.django_db

RELEASE_REASON = "Customer threatens to sue; legal says stop visiting."
UNTOLD = "Thank-you call: Carla praised Ann on the survey"
NOTE = "Check our margins before quoting this one"
TOLD_KEYS = {"id", "case_id", "kind", "what", "description", "window_start", "due_at", "standing", "settled_at"}
STAFF_ONLY = ("owner_user", "owner_team", "owner_partner", "source", "state", "release_reason", "kept_by", "contact_id")


@dataclass
class Ledger:
    case: Case
    call_back: Promise  # told, at risk
    visit: Promise  # told, released
    thank_you: Promise  # untold source
    note: Promise  # kind other: no customer wording
    elsewhere: Promise  # Fast Installs keeps it, on Oscar's case, not attributed to Fast Installs
    oscars: Promise  # told to Oscar
    pat: User


def _due(days: int = 2) -> dt.datetime:
    return clock.now() + dt.timedelta(days=days)


@pytest.fixture
def ledger(agent, customer, other_customer) -> Ledger:
    fast = create_organization(actor=agent, name="Fast Installs", kind=OrganizationKind.PARTNER)
    pat = create_user(username="installer", email="pat@installs.example", role=Role.PARTNER)
    person = make_contact(name="Pat Partner", organization=fast)
    person.user = pat
    person.save(update_fields=["user"])
    case = make_case(requester=customer.contact, subject="Boiler leaks", partner=fast)
    oscar_case = make_case(requester=other_customer.contact, subject="Oscar's boiler")

    def promise(target: Case, kind: PromiseKind, text: str, owner: Owner | None = None, source: str | None = None
                ) -> Promise:  # fmt: skip
        return make_promise(actor=agent, case=target, kind=kind, description=text, due_at=_due(), owner=owner,
                            source=source)  # fmt: skip

    call_back = promise(case, PromiseKind.CALL_BACK, "call you back about the boiler")
    Promise.objects.filter(pk=call_back.pk).update(state=PromiseState.AT_RISK)
    visit = promise(case, PromiseKind.VISIT, "a fitter comes on Tuesday", owner=Owner(partner=fast))
    release_promise(actor=agent, promise=visit, reason=RELEASE_REASON)
    thank_you = promise(case, PromiseKind.CALL_BACK, UNTOLD, source="feedback.thank_you:1")
    note = promise(case, PromiseKind.OTHER, NOTE)
    elsewhere = promise(oscar_case, PromiseKind.VISIT, "fit Oscar's softener", owner=Owner(partner=fast))
    oscars = promise(oscar_case, PromiseKind.REPLY, "write back to Oscar")
    return Ledger(case=case, call_back=call_back, visit=visit, thank_you=thank_you, note=note, elsewhere=elsewhere,
                  oscars=oscars, pat=pat)  # fmt: skip


def _items(user: User, **params: object) -> list[dict[str, object]]:
    response = ApiClient(user).get("/promises", params)
    assert response.status_code == 200, response.content
    items: list[dict[str, object]] = response.json()["items"]
    return items


def test_staff_read_every_promise_whole(agent, ledger):
    items = _items(agent, case=ledger.case.number)
    assert [p["id"] for p in items] == [ledger.note.pk, ledger.thank_you.pk, ledger.visit.pk, ledger.call_back.pk]
    visit = next(p for p in items if p["id"] == ledger.visit.pk)
    assert (visit["state"], visit["release_reason"]) == ("released", RELEASE_REASON)
    call_back = next(p for p in items if p["id"] == ledger.call_back.pk)
    assert (call_back["state"], call_back["owner_user"]) == ("at_risk", {"id": agent.pk, "name": agent.name})
    assert ApiClient(agent).get(f"/promises/{ledger.thank_you.pk}").json()["source"] == "feedback.thank_you:1"


def test_a_customer_lists_only_the_promises_they_were_told_of_in_their_words(customer, ledger):
    items = _items(customer)
    assert [p["id"] for p in items] == [ledger.visit.pk, ledger.call_back.pk]
    assert all(set(p) == TOLD_KEYS for p in items)
    call_back = items[1]
    assert (call_back["what"], call_back["description"], call_back["standing"], call_back["settled_at"]) == (
        "We call you back", "call you back about the boiler", "open", None)  # fmt: skip
    assert (items[0]["what"], items[0]["standing"]) == ("A technician arrives", "released")
    text = str(items)
    assert RELEASE_REASON not in text and UNTOLD not in text and NOTE not in text and "Fast Installs" not in text


def test_a_customer_reads_one_told_promise_as_told_and_no_other(customer, ledger):
    api = ApiClient(customer)
    one = api.get(f"/promises/{ledger.visit.pk}")
    assert one.status_code == 200 and set(one.json()) == TOLD_KEYS
    assert not any(key in one.json() for key in STAFF_ONLY)
    for hidden in (ledger.thank_you, ledger.note, ledger.oscars, ledger.elsewhere):
        response = api.get(f"/promises/{hidden.pk}")
        assert (response.status_code, response.json()["code"]) == (404, "not_found"), hidden.description


def test_a_customers_state_filter_is_the_standing_they_read(customer, ledger):
    assert [p["id"] for p in _items(customer, state="open")] == [ledger.call_back.pk]  # at risk, to us
    assert _items(customer, state="at_risk") == []  # our worry: asking tells nothing
    assert [p["id"] for p in _items(customer, state="released")] == [ledger.visit.pk]
    assert [p["id"] for p in _items(customer, case=ledger.case.number)] == [ledger.visit.pk, ledger.call_back.pk]


def test_a_partner_reads_the_told_promises_of_its_attributed_cases_only(ledger):
    items = _items(ledger.pat)
    assert [p["id"] for p in items] == [ledger.visit.pk, ledger.call_back.pk]
    assert all(set(p) == TOLD_KEYS for p in items)
    api = ApiClient(ledger.pat)
    # the promise Fast Installs keeps on a case not attributed to it is not its work to read
    for hidden in (ledger.elsewhere, ledger.thank_you, ledger.note, ledger.oscars):
        assert api.get(f"/promises/{hidden.pk}").status_code == 404, hidden.description


def test_outsiders_settle_nothing(customer, ledger):
    before = Promise.objects.get(pk=ledger.call_back.pk).state
    for user in (customer, ledger.pat):
        response = ApiClient(user).post(f"/promises/{ledger.call_back.pk}/kept", {})
        assert (response.status_code, response.json()["code"]) == (403, "permission_denied")
    assert Promise.objects.get(pk=ledger.call_back.pk).state == before


def test_the_openapi_document_says_which_schema_who_reads(agent):
    document = ApiClient(agent).get("/openapi.json").json()
    schemas = document["components"]["schemas"]
    either = [{"$ref": "#/components/schemas/PromiseOut"}, {"$ref": "#/components/schemas/ToldPromiseOut"}]
    listed = document["paths"]["/api/v1/promises"]["get"]
    one = document["paths"]["/api/v1/promises/{promise_id}"]["get"]
    page = listed["responses"]["200"]["content"]["application/json"]["schema"]
    assert page == {"$ref": "#/components/schemas/PromisePageOut"}
    assert schemas["PromisePageOut"]["properties"]["items"]["items"]["oneOf"] == either
    assert one["responses"]["200"]["content"]["application/json"]["schema"]["oneOf"] == either
    for operation in (listed, one):
        assert "(ToldPromiseOut)" in operation["description"] and "(PromiseOut)" in operation["description"]
    assert set(schemas["ToldPromiseOut"]["properties"]) == TOLD_KEYS
