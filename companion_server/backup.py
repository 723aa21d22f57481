"""Online backup of the portal's database, while the portal keeps serving.

SQLite is copied with its online backup API in a single step: the copy reads one consistent
snapshot and, in WAL mode, the portal goes on reading and writing meanwhile (a copy in
several steps would restart at every write of the portal and might never end). PostgreSQL
is dumped with ``pg_dump``, which the operator runs: this module only says how. The
installations' documents (files under ``documents_dir``) are copied beside the backup, into
``DEST.documents/``, after the database: every document the copy lists is there.
"""

from __future__ import annotations

from pathlib import Path
import shlex
import shutil
import sqlite3

from sqlalchemy.engine import make_url


class BackupError(Exception):
    """The backup could not be written; nothing was left at the destination."""


def sqlite_file(database_url: str) -> Path | None:
    """The file of an SQLite database URL (None for PostgreSQL)."""
    url = make_url(database_url)
    if url.get_backend_name() != "sqlite":
        return None
    if not url.database or url.database == ":memory:":
        raise BackupError("an in-memory database cannot be backed up")
    return Path(url.database)


def backup_sqlite(source: Path, destination: Path, busy_seconds: float) -> int:
    """Copy ``source`` to ``destination`` (a new, self-contained file); return its size."""
    if not source.is_file():
        raise BackupError(f"no database at {source}")
    if destination.exists():
        raise BackupError(f"{destination} already exists")
    partial = destination.with_name(destination.name + ".partial")
    partial.unlink(missing_ok=True)
    src = sqlite3.connect(source)
    try:
        src.execute(f"PRAGMA busy_timeout={max(1, int(busy_seconds * 1000))}")
        dst = sqlite3.connect(partial)
        try:
            src.backup(dst)
            # One file, no -wal beside it: the copy can be moved and opened anywhere.
            dst.execute("PRAGMA journal_mode=DELETE")
            (verdict,) = dst.execute("PRAGMA quick_check").fetchone()
        finally:
            dst.close()
    except sqlite3.Error as err:
        partial.unlink(missing_ok=True)
        raise BackupError(f"the copy failed: {err}") from err
    finally:
        src.close()
    if verdict != "ok":
        partial.unlink(missing_ok=True)
        raise BackupError(f"the copy is damaged: {verdict}")
    partial.replace(destination)
    return destination.stat().st_size


def pg_dump_command(database_url: str, destination: Path) -> str:
    """The ``pg_dump`` command that backs up a PostgreSQL database (password left out)."""
    url = make_url(database_url)
    args = ["pg_dump", "--format=custom", f"--file={destination}"]
    if url.host:
        args.append(f"--host={url.host}")
    if url.port:
        args.append(f"--port={url.port}")
    if url.username:
        args.append(f"--username={url.username}")
    args.append(url.database or "postgres")
    return " ".join(shlex.quote(arg) for arg in args)


def backup_documents(source: Path, destination: Path) -> int:
    """Copy the documents folder to ``destination.documents``; return how many files."""
    if not source.is_dir():
        return 0
    target = destination.with_name(destination.name + ".documents")
    if target.exists():
        raise BackupError(f"{target} already exists")
    partial = target.with_name(target.name + ".partial")
    shutil.rmtree(partial, ignore_errors=True)
    try:
        # Uploads still streaming (``*.partial``) are not documents yet.
        shutil.copytree(source, partial, ignore=shutil.ignore_patterns("*.partial"))
    except OSError as err:
        shutil.rmtree(partial, ignore_errors=True)
        raise BackupError(f"the documents could not be copied: {err}") from err
    partial.replace(target)
    return sum(1 for path in target.iterdir() if path.is_file())
