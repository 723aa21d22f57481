"""A TCP proxy between Home Assistant and the portal that cuts the line in mid-frame.

It reads the WebSocket frames going through (masked from HA, plain from the portal); armed
with :meth:`CuttingProxy.cut`, it forwards only the first half of the first frame whose text
contains a marker, then closes both sides: the receiver gets a truncated frame, as when a
mobile line or a NAT drops a connection.
"""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass, field

UPSTREAM = "to portal"
DOWNSTREAM = "to Home Assistant"


def frame_length(data: bytes) -> int | None:
    """Length of the complete WebSocket frame at the start of ``data``, or None if partial."""
    if len(data) < 2:
        return None
    length, offset = data[1] & 0x7F, 2
    if length == 126:
        if len(data) < 4:
            return None
        length, offset = int.from_bytes(data[2:4]), 4
    elif length == 127:
        if len(data) < 10:
            return None
        length, offset = int.from_bytes(data[2:10]), 10
    if data[1] & 0x80:
        offset += 4
    return offset + length if len(data) >= offset + length else None


def frame_text(frame: bytes) -> bytes:
    """The (unmasked) payload of one complete frame."""
    length, offset = frame[1] & 0x7F, 2
    offset += {126: 2, 127: 8}.get(length, 0)
    if not frame[1] & 0x80:
        return frame[offset:]
    mask, payload = frame[offset : offset + 4], frame[offset + 4 :]
    return bytes(b ^ mask[i % 4] for i, b in enumerate(payload))


@dataclass
class CuttingProxy:
    """Forward 127.0.0.1:``port`` to the portal on ``target_port``; cut on demand.

    ``frames`` holds the text of every frame forwarded whole, ``cuts`` of those cut.
    """

    target_port: int
    port: int = 0
    cuts: list[tuple[str, bytes]] = field(default_factory=list)
    frames: list[tuple[str, bytes]] = field(default_factory=list)
    _armed: dict[str, bytes] = field(default_factory=dict)
    _server: asyncio.Server | None = None
    _tasks: set[asyncio.Task[None]] = field(default_factory=set)
    _writers: list[asyncio.StreamWriter] = field(default_factory=list)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._accept, "127.0.0.1", self.port)
        self.port = self._server.sockets[0].getsockname()[1]

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            for writer in self._writers:
                writer.close()
            for task in self._tasks:
                task.cancel()
            await asyncio.gather(*self._tasks, return_exceptions=True)
            await self._server.wait_closed()

    def cut(self, direction: str, marker: bytes) -> None:
        """Cut the next frame going ``direction`` whose text contains ``marker``."""
        self._armed[direction] = marker

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        target_reader, target_writer = await asyncio.open_connection("127.0.0.1", self.target_port)
        writers = (writer, target_writer)
        self._writers.extend(writers)
        pumps = [
            asyncio.create_task(self._pump(reader, target_writer, UPSTREAM, writers)),
            asyncio.create_task(self._pump(target_reader, writer, DOWNSTREAM, writers)),
        ]
        self._tasks.update(pumps)
        for pump in pumps:
            pump.add_done_callback(self._tasks.discard)

    async def _pump(
        self,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
        direction: str,
        writers: tuple[asyncio.StreamWriter, ...],
    ) -> None:
        """Copy bytes; once past the HTTP upgrade, frame by frame so that one can be cut."""
        buffer, upgraded = b"", False
        with contextlib.suppress(ConnectionError):
            while data := await reader.read(65536):
                buffer += data
                if not upgraded:
                    head, sep, rest = buffer.partition(b"\r\n\r\n")
                    if not sep or b"websocket" not in head.lower():
                        writer.write(buffer)
                        buffer = b""
                        continue
                    writer.write(head + sep)
                    buffer, upgraded = rest, True
                while (size := frame_length(buffer)) is not None:
                    frame, buffer = buffer[:size], buffer[size:]
                    text = frame_text(frame)
                    marker = self._armed.get(direction)
                    if marker is not None and marker in text:
                        del self._armed[direction]
                        self.cuts.append((direction, text))
                        writer.write(frame[: size // 2])
                        await writer.drain()
                        for each in writers:
                            each.close()
                        return
                    self.frames.append((direction, text))
                    writer.write(frame)
                await writer.drain()
        for each in writers:
            each.close()
