"""`/me`, `/tokens`, `/teams`, `/users` over HTTP."""

from __future__ import annotations

import pytest
from django.test import Client

from caseloop.identity.actions import add_member, create_team, create_token, create_user
from caseloop.identity.choices import Role
from caseloop.identity.models import ApiToken
from caseloop.testing.api import ApiClient

pytestmark = pytest.mark.django_db


def test_me_describes_the_caller(agent):
    team = create_team(name="Doors")
    add_member(team=team, user=agent)
    assert ApiClient(agent).get("/me").json() == {
        "id": agent.pk, "username": "agent", "name": "agent", "email": agent.email, "role": "agent",
        "is_active": True, "is_staff_member": True, "time_zone": "UTC", "teams": [{"id": team.pk, "name": "Doors"}],
        "contact_id": None,
    }  # fmt: skip


def test_me_of_a_customer_names_their_contact(customer):
    body = ApiClient(customer).get("/me").json()
    assert (body["role"], body["is_staff_member"], body["contact_id"]) == ("customer", False, customer.contact.pk)


def test_create_list_and_revoke_my_tokens(agent):
    api = ApiClient(agent)  # itself holds one token named "test"
    created = api.post("/tokens", {"name": "laptop"})
    assert created.status_code == 201
    body = created.json()
    assert body["name"] == "laptop" and body["token"].startswith(f"cl_{body['prefix']}_")
    assert Client().get("/api/v1/me", headers={"Authorization": f"Bearer {body['token']}"}).status_code == 200
    listed = api.get("/tokens").json()["items"]
    assert [t["name"] for t in listed] == ["laptop", "test"]
    assert all("token" not in t and "digest" not in t for t in listed)  # the secret is shown once only
    assert api.delete(f"/tokens/{body['id']}").status_code == 204
    assert Client().get("/api/v1/me", headers={"Authorization": f"Bearer {body['token']}"}).status_code == 401
    assert api.get("/tokens").json()["items"][0]["revoked_at"] is not None


def test_someone_elses_token_cannot_be_revoked_or_seen(agent, customer):
    theirs = create_token(user=customer, name="portal")
    api = ApiClient(agent)
    response = api.delete(f"/tokens/{theirs.token.pk}")
    assert (response.status_code, response.json()["code"]) == (404, "not_found")
    assert ApiToken.objects.get(pk=theirs.token.pk).revoked_at is None
    assert "portal" not in [t["name"] for t in api.get("/tokens").json()["items"]]


@pytest.mark.parametrize("body", [{}, {"name": ""}, {"name": "x" * 101}, {"name": "ok", "user": 1}])
def test_token_bodies_are_checked(agent, body):
    before = ApiToken.objects.count()
    assert ApiClient(agent).post("/tokens", body).status_code == 422
    assert ApiToken.objects.count() == before + 1  # only the client's own


def test_teams_and_users_are_for_staff(agent, customer):
    create_team(name="Billing")
    manager = create_user(username="mia", role=Role.MANAGER)
    staff = ApiClient(agent)
    assert [t["name"] for t in staff.get("/teams").json()["items"]] == ["Billing"]
    users = staff.get("/users", {"role": "manager"}).json()["items"]
    assert [(u["id"], u["username"], u["role"]) for u in users] == [(manager.pk, "mia", "manager")]
    for path in ("/teams", "/users"):
        response = ApiClient(customer).get(path)
        assert (response.status_code, response.json()["code"]) == (403, "permission_denied")


def test_users_filter_by_team_and_page(agent):
    team = create_team(name="Field")
    members = [create_user(username=f"tech{n}", role=Role.TECHNICIAN) for n in range(3)]
    for member in members:
        add_member(team=team, user=member)
    api = ApiClient(agent)
    first = api.get("/users", {"team": team.pk, "limit": 2}).json()
    second = api.get("/users", {"team": team.pk, "limit": 2, "cursor": first["next_cursor"]}).json()
    assert [u["username"] for u in first["items"] + second["items"]] == ["tech2", "tech1", "tech0"]
    assert second["next_cursor"] is None
