"""Marking notices read goes back only to a page of ours (security review, ADR 0076).

The view redirected to whatever `next` was posted; CSRF keeps another site from posting it, so
this is defence in depth, as the other `next` readers (sign-in, the inbox, promises) already check.
"""

from __future__ import annotations

import pytest
from django.test import Client

from caseloop.identity.models import User

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("target", ["https://evil.test/", "//evil.test/", "/\\evil.test/"])
def test_a_foreign_next_goes_to_the_work_page(client: Client, agent: User, target: str) -> None:
    client.force_login(agent)
    response = client.post("/feedback/notices/read/", {"next": target})
    assert response.status_code == 302 and response["Location"] == "/feedback/"


def test_a_next_of_ours_is_followed(client: Client, agent: User) -> None:
    client.force_login(agent)
    response = client.post("/feedback/notices/read/", {"next": "/feedback/recognition/"})
    assert response["Location"] == "/feedback/recognition/"
