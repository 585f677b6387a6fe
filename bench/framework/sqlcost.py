"""`python -m bench.framework.sqlcost`: the framework limit's request in-process, and its row's SQL on the driver.

The counterpart of `bench.inproc sqlcost` for the bare endpoint (a fresh row
table first, as before the server starts): CPU per request through Django's
test client, and the CPU of its one INSERT replayed on the driver
(bench.replay). Prints one JSON object.
"""

from __future__ import annotations

import json

from bench import storage
from bench.replay import measure_request

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

    print(json.dumps(measure_request(insert, connection=connection, times=REQUESTS)))


if __name__ == "__main__":
    main()
