"""How many Home Assistant handshakes one portal process takes on at once, and when to retry.

After a portal restart every linked Home Assistant comes back within a second or two. Taken
all at once, their handshakes (token check, ``hello``, ``welcome``, first snapshot) queue for
the database pool until its wait bound fails them, and they come back again: a storm that
feeds itself. Instead the channel admits at most ``in_flight`` handshakes at a time and at
most ``rate`` new connections a second; the others are answered ``503`` before the upgrade
(no database work at all) with a ``Retry-After`` that books each of them its own future
second, so the refused connections come back spread at the rate the process can take.
"""

from __future__ import annotations

import math
import time
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Callable

# A refused connection is never asked to wait longer than this.
MAX_RETRY_AFTER = 120


class Admission:
    """The accept budget of the channel: handshakes in flight and new connections a second."""

    def __init__(
        self, in_flight: int, rate: float, clock: Callable[[], float] = time.monotonic
    ) -> None:
        """At most ``in_flight`` handshakes at once, ``rate`` new connections a second."""
        self.in_flight = in_flight
        self.rate = rate
        self._clock = clock
        self.handshakes = 0  # admitted, not yet welcomed nor gone
        self.refused = 0  # since the process started
        self._burst = max(1.0, rate)  # a second's worth of new connections at once
        self._tokens = self._burst
        self._filled_at = clock()
        self._next_slot = 0.0  # the last second booked for a refused connection

    def admit(self) -> int | None:
        """Take on a handshake (None), or the seconds the caller should wait before retrying.

        An admitted handshake must be :meth:`release`-d once, when it is welcomed or gone.
        """
        now = self._clock()
        self._tokens = min(self._burst, self._tokens + (now - self._filled_at) * self.rate)
        self._filled_at = now
        if self.handshakes < self.in_flight and self._tokens >= 1:
            self._tokens -= 1
            self.handshakes += 1
            return None
        self.refused += 1
        self._next_slot = max(now, self._next_slot) + 1 / self.rate
        return min(MAX_RETRY_AFTER, max(1, math.ceil(self._next_slot - now)))

    def release(self) -> None:
        """One admitted handshake is over (welcomed, refused or gone)."""
        self.handshakes = max(0, self.handshakes - 1)
