"""One endpoint, `POST /rows`: parse a JSON body with ninja, insert one row in one transaction."""

from __future__ import annotations

from django.db import transaction
from django.http import HttpRequest
from django.urls import path
from django.utils import timezone
from ninja import NinjaAPI, Schema

from bench.framework.models import Row

api = NinjaAPI(title="bench framework limit", urls_namespace="bench")


class RowIn(Schema):
    subject: str
    body: str


class RowOut(Schema):
    id: int


@api.post("/rows", response={201: RowOut})
def create_row(request: HttpRequest, payload: RowIn) -> tuple[int, RowOut]:
    with transaction.atomic():
        row = Row.objects.create(subject=payload.subject, body=payload.body, created_at=timezone.now())
    return 201, RowOut(id=row.pk)


@api.get("/health")
def health(request: HttpRequest) -> dict[str, str]:
    return {"status": "ok"}


urlpatterns = [path("", api.urls)]
