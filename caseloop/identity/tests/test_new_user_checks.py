"""create_user and create_token refuse what the model cannot hold, with the field named."""

from __future__ import annotations

import pytest

from caseloop.core.errors import Invalid
from caseloop.identity.actions import (
    EMAIL_MAX_LENGTH,
    TOKEN_NAME_MAX_LENGTH,
    USERNAME_MAX_LENGTH,
    create_token,
    create_user,
)
from caseloop.identity.models import ApiToken, User
from caseloop.testing.api import ApiClient

pytestmark = pytest.mark.django_db


def test_the_limits_are_the_models() -> None:
    assert User._meta.get_field("username").max_length == USERNAME_MAX_LENGTH
    assert User._meta.get_field("email").max_length == EMAIL_MAX_LENGTH
    assert ApiToken._meta.get_field("name").max_length == TOKEN_NAME_MAX_LENGTH


@pytest.mark.parametrize(
    ("username", "email", "field", "message"),
    [
        ("a b/c", "", "username", "only letters, digits and the characters @.+-_"),
        ("u" * 151, "", "username", "at most 150 characters"),
        ("qa4", "notanemail", "email", "'notanemail' is not an email address."),
        ("qa4", "a@" + "b" * 250 + ".com", "email", "is not an email address."),
    ],
)
def test_create_user_refuses_what_the_model_forbids(username: str, email: str, field: str, message: str) -> None:
    with pytest.raises(Invalid) as refused:
        create_user(username=username, email=email, password="a-long-pass-phrase-1")

    assert refused.value.field == field and message in refused.value.message
    assert not User.objects.exists()


def test_create_user_keeps_what_it_allowed_before() -> None:
    user = create_user(username="  jo.doe+x@example.com ", email=" Jo@Example.COM ", password=None)
    longest = create_user(username="u" * 150)

    assert (user.username, user.email, user.has_usable_password()) == ("jo.doe+x@example.com", "jo@example.com", False)
    assert len(longest.username) == 150


@pytest.mark.parametrize(("name", "message"), [("", "A token needs a name."), ("   ", "A token needs a name."),
                                               ("n" * 101, "at most 100 characters")])  # fmt: skip
def test_create_token_refuses_an_empty_or_too_long_name(name: str, message: str) -> None:
    user = create_user(username="alice")

    with pytest.raises(Invalid) as refused:
        create_token(user=user, name=name)

    assert refused.value.field == "name" and message in refused.value.message
    assert not ApiToken.objects.exists()


def test_create_token_keeps_a_name_of_100_characters_stripped() -> None:
    issued = create_token(user=create_user(username="alice"), name=f" {'n' * 100} ")

    assert issued.token.name == "n" * 100


def test_the_api_refuses_a_token_name_over_100_characters_naming_the_field() -> None:
    user = create_user(username="alice")
    api = ApiClient(user)
    before = ApiToken.objects.count()

    answer = api.post("/tokens", {"name": "n" * 101})

    assert answer.status_code == 422
    assert [error["field"] for error in answer.json()["errors"]] == ["name"]
    assert ApiToken.objects.count() == before
