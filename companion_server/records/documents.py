"""An installation's documents (string plans, certificates...): kept on disk, checked by content.

The type is read from the file's first bytes (PDF, PNG, JPEG) or from the whole content
(plain UTF-8 text), never from its name or the type the browser claims. Files are stored
under ``settings.documents_dir`` with a generated name, so nothing the client sends is
ever part of a path. An upload streams to a temporary file there and becomes a document
only when complete, within the size limit and of an accepted type; otherwise nothing stays.
"""

from __future__ import annotations

import asyncio
import codecs
from dataclasses import dataclass
from pathlib import Path
import secrets
from typing import TYPE_CHECKING
from urllib.parse import unquote

from sqlalchemy import select

from companion_server.errors import NotFound, ValidationFailed
from companion_server.i18n import N_
from companion_server.models import InstallationDocument
from companion_server.parsing import has_control_characters
from companion_server.records.services import visible

if TYPE_CHECKING:
    from collections.abc import AsyncIterator

    from companion_server.core import Core

MAGIC = (("pdf", b"%PDF-"), ("png", b"\x89PNG\r\n\x1a\n"), ("jpeg", b"\xff\xd8\xff"))
HEAD_BYTES = 8
CONTENT_TYPES = {
    "pdf": "application/pdf",
    "png": "image/png",
    "jpeg": "image/jpeg",
    "text": "text/plain; charset=utf-8",
}
EXTENSIONS = {"pdf": ".pdf", "png": ".png", "jpeg": ".jpg", "text": ".txt"}
# Text may hold tabs, line and page breaks; any other control character means binary.
TEXT_CONTROLS = frozenset(chr(c) for c in range(32)) - {"\t", "\n", "\r", "\f"} | {"\x7f"}
TYPE_ERROR = N_("Only PDF, PNG, JPEG and plain text files can be uploaded.")


@dataclass(frozen=True, slots=True)
class StoredFile:
    """A document to send back: where it is on disk and how to name it."""

    path: Path
    title: str
    content_type: str
    extension: str


def documents_dir(core: Core) -> Path:
    """The directory the documents are stored in (created when first needed)."""
    return Path(core.settings.documents_dir)


def clean_title(filename: str | None) -> str:
    """What the list shows: the client's file name without its folders, cut to 200 chars.

    Some clients send the name percent-encoded (aiohttp's); browsers send it as typed.
    """
    name = unquote(filename or "").replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(ch for ch in name if not has_control_characters(ch)).strip()
    return name[:200] or "document"


class _Sniffer:
    """Finds the kind from the first bytes, then checks that text stays text."""

    def __init__(self) -> None:
        self.head = b""
        self.kind: str | None = None
        self.decoder = codecs.getincrementaldecoder("utf-8")("strict")

    def feed(self, chunk: bytes) -> None:
        if self.kind is None and len(self.head) < HEAD_BYTES:
            self.head += chunk[: HEAD_BYTES - len(self.head)]
            for kind, magic in MAGIC:
                if self.head.startswith(magic):
                    self.kind = kind
        if self.kind is None:
            self._text(chunk, final=False)

    def _text(self, chunk: bytes, *, final: bool) -> None:
        try:
            text = self.decoder.decode(chunk, final=final)
        except UnicodeDecodeError as err:
            raise ValidationFailed({"file": TYPE_ERROR}) from err
        if not TEXT_CONTROLS.isdisjoint(text):
            raise ValidationFailed({"file": TYPE_ERROR})

    def finish(self, size: int) -> str:
        if size == 0:
            raise ValidationFailed({"file": "Choose a file to upload."})
        if self.kind is None:
            self._text(b"", final=True)
            if any(self.head.startswith(magic[: len(self.head)]) for _, magic in MAGIC):
                raise ValidationFailed({"file": TYPE_ERROR})  # a cut-off binary header
            return "text"
        return self.kind


async def _write(partial: Path, chunks: AsyncIterator[bytes], limit: int) -> tuple[str, int]:
    sniffer = _Sniffer()
    size = 0
    handle = await asyncio.to_thread(partial.open, "xb")
    try:
        async for chunk in chunks:
            size += len(chunk)
            if size > limit:
                raise ValidationFailed({"file": "The file is too large."})
            sniffer.feed(chunk)
            await asyncio.to_thread(handle.write, chunk)
    finally:
        await asyncio.to_thread(handle.close)
    return sniffer.finish(size), size


async def upload(
    core: Core,
    actor_id: int,
    installation_id: int,
    filename: str | None,
    chunks: AsyncIterator[bytes],
) -> int:
    """Store an uploaded file as a document of the installation; return its id.

    :class:`ValidationFailed` (too large, empty, refused type) leaves nothing behind.
    """
    async with core.tx() as db:
        await visible(db, actor_id, installation_id)
    folder = documents_dir(core)
    await asyncio.to_thread(folder.mkdir, parents=True, exist_ok=True)
    stored = secrets.token_hex(16)
    partial = folder / f"{stored}.partial"
    try:
        kind, size = await _write(partial, chunks, core.settings.document_max_bytes)
        async with core.tx() as db:
            _, installation = await visible(db, actor_id, installation_id)
            document = InstallationDocument(
                installation_id=installation.id,
                stored_name=stored,
                title=clean_title(filename),
                kind=kind,
                size=size,
                uploaded_by_id=actor_id,
                uploaded_at=core.now(),
            )
            db.add(document)
            await db.flush()
            document_id = document.id
        await asyncio.to_thread(partial.replace, folder / stored)
        return document_id
    finally:
        await asyncio.to_thread(partial.unlink, missing_ok=True)


async def documents_of(
    core: Core, actor_id: int, installation_id: int
) -> list[InstallationDocument]:
    """The documents of an installation the user may see, newest first."""
    async with core.tx() as db:
        _, installation = await visible(db, actor_id, installation_id)
        return list(
            await db.scalars(
                select(InstallationDocument)
                .where(InstallationDocument.installation_id == installation.id)
                .order_by(InstallationDocument.uploaded_at.desc(), InstallationDocument.id.desc())
            )
        )


async def _document(
    core: Core, actor_id: int, installation_id: int, document_id: int
) -> InstallationDocument:
    async with core.tx() as db:
        _, installation = await visible(db, actor_id, installation_id)
        document = await db.get(InstallationDocument, document_id)
        if document is None or document.installation_id != installation.id:
            raise NotFound()
        return document


async def download(core: Core, actor_id: int, installation_id: int, document_id: int) -> StoredFile:
    """The file of a document the user may see."""
    document = await _document(core, actor_id, installation_id, document_id)
    path = documents_dir(core) / document.stored_name
    if not await asyncio.to_thread(path.is_file):
        raise NotFound()
    return StoredFile(path, document.title, CONTENT_TYPES[document.kind], EXTENSIONS[document.kind])


async def delete(core: Core, actor_id: int, installation_id: int, document_id: int) -> None:
    """Remove a document and its file."""
    async with core.tx() as db:
        _, installation = await visible(db, actor_id, installation_id)
        document = await db.get(InstallationDocument, document_id)
        if document is None or document.installation_id != installation.id:
            raise NotFound()
        stored = document.stored_name
        await db.delete(document)
    await asyncio.to_thread((documents_dir(core) / stored).unlink, missing_ok=True)
