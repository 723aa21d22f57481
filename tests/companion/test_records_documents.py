"""Documents of an installation: content-checked uploads on disk, downloads, deletion, attacks."""

from __future__ import annotations

import os
from pathlib import Path

import aiohttp
import pytest
from sqlalchemy import select

from companion_server.cli import main
from companion_server.core import Core
from companion_server.models import InstallationDocument
from tests.companion.helpers import BrowserFactory, PortalClient
from tests.companion.records_common import settings, two_companies

__all__ = ["settings"]

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32


async def _upload(
    client: PortalClient,
    installation_id: int,
    content: bytes,
    filename: str = "plan.pdf",
    content_type: str = "application/pdf",
    csrf: bool = True,
) -> tuple[int, str]:
    if client.csrf is None:
        await client.get(f"/installations/{installation_id}/documents")
    form = aiohttp.FormData()
    if csrf:
        form.add_field("csrf_token", client.csrf or "")
    form.add_field("file", content, filename=filename, content_type=content_type)
    page = await client.request("POST", f"/installations/{installation_id}/documents", data=form)
    if page.status == 303:
        client.csrf = None
    return page.status, page.text


def _files(core: Core) -> list[Path]:
    folder = Path(core.settings.documents_dir)
    return sorted(folder.iterdir()) if folder.exists() else []


async def _documents(core: Core) -> list[InstallationDocument]:
    async with core.tx() as db:
        return list(
            await db.scalars(select(InstallationDocument).order_by(InstallationDocument.id))
        )


async def test_upload_list_download_delete(core: Core, browsers: BrowserFactory) -> None:
    two = await two_companies(core, browsers)
    status, _ = await _upload(two.installer, two.own, PDF, filename="../../etc/Plán strún.pdf")
    assert status == 303
    [document] = await _documents(core)
    [stored] = _files(core)
    # A generated name on disk, never the client's; the list shows the name without folders.
    assert stored.name == document.stored_name and "Pl" not in stored.name
    assert document.title == "Plán strún.pdf" and document.kind == "pdf"
    page = await two.installer.get(f"/installations/{two.own}/documents")
    assert 'data-document="Plán strún.pdf"' in page.text
    async with two.admin.session.get(
        two.admin.base_url + f"/installations/{two.own}/documents/{document.id}"
    ) as response:
        assert response.status == 200 and await response.read() == PDF
        assert response.headers["Content-Type"] == "application/pdf"
        assert response.headers["Content-Disposition"].startswith("attachment;")
        assert (
            "filename*=UTF-8''Pl%C3%A1n%20str%C3%BAn.pdf" in response.headers["Content-Disposition"]
        )
        assert response.headers["X-Content-Type-Options"] == "nosniff"
    # Plain text and PNG by content, whatever their names.
    assert (
        await _upload(
            two.admin,
            two.own,
            "Reťazec 1: 12 panelov\n".encode(),
            "notes.exe",
            "application/x-msdownload",
        )
    )[0] == 303
    assert (await _upload(two.admin, two.own, PNG, "photo", "text/plain"))[0] == 303
    assert [d.kind for d in await _documents(core)] == ["pdf", "text", "png"]
    # Deleting removes the row and the file.
    for doc in await _documents(core):
        page = await two.admin.post(f"/installations/{two.own}/documents/{doc.id}/delete")
        assert page.status == 303
    assert await _documents(core) == [] and _files(core) == []


async def test_refused_uploads_leave_nothing(core: Core, browsers: BrowserFactory) -> None:
    two = await two_companies(core, browsers)
    cases = [
        (b"MZ\x90\x00\x03\x00\x00\x00" * 10, "plan.pdf", "application/pdf"),  # spoofed type
        (b"<html><script>alert(1)</script>\x00", "x.txt", "text/plain"),  # binary "text"
        (b"\xff\xfe\x00b\x00a\x00d", "x.txt", "text/plain"),  # not UTF-8
        (b"%PD", "x.pdf", "application/pdf"),  # a cut-off header
        (b"", "empty.pdf", "application/pdf"),
        (b"%PDF-" + b"0" * (64 * 1024), "big.pdf", "application/pdf"),  # over the limit
    ]
    for content, name, kind in cases:
        status, text = await _upload(two.admin, two.own, content, name, kind)
        assert status == 400, name
        assert "Only PDF, PNG, JPEG" in text or "too large" in text or "Choose a file" in text
        assert await _documents(core) == [] and _files(core) == []
    # Far over the limit: refused while streaming, the answer still arrives.
    status, text = await _upload(two.admin, two.own, b"%PDF-" + b"0" * (3 * 1024 * 1024))
    assert status == 400 and "The file is too large." in text
    assert _files(core) == []
    # French visitor: translated.
    await two.installer.post("/profile", {"name": "Fitter", "language": "fr"})
    status, text = await _upload(two.installer, two.own, b"MZ\x90\x00", "a.pdf")
    assert status == 400 and "Seuls les fichiers PDF, PNG, JPEG" in text


