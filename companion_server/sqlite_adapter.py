"""SQLAlchemy's aiosqlite adapter with one trip to aiosqlite's thread per statement.

aiosqlite runs each call of the ``sqlite3`` connection in a thread of its own and wakes the
event loop with its result: SQLAlchemy's adapter makes four such trips per statement (open
a cursor, execute, fetch, close) and one for each commit and rollback, even when no
transaction is open (the pool's rollback of every connection coming back). Each trip costs
about 50 µs of CPU (a thread switch, the loop's wake-up pipe): 36 trips, a sixth of the CPU
of a page of the installations list. This adapter runs a statement's four steps in one trip
and leaves out commits and rollbacks with no transaction open, which ``sqlite3`` makes
no-ops anyway. Everything else is SQLAlchemy's (the engine gets it as its ``module``).
"""

from __future__ import annotations

import sqlite3
from typing import Any

import aiosqlite
from sqlalchemy.dialects.sqlite.aiosqlite import (
    AsyncAdapt_aiosqlite_connection,
    AsyncAdapt_aiosqlite_cursor,
    AsyncAdapt_aiosqlite_dbapi,
)


class _OneTripCursor(AsyncAdapt_aiosqlite_cursor):
    """A cursor whose ``execute`` opens, runs, fetches and closes in aiosqlite's thread."""

    __slots__ = ()

    def execute(self, operation: str, parameters: Any = None) -> None:
        connection: aiosqlite.Connection = self._connection

        def run() -> tuple[Any, list[Any], int | None, int]:
            # In aiosqlite's thread, as its own cursor methods run.
            cursor = connection._conn.cursor()
            try:
                if parameters is None:
                    cursor.execute(operation)
                else:
                    cursor.execute(operation, parameters)
                description = cursor.description
                rows = cursor.fetchall() if description else []
                return description, rows, cursor.lastrowid, cursor.rowcount
            finally:
                cursor.close()

        try:
            description, rows, lastrowid, rowcount = self.await_(
                connection._execute(run)  # type: ignore[no-untyped-call]
            )
        except Exception as error:
            self._adapt_connection._handle_exception(error)
        self.description = description
        if description:
            self.lastrowid = self.rowcount = -1
            self._rows.clear()
            self._rows.extend(rows)
        else:
            self.lastrowid = lastrowid
            self.rowcount = rowcount


class _OneTripConnection(AsyncAdapt_aiosqlite_connection):
    __slots__ = ()

    def cursor(self, server_side: bool = False) -> Any:
        if server_side:
            return super().cursor(server_side=True)  # type: ignore[no-untyped-call]
        return _OneTripCursor(self)  # type: ignore[no-untyped-call]

    def _in_transaction(self) -> bool:
        # Read from the event loop's thread (sqlite3 allows it, whatever check_same_thread
        # says): nothing else runs on a connection while it is checked out of the pool.
        raw: sqlite3.Connection = self._connection._conn
        return raw.in_transaction

    def commit(self) -> None:
        if self._in_transaction():
            super().commit()  # type: ignore[no-untyped-call]

    def rollback(self) -> None:
        if self._in_transaction():
            super().rollback()  # type: ignore[no-untyped-call]


class OneTripDBAPI(AsyncAdapt_aiosqlite_dbapi):
    """The DBAPI module of the aiosqlite dialect, handing out :class:`_OneTripConnection`."""

    def connect(self, *args: Any, **kwargs: Any) -> Any:
        connection = super().connect(*args, **kwargs)  # type: ignore[no-untyped-call]
        return _OneTripConnection(self, connection._connection)  # type: ignore[no-untyped-call]


def one_trip_dbapi() -> OneTripDBAPI:
    """The module to give ``create_engine`` for ``sqlite+aiosqlite`` URLs."""
    return OneTripDBAPI(aiosqlite, sqlite3)  # type: ignore[no-untyped-call]
