"""What the sandbox does to traffic and what it remembers about it: runtime settings, the rate and
connection limits, fault injection, request statistics and the cache of rendered bodies.
"""

from __future__ import annotations

import math
import random
import re
import threading
import time
from collections import OrderedDict, defaultdict, deque
from dataclasses import asdict, dataclass, fields

FAULT_KINDS = ("500", "502", "503", "reset", "slow", "truncated", "404")
#: The kinds drawn unless told otherwise. "404" (a CDN's 404 without TMDb's code 34, as real caches
#: and edge nodes answer now and then) is asked for explicitly.
DEFAULT_FAULT_KINDS = ("500", "502", "503", "reset", "slow", "truncated")
#: What can be wrong with a daily id export (exports.py): a gzip cut short, a few lines that are not
#: movie records, an export holding only half the catalog.
EXPORT_FAULTS = ("truncated", "malformed", "small")
_TIME = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$")
_DAY = re.compile(r"^\d{4}-\d{2}-\d{2}$")
#: The settings that list names, and the names each accepts.
_LISTS_OF = {"fault_kinds": FAULT_KINDS, "export_faults": EXPORT_FAULTS}


@dataclass
class Settings:
    """Changeable while running through /_sandbox/config (GET shows, POST/PUT a JSON object sets)."""

    latency_ms: float = 0.0
    jitter_ms: float = 0.0
    max_rps: float = 0.0  # 0: unlimited
    max_connections: int = 0  # 0: unlimited (TMDb allows about 20 per IP)
    fault_rate: float = 0.0
    fault_kinds: str = ",".join(DEFAULT_FAULT_KINDS)
    slow_seconds: float = 20.0
    churn: float = 0.0
    omdb_daily_limit: int = 1000
    #: API path prefixes that are down (503, TMDb's "Service offline"), comma-separated, e.g.
    #: "/3/movie/changes" for an outage of the changes feed alone. Empty: everything answers.
    outage: str = ""
    #: The sandbox's time of day (UTC, HH:MM) on its current day; `advance` keeps it. Before
    #: `export_publish_time` today's id export is not published yet (404), as on files.tmdb.org.
    time_of_day: str = "12:00"
    export_publish_time: str = "08:00"
    #: Faults of the id exports served while set, comma-separated among EXPORT_FAULTS. Empty: none.
    export_faults: str = ""
    #: Days TMDb published no id export at all (YYYY-MM-DD, comma-separated): their files answer 404
    #: for good, as when TMDb skips a day. Empty: every day has its export.
    export_skipped_days: str = ""

    def update(self, values: dict) -> None:
        known = {f.name: f.type for f in fields(self)}
        unknown = sorted(set(values) - set(known))
        if unknown:
            raise ValueError(f"unknown setting(s): {', '.join(unknown)}; known: {', '.join(sorted(known))}")
        staged = {}
        for name, value in values.items():
            current = getattr(self, name)
            if isinstance(current, str):
                value = ",".join(value) if isinstance(value, list) else str(value)
                choices = _LISTS_OF.get(name)
                bad = [k for k in value.split(",") if k and choices and k not in choices]
                if bad:
                    raise ValueError(f"unknown {name.replace('_', ' ')} {bad}; use {', '.join(choices)}")
                if name == "outage" and any(p and not p.startswith("/") for p in value.split(",")):
                    raise ValueError("outage lists path prefixes such as /3/movie/changes")
                if name in ("time_of_day", "export_publish_time") and not _TIME.match(value):
                    raise ValueError(f"{name} is a UTC time written HH:MM, e.g. 07:30")
                if name == "export_skipped_days" and any(d and not _DAY.match(d) for d in value.split(",")):
                    raise ValueError("export_skipped_days lists days written YYYY-MM-DD, e.g. 2026-11-30")
            elif isinstance(current, int) and not isinstance(current, bool):
                value = int(value)
            else:
                value = float(value)
            if isinstance(value, (int, float)) and value < 0:
                raise ValueError(f"{name} must be 0 or more")
            staged[name] = value
        if staged.get("fault_rate", 0) > 1:
            raise ValueError("fault_rate is a fraction between 0 and 1")
        for name, value in staged.items():
            setattr(self, name, value)

    def as_dict(self) -> dict:
        return asdict(self)

    def export_published(self) -> bool:
        """Whether today's id export is out yet (HH:MM strings compare like times)."""
        return self.time_of_day >= self.export_publish_time

    def export_skipped(self, day: str) -> bool:
        """Whether TMDb published no export on `day` (YYYY-MM-DD)."""
        return day in self.export_skipped_days.split(",")

    def is_down(self, path: str) -> bool:
        """Whether `path` falls under one of the prefixes of a running outage."""
        return any(prefix and path.startswith(prefix) for prefix in self.outage.split(","))


