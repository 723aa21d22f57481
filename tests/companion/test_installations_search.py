"""The installations list's search: the same matches whichever index serves it."""

from __future__ import annotations

from alembic import command
import pytest
from sqlalchemy import delete, func, insert, select, text, update

from companion_server.core import Core
from companion_server.installations import queue, search
from companion_server.models import Installation, Role, User
from tests.companion.helpers import make_company, make_user
from tests.companion.test_migrations import _alembic

# (name, customer e-mail, box PIN)
SITES = (
    ("Élodie Dupré", "elodie@example.com", None),
    ("Hélène Martin", "HMartin@Example.org", "1234-5678-9012"),
    ("ÅSA LUND", None, "9999-0000-1111"),
    ("Chalet 100% Solar", None, None),
    ("Under_score house", "under@score.example", None),
    ('Quote "the" villa', None, "5555-3456-7777"),
    ("Plain farm", "farm@example.com", None),
    ("O'Brien's barn \\ loft", None, None),
)
QUERIES = (
    # Case and accents: every letter's case, never the accent itself.
    "élodie",
    "ÉLODIE",
    "Élodie",
    "elodie",
    "dupré",
    "DUPRE",
    "hélène",
    "HÉLÈNE",
    "åsa",
    "ÅSA lu",
    "martin",
    "EXAMPLE.ORG",
    # Characters LIKE and FTS5 would read as syntax.
    "100%",
    "0% s",
    "_sc",
    "r_s",
    '"the"',
    'e" v',
    "*",
    "farm OR",
    # Quotes and backslashes in a pattern PostgreSQL gets written into the statement.
    "o'brien",
    "'",
    "n's b",
    "\\",
    "' OR 1=1 --",
    # PINs: digits, dashes and spaces aside.
    "34-56",
    "345678",
    "1234 5678",
    "9012",
    "3456",
    # Fewer than three characters: no trigram, the rows are read.
    "12",
    "é",
    "a",
    "e@",
    "%",
    # Nothing.
    "zzz",
    "martinez",
)


def _expected(text: str) -> list[str]:
    """What "contains" means, written out (the previous search's rule)."""
    lowered = text.lower()
    digits = "".join(c for c in text if c.isdigit())
    pin_text = len(digits) >= 3 and all(c.isdigit() or c in " -" for c in text)
    return sorted(
        name
        for name, email, pin in SITES
        if lowered in name.lower()
        or (email is not None and lowered in email.lower())
        or (pin_text and pin is not None and digits in pin.replace("-", ""))
    )


async def _found(core: Core, user: User, text: str) -> list[str]:
    page = await queue.work_queue(core, user, queue.QueueQuery(search=text, sort="name"))
    names = [row.installation.name for row in page.rows]
    assert page.counts["all"] == len(names)
    return sorted(names)


async def _setup(core: Core) -> User:
    company = await make_company(core)
    admin = await make_user(core, company, "boss@example.com", role=Role.ADMIN)
    other = await make_company(core, "Other")
    async with core.tx() as db:
        for owner in (company, other):
            for name, email, pin in SITES:
                db.add(
                    Installation(
                        company_id=owner.id,
                        name=name,
                        status="pending",
                        customer_email=email,
                        box_pin=pin,
                        created_at=core.now(),
                    )
                )
    return admin


async def test_each_query_finds_what_contains_means(
    core: Core, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The trigram index (SQLite), pg_trgm (PostgreSQL), or the rows read: one answer."""
    admin = await _setup(core)
    async with core.reads() as db:
        indexed = await search.has_index(db)
    assert indexed == (core.engine.dialect.name == "sqlite")
    for text_ in QUERIES:
        assert await _found(core, admin, text_) == _expected(text_), text_
    # Past the index's bound (every company's matches), an ASCII text reads the rows: the
    # same answer (another text still reads the index: SQLite's LIKE folds ASCII only).
    monkeypatch.setattr(search, "INDEXED_BOUND", 1)
    for text_ in ("élodie", "ÉLODIE", "example", "3456", "zzz"):
        assert await _found(core, admin, text_) == _expected(text_), text_


async def _in_index(core: Core, phrase: str) -> list[int]:
    async with core.reads() as db:
        found = await db.scalars(
            text(
                "SELECT rowid FROM installations_search WHERE installations_search MATCH :q"
            ).bindparams(q=f'"{phrase}"')
        )
        return sorted(found)


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
async def test_the_trigram_index_follows_every_write(core: Core) -> None:
    company = await make_company(core)
    admin = await make_user(core, company, "boss@example.com", role=Role.ADMIN)
    async with core.tx() as db:
        site = Installation(
            company_id=company.id, name="Moulin Rouge", status="pending", created_at=core.now()
        )
        db.add(site)
        await db.flush()
        site_id = site.id
    assert await _in_index(core, "moulin") == [site_id]
    assert await _found(core, admin, "MOULIN") == ["Moulin Rouge"]
    async with core.tx() as db:
        await db.execute(
            update(Installation)
            .where(Installation.id == site_id)
            .values(name="Grange", customer_email="Owner@Mail.example", box_pin="4321-8765-0000")
        )
    assert await _in_index(core, "moulin") == []
    assert await _found(core, admin, "moulin") == []
    assert await _found(core, admin, "grange") == ["Grange"]
    assert await _found(core, admin, "owner@") == ["Grange"]
    assert await _found(core, admin, "1876") == ["Grange"]
    # Bulk statements too (the triggers, not the portal's code, keep the index).
    async with core.tx() as db:
        await db.execute(
            insert(Installation),
            [
                {
                    "company_id": company.id,
                    "name": f"Bulk {n}",
                    "status": "pending",
                    "created_at": core.now(),
                }
                for n in range(3)
            ],
        )
    assert await _found(core, admin, "bulk") == ["Bulk 0", "Bulk 1", "Bulk 2"]
    async with core.tx() as db:
        await db.execute(delete(Installation).where(Installation.name.in_(("Grange", "Bulk 1"))))
    assert await _found(core, admin, "grange") == []
    assert await _found(core, admin, "bulk") == ["Bulk 0", "Bulk 2"]
    async with core.reads() as db:
        indexed = await db.scalar(text("SELECT count(*) FROM installations_search"))
        rows = await db.scalar(select(func.count()).select_from(Installation))
    assert indexed == rows == 2


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
async def test_the_revision_indexes_the_installations_before_it(core: Core) -> None:
    """Down to 0024, installations written, up again: the index holds them all."""
    admin = await _setup(core)
    async with core.engine.begin() as conn:
        await conn.run_sync(_alembic, command.downgrade, "0024")
    # Written as a portal of revision 0024 writes, on connections of its own.
    await core.engine.dispose()
    async with core.tx() as db:
        company_id = admin.company_id
        db.add(
            Installation(
                company_id=company_id, name="Late Arrival", status="pending", created_at=core.now()
            )
        )
    async with core.engine.begin() as conn:
        await conn.run_sync(_alembic, command.upgrade, "head")
    assert len(await _in_index(core, "late arr")) == 1
    for text_ in ("élodie", "HÉLÈNE", "arrival"):
        assert await _found(core, admin, text_) == _expected(text_) + (
            ["Late Arrival"] if text_ == "arrival" else []
        )
