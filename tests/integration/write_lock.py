"""Another process's writer holding the portal's SQLite write lock (``BEGIN IMMEDIATE``)."""

from __future__ import annotations

from pathlib import Path
import sqlite3


class WriteLock:
    """Taken on entering (or later with :meth:`take`), held until :meth:`release` or the exit."""

    def __init__(self, path: Path, *, now: bool = True) -> None:
        self.connection = sqlite3.connect(path, isolation_level=None, timeout=30)
        self.now = now
        self.held = False

    def take(self) -> None:
        if not self.held:
            self.connection.execute("BEGIN IMMEDIATE")
            self.held = True

    def release(self) -> None:
        if self.held:
            self.connection.execute("ROLLBACK")
            self.held = False

    def __enter__(self) -> WriteLock:
        if self.now:
            self.take()
        return self

    def __exit__(self, *_: object) -> None:
        self.release()
        self.connection.close()
