"""Where invoice files live: beside the installations' documents, under generated names.

Invoices go to ``invoices/`` inside ``settings.documents_dir``, so the backup that copies the
documents folder copies them too.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from pathlib import Path
import secrets
from typing import TYPE_CHECKING

from companion_server.invoicing.pdf import Fonts

if TYPE_CHECKING:
    from companion_server.core import Core


@dataclass(frozen=True, slots=True)
class InvoiceStore:
    """The folder of the invoice files and the fonts they are printed with."""

    folder: Path
    fonts: Fonts

    def path(self, stored_name: str) -> Path:
        """The file of an invoice."""
        return self.folder / f"{stored_name}.pdf"

    async def write(self, stored_name: str, data: bytes) -> None:
        """Write an invoice's file (complete or not at all: renamed once written).

        Two first downloads may render the same missing file at once: each writes its own
        partial file, and the same content lands under the name.
        """
        await asyncio.to_thread(self._write, stored_name, data)

    def _write(self, stored_name: str, data: bytes) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        partial = self.folder / f"{stored_name}.{secrets.token_hex(4)}.partial"
        partial.write_bytes(data)
        partial.replace(self.path(stored_name))


def store_of(core: Core) -> InvoiceStore:
    """The store the portal's settings name."""
    fonts = Path(core.settings.invoice_font_dir)
    return InvoiceStore(
        Path(core.settings.documents_dir) / "invoices",
        Fonts(fonts / "DejaVuSans.ttf", fonts / "DejaVuSans-Bold.ttf"),
    )
