from ninja import NinjaAPI

api = NinjaAPI(title="caseloop", version="1", urls_namespace="api")


@api.get("/health", auth=None)
def health(request: object) -> dict[str, str]:
    return {"status": "ok"}
