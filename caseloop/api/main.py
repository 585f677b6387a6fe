"""The REST API at /api/v1: one NinjaAPI, its auth, its errors, and every domain's router.

Each domain keeps its routes in its own `api.py` (parse, call one action or
selector, answer); this module only assembles them. Routes that read across
domains (the timeline of any subject) live beside it in this package.
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja import NinjaAPI

from caseloop.api import idempotency
from caseloop.api.auth import AUTH
from caseloop.api.parser import StrictJSONParser
from caseloop.api.problems import PROBLEM_CONTENT_TYPE, Problem, install_handlers
from caseloop.api.timeline import router as timeline_router
from caseloop.cases.api import router as cases_router
from caseloop.customers.api import router as customers_router
from caseloop.feedback.api import router as feedback_router
from caseloop.identity.api import router as identity_router
from caseloop.insights.api import router as insights_router
from caseloop.policies.api import router as policies_router
from caseloop.pricing.api import router as pricing_router
from caseloop.promises.api import router as promises_router
from caseloop.sla.api import router as sla_router

DESCRIPTION = """\
The REST API of caseloop. Authenticate with `Authorization: Bearer <token>`
(create one with `caseloop token create --user NAME` or `POST /api/v1/tokens`).
Lists are cursor-paged, newest first: `{"items": [...], "next_cursor": ...}`.
Errors are RFC 9457 problem+json with a stable `code`. A POST may carry an
`Idempotency-Key` header; a retry with the same key and body returns the first
answer. See docs/api.md.
"""


class CaseloopAPI(NinjaAPI):
    def get_openapi_schema(self, *, path_prefix: str | None = None, path_params: Any = None) -> Any:
        """Every operation may answer a problem; say so once here rather than on each route."""
        schema = super().get_openapi_schema(path_prefix=path_prefix, path_params=path_params)
        components = schema.setdefault("components", {}).setdefault("schemas", {})
        components["Problem"] = Problem.model_json_schema(ref_template="#/components/schemas/{model}")
        components.update(components["Problem"].pop("$defs", {}))
        problem = {
            "description": "A problem (RFC 9457); `code` tells which.",
            "content": {PROBLEM_CONTENT_TYPE: {"schema": {"$ref": "#/components/schemas/Problem"}}},
        }
        for path in schema.get("paths", {}).values():
            for operation in path.values():
                if isinstance(operation, dict) and "responses" in operation:
                    operation["responses"].setdefault("4XX", problem)
                    operation["responses"].setdefault("5XX", problem)
        return schema


api = CaseloopAPI(
    title="caseloop",
    version="1",
    description=DESCRIPTION,
    urls_namespace="api",
    auth=AUTH,
    parser=StrictJSONParser(),
)
install_handlers(api)
# ninja's modes are named from the inside out: "view" wraps the whole operation, "operation" the view function
api.add_decorator(idempotency.around_operation, mode="view")
api.add_decorator(idempotency.within_view, mode="operation")


@api.get("/health", auth=None, tags=["meta"], summary="Is the API up")
def health(request: HttpRequest) -> dict[str, str]:
    return {"status": "ok"}


api.add_router("", identity_router)
api.add_router("", customers_router)
api.add_router("", cases_router)
api.add_router("", timeline_router)
api.add_router("", feedback_router)
api.add_router("", insights_router)
api.add_router("", promises_router)
api.add_router("", policies_router)
api.add_router("", sla_router)
api.add_router("", pricing_router)
