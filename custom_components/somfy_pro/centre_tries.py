"""Wrong passwords given to ``cancel_alarm``: a sliding window kept in the entry's storage.

Stored with the rest of the centre's state, so restarting Home Assistant (or reloading the
entry) does not hand out five fresh guesses at the homeowner's password.
"""

from __future__ import annotations

from collections import deque
from datetime import datetime, timedelta
from typing import Any, Final

from homeassistant.util import dt as dt_util

# Past this many wrong passwords in the window, no password is checked at all.
MAX_WRONG_TRIES: Final = 5
WRONG_TRIES_WINDOW: Final = timedelta(minutes=10)


class WrongTries:
    """The times of the wrong passwords of the last window, oldest first."""

    def __init__(self) -> None:
        """No wrong try yet."""
        self._times: deque[datetime] = deque()

    def blocked(self, now: datetime) -> bool:
        """Whether the window is full at ``now`` (older tries are forgotten first)."""
        while self._times and now - self._times[0] > WRONG_TRIES_WINDOW:
            self._times.popleft()
        return len(self._times) >= MAX_WRONG_TRIES

    def add(self, now: datetime) -> None:
        """One more wrong password at ``now``."""
        self._times.append(now)

    def as_stored(self) -> list[str]:
        """The times, as the store keeps them."""
        return [moment.isoformat() for moment in self._times]

    def restore(self, stored: Any) -> None:
        """Take the stored times; anything unreadable is left out (a hand-edited file)."""
        times: list[datetime] = []
        for value in stored if isinstance(stored, list) else []:
            moment = dt_util.parse_datetime(value) if isinstance(value, str) else None
            if moment is not None and moment.tzinfo is not None:
                times.append(moment)
        self._times = deque(sorted(times)[-MAX_WRONG_TRIES:])