async def test_broken_and_forged_uploads(core: Core, browsers: BrowserFactory) -> None:
    two = await two_companies(core, browsers)
    url = two.admin.base_url + f"/installations/{two.own}/documents"
    await two.admin.get(f"/installations/{two.own}/documents")
    token = two.admin.csrf
    # No CSRF token in the stream: refused before any file is read.
    status, _ = await _upload(two.admin, two.own, PDF, csrf=False)
    assert status == 403
    # A multipart body cut off in the middle of the file.
    body = (
        f'--xx\r\nContent-Disposition: form-data; name="csrf_token"\r\n\r\n{token}\r\n'
        '--xx\r\nContent-Disposition: form-data; name="file"; filename="a.pdf"\r\n\r\n%PDF-1.4 abc'
    ).encode()
    async with two.admin.session.post(
        url, data=body, headers={"Content-Type": "multipart/form-data; boundary=xx"}
    ) as response:
        assert response.status == 400
        assert "interrupted or broken" in await response.text()
    # No boundary at all, and a form without a file.
    async with two.admin.session.post(
        url, data=b"junk", headers={"Content-Type": "multipart/form-data"}
    ) as response:
        assert response.status in (400, 403)
    page = await two.admin.post(f"/installations/{two.own}/documents", {"note": "x"})
    assert page.status == 400 and "Choose a file to upload." in page.text
    assert await _documents(core) == [] and _files(core) == []


async def test_other_companies_and_traversal(core: Core, browsers: BrowserFactory) -> None:
    two = await two_companies(core, browsers)
    assert (await _upload(two.admin, two.own, PDF))[0] == 303
    [document] = await _documents(core)
    for path in (
        f"/installations/{two.own}/documents/{document.id}",
        f"/installations/{two.other_installation}/documents/{document.id}",
    ):
        assert (await two.other.get(path)).status == 404
        assert (await two.other.post(path + "/delete")).status == 404
    assert (await two.installer.get(f"/installations/{two.unassigned}/documents")).status == 404
    assert (await _upload(two.other, two.own, PDF))[0] == 404
    for attack in (
        "..%2F..%2F..%2Fetc%2Fpasswd",
        document.stored_name,
        f"{document.id}%2F..%2F..",
        "-1",
    ):
        page = await two.admin.get(f"/installations/{two.own}/documents/{attack}")
        assert page.status == 404, attack
    assert len(await _documents(core)) == 1 and len(_files(core)) == 1


def test_backup_copies_the_documents(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    for name in [k for k in os.environ if k.startswith("COMPANION_")]:
        monkeypatch.delenv(name)
    url = f"sqlite+aiosqlite:///{tmp_path / 'portal.db'}"
    assert main(["migrate", "--database-url", url]) == 0
    documents = tmp_path / "data" / "documents"
    documents.mkdir(parents=True)
    (documents / "a1b2").write_bytes(PDF)
    (documents / "c3d4.partial").write_bytes(b"%PDF-half")
    destination = tmp_path / "backup.db"
    assert main(["backup", "--database-url", url, str(destination)]) == 0
    assert "Documents copied to" in capsys.readouterr().out
    copied = tmp_path / "backup.db.documents"
    assert sorted(p.name for p in copied.iterdir()) == ["a1b2"]
    assert (copied / "a1b2").read_bytes() == PDF
    # The documents' copy is never overwritten either.
    destination.unlink()
    assert main(["backup", "--database-url", url, str(destination)]) == 1
    assert "already exists" in capsys.readouterr().err
