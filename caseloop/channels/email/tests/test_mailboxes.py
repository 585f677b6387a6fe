"""Mailboxes: the actions, the admin pages and `caseloop mailbox`; IMAP passwords sealed at rest."""

from __future__ import annotations

import importlib
import io
from typing import Any

import pytest
from django.apps import apps
from django.test import Client, override_settings

from caseloop import cli
from caseloop.channels.email.actions import (
    create_mailbox,
    reseal_mailbox_passwords,
    set_mailbox_active,
    update_mailbox,
)
from caseloop.channels.email.errors import EmailErrorCode
from caseloop.channels.email.models import Mailbox
from caseloop.channels.email.selectors import imap_password
from caseloop.core.errors import CommonErrorCode, DomainError
from caseloop.core.secretbox import PREFIX, seal
from caseloop.identity.models import User
from caseloop.testing.factories import make_team
from caseloop.timeline.models import AuditEntry

pytestmark = pytest.mark.django_db

OLD_KEY, NEW_KEY = "old-secrets-key-" + "a" * 24, "new-secrets-key-" + "b" * 24


def imap_box(actor: User | None = None, **kw: Any) -> Mailbox:
    values: dict[str, Any] = {"address": "Support@Example.com", "imap_host": "imap.example.com",
                              "imap_username": "support", "imap_password": "s3cret pass"}  # fmt: skip
    return create_mailbox(actor=actor, **{**values, **kw})


def edit(mailbox: Mailbox, actor: User | None, **changes: Any) -> Mailbox:
    fields = {name: getattr(mailbox, name) for name in ("address", "name", "team", "acknowledge", "imap_host",
              "imap_port", "imap_username", "imap_folder", "imap_archive_folder", "poll_seconds")}  # fmt: skip
    return update_mailbox(actor=actor, mailbox=mailbox, **{**fields, **changes})


def stored_password(mailbox: Mailbox) -> str:
    return str(Mailbox.objects.values_list("imap_password_sealed", flat=True).get(pk=mailbox.pk))


# --- actions ------------------------------------------------------------------------------
def test_the_password_is_stored_sealed_and_opens_to_log_in(admin_user):
    mailbox = imap_box(admin_user)
    stored = stored_password(mailbox)
    assert stored.startswith(PREFIX) and "s3cret" not in stored
    assert imap_password(Mailbox.objects.get(pk=mailbox.pk)) == "s3cret pass"
    assert mailbox.address == "support@example.com"
    audit = AuditEntry.objects.get(action="mailbox.create")
    assert audit.after["imap_password"] == "set" and "s3cret" not in str(audit.after)


def test_an_agent_cannot_add_change_or_disable_a_mailbox_and_nothing_changes(admin_user, agent):
    with pytest.raises(DomainError) as refused:
        imap_box(agent)
    assert refused.value.code == CommonErrorCode.PERMISSION_DENIED and not Mailbox.objects.exists()
    mailbox = imap_box(admin_user)
    for attempt in (lambda: edit(mailbox, agent, name="Hacked"),
                    lambda: set_mailbox_active(actor=agent, mailbox=mailbox, active=False)):  # fmt: skip
        with pytest.raises(DomainError):
            attempt()
    assert Mailbox.objects.filter(pk=mailbox.pk, name="", active=True).exists()


@pytest.mark.parametrize(
    ("changes", "code", "field"),
    [
        ({"address": "not an address"}, EmailErrorCode.BAD_ADDRESS, "address"),
        ({"address": "support+tag@example.com"}, EmailErrorCode.BAD_ADDRESS, "address"),
        ({"imap_port": 0}, CommonErrorCode.INVALID, "imap_port"),
        ({"imap_username": ""}, CommonErrorCode.INVALID, "imap_username"),
        ({"poll_seconds": 2}, CommonErrorCode.INVALID, "poll_seconds"),
    ],
)
def test_bad_settings_are_refused_with_the_field(admin_user, changes, code, field):
    with pytest.raises(DomainError) as refused:
        imap_box(admin_user, **changes)
    assert (refused.value.code, refused.value.field) == (code, field)
    assert not Mailbox.objects.exists()


def test_an_address_is_one_mailbox(admin_user):
    imap_box(admin_user)
    with pytest.raises(DomainError) as refused:
        create_mailbox(actor=admin_user, address="SUPPORT@example.com")
    assert (refused.value.code, refused.value.status) == (EmailErrorCode.MAILBOX_EXISTS, 409)
    assert Mailbox.objects.count() == 1


