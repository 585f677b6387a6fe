"""`python -m bench.framework.sqlcost`: the framework limit's request in-process, and its row's SQL on the driver.

The counterpart of `bench.inproc sqlcost` for the bare endpoint (a fresh row
table first, as before the server starts): CPU per request through Django's
test client, and the CPU of its one INSERT replayed on the driver
(bench.replay). Prints one JSON object.
"""

from __future__ import annotations

import json
import time
from typing import Any

from bench import storage
from bench.replay import Statement, replay, writes_of

REQUESTS = 500


def main() -> None:
    from bench.framework.create_table import main as create_table

    create_table()  # sets the bare project's settings up, too
    from django.db import connection
    from django.test import Client

    client = Client()
    body = json.dumps({"subject": storage.SUBJECT, "body": storage.BODY})

    def insert() -> int:
        return int(client.post("/rows", data=body, content_type="application/json").status_code)

    for _ in range(20):
        insert()
    started = time.thread_time()
    statuses = {insert() for _ in range(REQUESTS)}
    request_cpu_ms = (time.thread_time() - started) * 1000 / REQUESTS
    captured: list[Statement] = []

    def record(execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
        captured.append(Statement(sql, list(params) if params is not None else [], many))
        return execute(sql, params, many, context)

    with connection.execute_wrapper(record):
        statuses.add(insert())
    sql_cpu_ms = replay(connection.connection, writes_of(captured), vendor=connection.vendor, times=REQUESTS)
    print(json.dumps({"statuses": sorted(statuses), "request_cpu_ms": request_cpu_ms, "sql_cpu_ms": sql_cpu_ms}))


if __name__ == "__main__":
    main()
