"""How many Home Assistant handshakes one portal process takes on at once, and when to retry.

After a portal restart every linked Home Assistant comes back within a second or two. Taken
all at once, their handshakes (token check, ``hello``, ``welcome``, first snapshot) queue for
the database pool until its wait bound fails them, and they come back again: a storm that
feeds itself. Instead the channel admits at most ``in_flight`` handshakes at a time and at
most ``rate`` new connections a second; the others are answered ``503`` before the upgrade
(no database work at all) with a ``Retry-After`` that books each of them its own future
second, so the refused connections come back spread at the rate the process can take.

That rate is the one the process can take, not the configured one. Booked at the configured
rate, a storm larger than the process can take would come back too early, be refused again
and again, and spend on refusals what welcomes need. It is the greater of two measures:
``in_flight`` handshakes at a time, each lasting what the recent ones lasted (Little's law),
which is not bounded by how fast the refused ones were told to come; and the welcomes of the
last ten seconds, which, while handshakes wait, is what the process does take, and is then
the pace alone. Durations alone swing with a few slow handshakes (a 2 s one among 80 ms ones
quarters the pace), and a refusal booked at such a moment's pace goes a minute out; in a
storm they also said 40 % more than the process took, and the refused booked by them came
back to a full line.

A refused connection is booked after the line and after every refused connection still to
come back, at the pace of the moment: a slot depends on who is still ahead, so a slot booked
far out by a pessimistic moment does not push every later one out too.

A refusal is not free either (a request taken and answered, then the same again later): a
handshake over the budget first waits in line for a place, as long as the line ahead of it
takes at most ``queue_seconds`` at that pace, and is refused only beyond. The first moments
of a storm fill the line; the refused come back at their booked seconds and find it short.
"""

from __future__ import annotations

import asyncio
from collections import deque
import heapq
import math
import time
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Callable

# A refused connection is never asked to wait longer than this.
MAX_RETRY_AFTER = 120
# Weight of the newest handshake in the running mean of their durations.
SMOOTHING = 0.1
# Booking never assumes fewer handshakes a second than this: a moment's stall (a slow
# transaction) would otherwise send everyone away for the longest wait.
MIN_PACE = 20.0
# The welcomes counted for the pace: the last this many seconds. Refusals are booked tens of
# seconds out, so the pace they are booked at must not follow a moment's dip.
WINDOW = 10.0
# Welcomes counted for less than this say too little to be the pace alone.
COUNTED_ENOUGH = 2.0
# A welcome this long after the one before starts the count afresh: what came before (the
# first handshake of a cold start, seconds long, while a storm's homes are still in their
# TLS handshakes with the proxy) says nothing of the storm.
GAP = 2.0