class RateLimiter:
    """At most `max_rps` admitted requests in any sliding one-second window."""

    def __init__(self):
        self._lock = threading.Lock()
        self._admitted: deque[float] = deque()

    def admit(self, max_rps: float) -> int | None:
        """None if admitted, else the Retry-After seconds to send with the 429."""
        now = time.monotonic()
        with self._lock:
            window = self._admitted
            while window and now - window[0] >= 1.0:
                window.popleft()
            if max_rps > 0 and len(window) >= max_rps:
                return max(1, math.ceil(1.0 - (now - window[0])))
            window.append(now)
            return None


class FaultPlan:
    """Chooses which requests fail and how. Deterministic for a seed and a request sequence."""

    def __init__(self, seed: int):
        self._rng = random.Random(seed * 1_000_003 + 0xFA17)
        self._lock = threading.Lock()

    def draw(self, rate: float, kinds: str) -> tuple[str | None, float]:
        """(fault kind or None, a second uniform draw used for jitter/truncation points)."""
        allowed = [k for k in kinds.split(",") if k in FAULT_KINDS]
        with self._lock:
            hit = self._rng.random() < rate
            kind = self._rng.choice(allowed) if hit and allowed else None
            return kind, self._rng.random()


class Stats:
    """Counters behind /_sandbox/stats. Only /3 and /omdb requests count toward per-second peaks."""

    def __init__(self):
        self._lock = threading.Lock()
        self.connections = 0
        self.max_connections = 0
        self.reset()

    def reset(self) -> None:
        """Zero the counters; the connection peak restarts from the connections open now."""
        with self._lock:
            self.total = 0
            self.by_endpoint: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
            self.rate_limited = 0
            self.connection_refused = 0
            self.faults: dict[str, int] = defaultdict(int)
            self._second = 0
            self._second_count = 0
            self.max_requests_per_second = 0
            self.api_requests = 0
            self.max_connections = self.connections

    def arrival(self) -> None:
        """An API request arrived (counted before limits, so the peak is what the client sent)."""
        second = int(time.time())
        with self._lock:
            self.api_requests += 1
            if second != self._second:
                self._second, self._second_count = second, 0
            self._second_count += 1
            if self._second_count > self.max_requests_per_second:
                self.max_requests_per_second = self._second_count

    def record(self, label: str, status: int | str) -> None:
        with self._lock:
            self.total += 1
            self.by_endpoint[label][str(status)] += 1
            if status == 429:
                self.rate_limited += 1

    def refused(self) -> None:
        with self._lock:
            self.connection_refused += 1

    def fault(self, kind: str) -> None:
        with self._lock:
            self.faults[kind] += 1

    def connection_opened(self) -> int:
        with self._lock:
            self.connections += 1
            self.max_connections = max(self.max_connections, self.connections)
            return self.connections

    def connection_closed(self) -> None:
        with self._lock:
            self.connections -= 1

    def snapshot(self) -> dict:
        with self._lock:
            return {
                "total_requests": self.total,
                "api_requests": self.api_requests,
                "requests": {label: dict(statuses) for label, statuses in sorted(self.by_endpoint.items())},
                "rate_limited": self.rate_limited,
                "connections_refused": self.connection_refused,
                "faults": dict(self.faults),
                "max_requests_per_second": self.max_requests_per_second,
                "max_concurrent_connections": self.max_connections,
                "open_connections": self.connections,
            }


class BodyCache:
    """LRU of rendered bodies under a byte budget (keyed by id, catalog state and appends)."""

    def __init__(self, max_bytes: int = 256 * 1024 * 1024):
        self._lock = threading.Lock()
        self._items: OrderedDict = OrderedDict()
        self._bytes = 0
        self.max_bytes = max_bytes

    def get(self, key):
        with self._lock:
            body = self._items.get(key)
            if body is not None:
                self._items.move_to_end(key)
            return body

    def put(self, key, body: bytes) -> None:
        with self._lock:
            if key in self._items:
                return
            self._items[key] = body
            self._bytes += len(body)
            while self._bytes > self.max_bytes and self._items:
                _, old = self._items.popitem(last=False)
                self._bytes -= len(old)
