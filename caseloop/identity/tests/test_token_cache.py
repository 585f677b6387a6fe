"""A token check is kept per process, and follows every change of the token or its user at once."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from caseloop.core import stamps
from caseloop.identity.actions import authenticate_token, create_token
from caseloop.identity.models import ApiToken, User

pytestmark = pytest.mark.django_db


def _queries(plain: str) -> tuple[User | None, list[str]]:
    with CaptureQueriesContext(connection) as captured:
        user = authenticate_token(plain)
    return user, [q["sql"] for q in captured.captured_queries]


def _raw(sql: str, params: list[str | int | bool]) -> None:
    with connection.cursor() as cursor:  # not through the ORM, as another program would
        cursor.execute(sql, params)


def test_a_known_token_is_checked_with_one_read_of_the_stamps(agent):
    issued = create_token(user=agent)
    assert authenticate_token(issued.plain) == agent  # read and kept (writes last_used_at, a change)
    assert authenticate_token(issued.plain) == agent  # read again after that change, kept
    user, sql = _queries(issued.plain)
    assert user == agent
    assert len(sql) == 1 and "core_table_stamp" in sql[0]


def test_revoking_the_token_or_deactivating_its_user_is_seen_at_the_next_check(agent):
    revoked = create_token(user=agent)
    authenticate_token(revoked.plain)
    assert authenticate_token(revoked.plain) == agent
    _raw("UPDATE identity_apitoken SET revoked_at = %s WHERE id = %s", ["2026-01-01 00:00:00", revoked.token.pk])
    assert authenticate_token(revoked.plain) is None

    issued = create_token(user=agent)
    authenticate_token(issued.plain)
    assert authenticate_token(issued.plain) == agent
    _raw("UPDATE identity_user SET is_active = %s WHERE id = %s", [False, agent.pk])
    assert authenticate_token(issued.plain) is None
    _raw("UPDATE identity_user SET is_active = %s WHERE id = %s", [True, agent.pk])
    _raw("DELETE FROM identity_apitoken WHERE id = %s", [issued.token.pk])
    assert authenticate_token(issued.plain) is None


def test_a_changed_secret_is_refused_even_when_kept(agent):
    issued = create_token(user=agent)
    authenticate_token(issued.plain)
    assert authenticate_token(issued.plain) == agent
    tampered = issued.plain[:-2] + ("AA" if not issued.plain.endswith("AA") else "BB")
    assert authenticate_token(tampered) is None  # same prefix, kept row: the digest still decides


def test_every_check_gets_its_own_user(agent):
    issued = create_token(user=agent)
    first = authenticate_token(issued.plain)
    second = authenticate_token(issued.plain)
    assert first is not None and second is not None and first is not second
    first.display_name = "changed by one request"
    assert second.display_name != "changed by one request"


def test_unknown_tokens_are_never_kept(agent):
    for n in range(3):
        user, sql = _queries(f"cl_nosuch{n:04d}_secret")
        assert user is None
        assert any('FROM "identity_apitoken"' in q for q in sql)  # looked up every time: nothing to keep
    user, sql = _queries("cl_nosuch0000_secret")
    assert any('FROM "identity_apitoken"' in q for q in sql)


def test_past_the_limit_the_kept_tokens_are_dropped_and_read_again(agent, monkeypatch):
    monkeypatch.setattr(stamps, "KEYED_LIMIT", 2)
    issued = [create_token(user=agent) for _ in range(3)]
    for token in issued:
        authenticate_token(token.plain)
    for token in issued:
        assert authenticate_token(token.plain) == agent
    assert ApiToken.objects.count() == 3


def test_a_kept_token_is_read_again_after_a_minute_even_if_no_stamp_changed(agent, monkeypatch):
    # should a trigger be lost (a table rebuilt by hand), a revoked token still stops working within a minute
    from caseloop.identity import actions

    issued = create_token(user=agent)
    authenticate_token(issued.plain)
    assert authenticate_token(issued.plain) == agent
    with connection.cursor() as cursor:  # the revocation, with the stamp put back as if no trigger had fired
        cursor.execute("SELECT stamp FROM core_table_stamp WHERE table_name = 'identity_apitoken'")
        (stamp,) = cursor.fetchone()
        cursor.execute("UPDATE identity_apitoken SET revoked_at = %s WHERE id = %s",
                       ["2026-01-01 00:00:00", issued.token.pk])  # fmt: skip
        cursor.execute("UPDATE core_table_stamp SET stamp = %s WHERE table_name = 'identity_apitoken'", [stamp])
    assert authenticate_token(issued.plain) == agent  # kept: the stamps say nothing changed
    monkeypatch.setattr(actions, "TOKEN_KEPT_SECONDS", 0.0)
    assert authenticate_token(issued.plain) is None
