"""The invoice fonts: registered once, whole, however many renders start at once."""

from __future__ import annotations

from pathlib import Path
import threading
from types import TracebackType
from typing import Any

import pytest
from reportlab.pdfbase import pdfmetrics

from companion_server.invoicing import pdf
from companion_server.settings import Settings

FONT_DIR = Path(Settings(database_url="sqlite+aiosqlite://").invoice_font_dir)
FONTS = pdf.Fonts(FONT_DIR / "DejaVuSans.ttf", FONT_DIR / "DejaVuSans-Bold.ttf")


class _Watched:
    """The registration lock, telling when the second renderer comes to it."""

    def __init__(self, lock: threading.Lock, second: threading.Event) -> None:
        self.lock = lock
        self.second = second
        self.first: int | None = None

    def __enter__(self) -> None:
        if self.first is None:
            self.first = threading.get_ident()
        else:
            self.second.set()
        self.lock.acquire()

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.lock.release()


def test_a_render_starting_while_another_registers_waits_for_both_fonts(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # ReportLab's registry as in a fresh process: nothing of ours registered yet.
    ours = (pdf.REGULAR, pdf.BOLD)
    monkeypatch.setattr(
        pdfmetrics, "_fonts", {k: v for k, v in pdfmetrics._fonts.items() if k not in ours}
    )
    monkeypatch.setattr(pdfmetrics, "_dynFaceNames", {})
    # The second renderer arrives (its thread has reached the registration, or passed it)
    # just between the first's regular and bold fonts.
    arrived = threading.Event()
    # (raising=False: without the lock, the test still runs and shows the race.)
    monkeypatch.setattr(pdf, "_REGISTERING", _Watched(threading.Lock(), arrived), raising=False)
    seen: list[bool] = []

    def second() -> None:
        pdf.register(FONTS)
        seen.append(pdf.BOLD in pdfmetrics.getRegisteredFontNames())
        arrived.set()

    real_font = pdf.TTFont
    started: list[threading.Thread] = []

    def font(name: str, path: str, **kwargs: Any) -> Any:
        if name == pdf.BOLD:
            started.append(threading.Thread(target=second))
            started[0].start()
            assert arrived.wait(60), "the second renderer never came to the fonts"
        return real_font(name, path, **kwargs)

    monkeypatch.setattr(pdf, "TTFont", font)
    pdf.register(FONTS)
    started[0].join()
    assert seen == [True]
    assert pdfmetrics.getFont(pdf.BOLD).fontName == pdf.BOLD