def test_editing_keeps_replaces_or_removes_the_password(admin_user):
    mailbox = imap_box(admin_user)
    sealed = stored_password(mailbox)
    mailbox = edit(mailbox, admin_user, name="Support team")  # no password given: the stored one stays
    assert stored_password(mailbox) == sealed
    mailbox = edit(mailbox, admin_user, imap_password="n3w pass")
    assert imap_password(Mailbox.objects.get(pk=mailbox.pk)) == "n3w pass"
    edit(mailbox, admin_user, clear_imap_password=True)
    assert stored_password(mailbox) == ""
    audits = list(AuditEntry.objects.filter(action="mailbox.update").order_by("id").values_list("after", flat=True))
    assert audits == [{"name": "Support team"}, {"imap_password": "changed"}, {"imap_password": "removed"}]


def test_pointing_imap_elsewhere_starts_that_folder_from_the_beginning(admin_user):
    mailbox = imap_box(admin_user)
    Mailbox.objects.filter(pk=mailbox.pk).update(imap_uidvalidity=7, imap_last_uid=120, imap_last_error="LOGIN: NO")
    kept = edit(Mailbox.objects.get(pk=mailbox.pk), admin_user, poll_seconds=300)
    assert (kept.imap_uidvalidity, kept.imap_last_uid, kept.imap_last_error) == (7, 120, "LOGIN: NO")
    moved = edit(kept, admin_user, imap_folder="Support")
    assert (moved.imap_uidvalidity, moved.imap_last_uid, moved.imap_folder) == (None, 0, "Support")


def test_disable_and_enable_are_audited_once(admin_user):
    mailbox = imap_box(admin_user)
    set_mailbox_active(actor=admin_user, mailbox=mailbox, active=False)
    set_mailbox_active(actor=admin_user, mailbox=mailbox, active=False)  # already disabled: nothing to record
    set_mailbox_active(actor=admin_user, mailbox=mailbox, active=True)
    assert list(AuditEntry.objects.filter(action__in=["mailbox.disable", "mailbox.enable"]).order_by("id")
                .values_list("action", flat=True)) == ["mailbox.disable", "mailbox.enable"]  # fmt: skip
    assert Mailbox.objects.get(pk=mailbox.pk).active


def test_key_rotation_reseals_and_a_lost_key_asks_for_the_password_again(admin_user):
    with override_settings(CASELOOP_SECRETS_KEY=OLD_KEY):
        rotated = imap_box(admin_user)
        lost = imap_box(admin_user, address="sales@example.com", imap_password="sales pass")
    Mailbox.objects.filter(pk=lost.pk).update(imap_password_sealed=seal("x")[: len(PREFIX)] + "damaged")
    with override_settings(CASELOOP_SECRETS_KEY=f"{NEW_KEY},{OLD_KEY}"):
        result = reseal_mailbox_passwords(actor=admin_user)
    assert (result.resealed, result.unreadable) == (1, ["sales@example.com"])
    with override_settings(CASELOOP_SECRETS_KEY=NEW_KEY):  # the old key is gone now
        assert imap_password(Mailbox.objects.get(pk=rotated.pk)) == "s3cret pass"
        with pytest.raises(DomainError) as refused:
            imap_password(Mailbox.objects.get(pk=lost.pk))
    assert refused.value.code == EmailErrorCode.PASSWORD_UNREADABLE


def test_the_migration_seals_passwords_stored_in_plain_text(admin_user):
    migration = importlib.import_module("caseloop.channels.email.migrations.0002_mailbox_password_sealed")
    plain = create_mailbox(actor=admin_user, address="old@example.com")
    Mailbox.objects.filter(pk=plain.pk).update(imap_password_sealed="plain pass")
    sealed = imap_box(admin_user)
    before = stored_password(sealed)
    migration.seal_existing(apps, None)
    assert imap_password(Mailbox.objects.get(pk=plain.pk)) == "plain pass"
    assert stored_password(sealed) == before  # already sealed: left alone


# --- the admin pages ----------------------------------------------------------------------
def test_admin_adds_a_mailbox_from_the_form_and_the_password_is_never_shown(client: Client, admin_user):
    team = make_team("Doors")
    client.force_login(admin_user)
    assert client.get("/admin/email/mailboxes/new/").status_code == 200
    response = client.post("/admin/email/mailboxes/new/", {
        "address": "Doors@Example.com", "name": "Door help", "team": team.pk, "acknowledge": "on",
        "imap_host": "imap.example.com", "imap_port": "993", "imap_username": "doors", "imap_password": "pw 1",
        "imap_folder": "INBOX", "imap_archive_folder": "", "poll_seconds": "120",
    })  # fmt: skip
    assert response.status_code == 302 and response["Location"] == "/admin/email/mailboxes/"
    mailbox = Mailbox.objects.get()
    assert (mailbox.address, mailbox.team_id, mailbox.poll_seconds, imap_password(mailbox)) == (
        "doors@example.com", team.pk, 120, "pw 1")  # fmt: skip
    listing = client.get("/admin/email/mailboxes/").content.decode()
    assert "doors@example.com" in listing and "Doors" in listing and "every 120 s" in listing
    form = client.get(f"/admin/email/mailboxes/{mailbox.pk}/").content.decode()
    assert "pw 1" not in form and mailbox.imap_password_sealed not in form and "a password is stored" in form


