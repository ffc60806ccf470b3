"""TIDs, the record keys of app.bsky.feed.post.

13 chars of base32-sortable: 11 for the microsecond timestamp, 2 for a clock id chosen once
per process (the rule of @atproto/common-web's TID.fromTime).
"""

from __future__ import annotations

import random
import re
import threading
import time

_S32 = "234567abcdefghijklmnopqrstuvwxyz"
TID_RE = re.compile(r"^[234567abcdefghij][234567abcdefghijklmnopqrstuvwxyz]{12}$")
_CLOCK_ID = random.SystemRandom().randrange(32)
_tid_lock = threading.Lock()
_last_tid_us = 0


def _s32encode(value: int) -> str:
    out = ""
    while value:
        out = _S32[value & 31] + out
        value >>= 5
    return out


def new_tid() -> str:
    """A fresh TID (record key) for app.bsky.feed.post; strictly increasing within a process."""
    global _last_tid_us
    with _tid_lock:
        now_us = time.time_ns() // 1000
        # Monotonic even if the wall clock steps back or two calls share a microsecond.
        _last_tid_us = max(now_us, _last_tid_us + 1)
        us = _last_tid_us
    return _s32encode(us).rjust(11, "2") + _S32[_CLOCK_ID].rjust(2, "2")


def is_tid(value: str) -> bool:
    return bool(TID_RE.match(value or ""))