class Admission:
    """The accept budget of the channel: handshakes in flight and new connections a second."""

    def __init__(
        self,
        in_flight: int,
        rate: float,
        clock: Callable[[], float] = time.monotonic,
        queue_seconds: float = 0.0,
    ) -> None:
        """At most ``in_flight`` handshakes at once, ``rate`` new connections a second.

        ``queue_seconds``: how long a line of waiting handshakes may take (0: none waits).
        """
        self.in_flight = in_flight
        self.rate = rate
        self.queue_seconds = queue_seconds
        self._line: deque[asyncio.Future[None]] = deque()  # waiting for a place, in order
        self._clock = clock
        self.handshakes = 0  # admitted, not yet welcomed nor gone
        self.refused = 0  # since the process started
        self._burst = max(1.0, rate)  # a second's worth of new connections at once
        self._tokens = self._burst
        self._filled_at = clock()
        self._booked: list[float] = []  # slots of refused connections still to come (heap)
        self._duration: float | None = None  # running mean, admitted -> welcomed (seconds)
        self._welcomes: deque[float] = deque()  # when, over the last WINDOW seconds

    @property
    def waiting(self) -> int:
        """Handshakes waiting in line for a place."""
        return len(self._line)

    def admit(self) -> int | None:
        """Take on a handshake (None), or the seconds the caller should wait before retrying.

        An admitted handshake must be :meth:`release`-d once, when it is welcomed or gone.
        """
        if self._take():
            return None
        return self._refuse()

    async def enter(self) -> int | None:
        """:meth:`admit`, waiting in line for a place while the line is short enough."""
        if self._take():
            return None
        if self.waiting >= self.pace() * self.queue_seconds:
            return self._refuse()
        place: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._line.append(place)
        try:
            # Bounded: places held by handshakes that never finish would keep it forever.
            await asyncio.wait_for(asyncio.shield(place), 2 * self.queue_seconds)
        except TimeoutError:
            if not place.done():
                self._line.remove(place)
                place.cancel()
                return self._refuse()
        except asyncio.CancelledError:
            if place.done() and not place.cancelled():
                self.release()  # handed a place as it went: the next one takes it
            elif place in self._line:
                self._line.remove(place)
                place.cancel()
            raise
        return None

    def _take(self) -> bool:
        now = self._clock()
        self._tokens = min(self._burst, self._tokens + (now - self._filled_at) * self.rate)
        self._filled_at = now
        if self.handshakes < self.in_flight and self._tokens >= 1 and not self._line:
            self._tokens -= 1
            self.handshakes += 1
            return True
        return False

    def _refuse(self) -> int:
        now = self._clock()
        self.refused += 1
        pace = self.pace()
        booked = self._booked
        while booked and booked[0] <= now:
            heapq.heappop(booked)
        # Its slot comes after the line ahead and the refused still to come back.
        wait = min(MAX_RETRY_AFTER, (len(self._line) + len(booked) + 1) / pace)
        heapq.heappush(booked, now + wait)
        return max(1, math.ceil(wait))

    def pace(self) -> float:
        """Handshakes a second the process can take (never more than the configured rate).

        While handshakes wait in line, the welcomes of the last :data:`WINDOW` seconds
        (counted for :data:`COUNTED_ENOUGH` seconds at least); otherwise the greater of
        those and ``in_flight`` over their mean duration; the configured rate while nothing
        was welcomed for :data:`GAP` seconds.
        """
        now = self._clock()
        counted = self._forget_welcomes(now)
        if not self._duration or not counted or now - self._welcomes[-1] > GAP:
            # Nothing welcomed lately: what an earlier handshake lasted (a cold start's
            # first, seconds long) says nothing of now, and a storm's would be booked minutes
            # out by it.
            return self.rate
        # Counted over the window, or since the oldest welcome in it when that is shorter
        # (the first seconds of a storm) but not so short that a handful says thousands.
        span = min(WINDOW, max(0.5, now - self._welcomes[0]))
        seen = counted / span
        if self._line and span >= COUNTED_ENOUGH:
            return min(self.rate, max(MIN_PACE, seen))
        return min(self.rate, max(MIN_PACE, self.in_flight / self._duration, seen))

    def now(self) -> float:
        """The admission's clock (a handshake's start, for :meth:`release`)."""
        return self._clock()

    def release(self, *, admitted_at: float | None = None) -> None:
        """One admitted handshake is over: welcomed (admitted at ``admitted_at``) or gone.

        Its place goes to the first handshake waiting in line, if any.
        """
        while self._line:
            place = self._line.popleft()
            if not place.done():
                place.set_result(None)
                break
        else:
            self.handshakes = max(0, self.handshakes - 1)
        if admitted_at is not None:
            now = self._clock()
            self._forget_welcomes(now)
            if self._welcomes and now - self._welcomes[-1] > GAP:
                self._welcomes.clear()
            if not self._welcomes:
                self._duration = None  # the first welcome after a pause: counted afresh
            self._welcomes.append(now)
            lasted = max(0.0, now - admitted_at)
            if self._duration is None:
                self._duration = lasted
            else:
                self._duration += SMOOTHING * (lasted - self._duration)

    def _forget_welcomes(self, now: float) -> int:
        """Drop the welcomes older than :data:`WINDOW`; how many are left."""
        welcomes = self._welcomes
        while welcomes and welcomes[0] <= now - WINDOW:
            welcomes.popleft()
        return len(welcomes)