def test_editing_from_the_form_with_an_empty_password_keeps_it(client: Client, admin_user):
    mailbox = imap_box(admin_user)
    sealed = stored_password(mailbox)
    client.force_login(admin_user)
    response = client.post(f"/admin/email/mailboxes/{mailbox.pk}/", {
        "address": "support@example.com", "name": "Renamed", "imap_host": "imap.example.com", "imap_port": "993",
        "imap_username": "support", "imap_password": "", "imap_folder": "INBOX",
    })  # fmt: skip
    assert response.status_code == 302
    mailbox.refresh_from_db()
    assert (mailbox.name, mailbox.acknowledge, mailbox.imap_password_sealed) == ("Renamed", False, sealed)


def test_a_refused_form_shows_the_reason_beside_the_field_and_saves_nothing(client: Client, admin_user):
    imap_box(admin_user)
    client.force_login(admin_user)
    response = client.post("/admin/email/mailboxes/new/", {"address": "support@example.com", "imap_port": "993",
                                                           "imap_folder": "INBOX"})  # fmt: skip
    assert response.status_code == 409
    assert "support@example.com is already a mailbox." in response.content.decode()
    response = client.post("/admin/email/mailboxes/new/", {"address": "x@example.com", "imap_port": "99999",
                                                           "imap_folder": "INBOX"})  # fmt: skip
    assert response.status_code == 422 and Mailbox.objects.count() == 1


def test_disable_from_the_list(client: Client, admin_user):
    mailbox = imap_box(admin_user)
    client.force_login(admin_user)
    response = client.post(f"/admin/email/mailboxes/{mailbox.pk}/active/", {"active": "0"})
    assert response.status_code == 302 and not Mailbox.objects.get(pk=mailbox.pk).active
    assert "Disabled" in client.get("/admin/email/mailboxes/").content.decode()


def test_agents_and_visitors_are_refused_the_mailbox_pages(client: Client, admin_user, agent):
    mailbox = imap_box(admin_user)
    assert client.get("/admin/email/mailboxes/")["Location"].startswith("/login/")
    client.force_login(agent)
    for url in ("/admin/email/mailboxes/", "/admin/email/mailboxes/new/", f"/admin/email/mailboxes/{mailbox.pk}/"):
        assert client.get(url).status_code == 403
    assert client.post(f"/admin/email/mailboxes/{mailbox.pk}/active/", {"active": "0"}).status_code == 403
    assert client.post("/admin/email/mailboxes/new/", {"address": "x@example.com", "imap_port": "993",
                                                       "imap_folder": "INBOX"}).status_code == 403  # fmt: skip
    assert list(Mailbox.objects.values_list("address", "active")) == [("support@example.com", True)]


# --- caseloop mailbox ---------------------------------------------------------------------
def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    status = cli.main(list(argv))
    out, err = capsys.readouterr()
    return status, out, err


def test_cli_adds_lists_disables_and_rekeys(capsys, monkeypatch):
    make_team("Doors")
    monkeypatch.setattr("sys.stdin", io.StringIO("pw from stdin\n"))
    status, out, err = run(capsys, "mailbox", "add", "doors@example.com", "--team", "doors", "--imap-host",
                           "imap.example.com", "--imap-user", "doors", "--imap-password-stdin")  # fmt: skip
    assert (status, err) == (0, "") and "Added mailbox doors@example.com" in out
    assert imap_password(Mailbox.objects.get()) == "pw from stdin"
    status, out, _ = run(capsys, "mailbox", "list")
    assert status == 0 and "doors@example.com" in out and "IMAP doors@imap.example.com:993/INBOX" in out
    assert "pw from stdin" not in out and PREFIX not in out
    status, out, _ = run(capsys, "mailbox", "disable", "DOORS@example.com")
    assert status == 0 and not Mailbox.objects.get().active
    status, out, _ = run(capsys, "mailbox", "rekey")
    assert (status, out) == (0, "Sealed 1 IMAP password(s) with the current key.\n")


def test_cli_mistakes_are_one_line_and_change_nothing(capsys):
    status, out, err = run(capsys, "mailbox", "add", "x@example.com", "--team", "nope")
    assert (status, out, err) == (1, "", "caseloop: There is no team 'nope' (give its slug).\n")
    status, _, err = run(capsys, "mailbox", "add", "not-an-address")
    assert status == 1 and err == "caseloop: 'not-an-address' is not a mailbox address.\n"
    status, _, err = run(capsys, "mailbox", "disable", "ghost@example.com")
    assert status == 1 and "There is no mailbox 'ghost@example.com'" in err
    assert not Mailbox.objects.exists()
