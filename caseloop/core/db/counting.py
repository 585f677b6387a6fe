"""A database wrapper that counts the transactions its connection begins.

`core.stamps` lets one request read the table stamps once and reuse that
reading until the connection begins a transaction (whose writes may change a
stamp); the count is how it knows one began. Django begins every transaction,
`atomic()` or a manual `set_autocommit(False)`, through `set_autocommit`.
"""

from __future__ import annotations

from django.db.backends.base.base import BaseDatabaseWrapper


class CountsTransactions(BaseDatabaseWrapper):
    transactions_begun = 0

    def set_autocommit(self, autocommit: bool, force_begin_transaction_with_broken_autocommit: bool = False) -> None:
        if not autocommit:
            # counted first: a BEGIN that fails leaves a higher count, which only costs a fresh reading
            self.transactions_begun += 1
        super().set_autocommit(autocommit, force_begin_transaction_with_broken_autocommit)
