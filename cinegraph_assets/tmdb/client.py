"""HTTP client for TMDb API v3: auth, one shared rate limit, retries, redaction, request statistics.

Plain Python (no Dagster). Works against the real https://api.themoviedb.org/3 and the sandbox
unchanged.

What it promises:
- Every attempt first takes a slot from the instance-wide rate limiter (see ratelimit.py).
- 429: waits as Retry-After says (else backs off) and pauses the whole instance's limiter for as long,
  so concurrent workers and runs do not keep hammering a service that said "slow down".
- 5xx, connection resets, timeouts and truncated/invalid JSON bodies: retried with jittered
  exponential backoff, at most ``max_retries`` times (TMDB_MAX_RETRIES).
- 401 (invalid key, code 7): raises TMDbAuthError at once, no retries, naming TMDB_API_KEY /
  TMDB_ACCESS_TOKEN.
- 404 with TMDb's code 34: returned as a NotFound value, not raised: a deleted movie is a fact, not
  a failure. A 404 without code 34 (a cache or edge node's HTML page) says nothing about the movie:
  it is retried like a 5xx and, if it persists, raised as a transient failure ("http_404").
- Secrets never leave this module: requests puts the api_key into URLs and exception texts, so every
  message that escapes is redacted, and no exception chains to a requests exception.
"""

from __future__ import annotations

import email.utils
import json
import logging
import re
import threading
import time
from dataclasses import dataclass, field
from typing import Any, Callable, Mapping
from urllib.parse import urlsplit

import requests
from tenacity import (
    RetryCallState,
    Retrying,
    retry_if_exception_type,
    stop_after_attempt,
    wait_random_exponential,
)

from cinegraph_assets.tmdb.ratelimit import RateLimiter, UnlimitedRateLimiter

logger = logging.getLogger(__name__)

DEFAULT_BASE_URL = "https://api.themoviedb.org/3"
#: Env vars a user fixes when TMDb rejects the credentials (named in every auth error).
CREDENTIAL_SETTINGS = "TMDB_API_KEY or TMDB_ACCESS_TOKEN"
#: Env var a user fixes when TMDb cannot be reached at all (named when every attempt failed to connect).
BASE_URL_SETTING = "TMDB_BASE_URL"
#: Longest Retry-After we honour; a longer one is treated as this (a run should not hang for hours).
MAX_RETRY_AFTER_SECONDS = 120.0
#: TMDb status codes meaning "your credentials are not accepted" (7 invalid key, 10 suspended,
#: 3/14 authentication failed). Retrying these only burns requests.
AUTH_STATUS_CODES = {3, 7, 10, 14}
#: TMDb's own "The resource you requested could not be found." Only this 404 means "no such movie".
NOT_FOUND_CODE = 34
#: Largest body accepted. Real details with all 11 appends are 10-300 KB (the biggest blockbusters
#: about 1 MB); a body past this is broken, would bloat the staging table and the memory of every
#: worker, so the movie is recorded as failed ("response_too_large") instead of stored.
MAX_RESPONSE_BYTES = 4 * 1024 * 1024

_API_KEY_IN_URL = re.compile(r"(?i)(api_?key=)[^&\s'\"#]+")
_BEARER = re.compile(r"(?i)(bearer\s+)[A-Za-z0-9._\-~+/=]+")


class TMDbError(Exception):
    """A TMDb request failed; the message is already redacted."""

    def __init__(self, message: str, *, status: int | None = None, code: int | None = None,
                 reason: str = "error"):
        super().__init__(message)
        self.status = status
        self.code = code
        #: short machine-readable reason recorded with a failed movie (http_500, timeout, ...)
        self.reason = reason


class TMDbAuthError(TMDbError):
    """TMDb rejected the credentials: stop everything, retrying cannot help."""


class TMDbTransientError(TMDbError):
    """A failure worth retrying (5xx, reset, timeout, truncated body, 429)."""

    def __init__(self, message: str, *, retry_after: float | None = None, **kwargs: Any):
        super().__init__(message, **kwargs)
        self.retry_after = retry_after
        #: what went wrong with the connection, in words (reason "connection" only)
        self.problem = "connection failed"


class TMDbRequestError(TMDbError):
    """TMDb refused the request itself (4xx other than 401/404/429): retrying cannot help."""


@dataclass(frozen=True)
class NotFound:
    """TMDb answered 404 with code 34: the resource does not exist (a deleted movie)."""

    path: str
    status_code: int | None = None
    status_message: str = ""


class Redactor:
    """Removes credentials from any text: api_key query values, bearer tokens and the exact secrets."""

    def __init__(self, secrets: list[str | None] | None = None):
        self._secrets = sorted({s for s in (secrets or []) if s}, key=len, reverse=True)

    def __call__(self, text: Any) -> str:
        text = str(text)
        text = _API_KEY_IN_URL.sub(r"\1***", text)
        text = _BEARER.sub(r"\1***", text)
        for secret in self._secrets:
            text = text.replace(secret, "***")
        return text


class _RedactingFilter(logging.Filter):
    """urllib3 logs full request lines (with ?api_key=) at DEBUG; scrub them if anyone enables it."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # pragma: no cover - a broken log call is not ours to fix
            return True
        redacted = Redactor()(message)
        if redacted != message:
            record.msg, record.args = redacted, None
        return True


_filter_installed = False


def _install_log_redaction() -> None:
    global _filter_installed
    if not _filter_installed:
        for name in ("urllib3", "urllib3.connectionpool", "requests"):
            logging.getLogger(name).addFilter(_RedactingFilter())
        _filter_installed = True


class RequestStats:
    """Counters of one client's traffic, shared by its worker threads (for asset metadata)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.requests = 0  # attempts actually sent (each one used a rate-limit slot)
        self.http_429 = 0
        self.retries = 0
        self.not_found = 0
        self.failures_by_reason: dict[str, int] = {}
        self.retries_by_reason: dict[str, int] = {}
        self.rate_limit_wait_s = 0.0
        self._latencies_ms: list[float] = []
        self.started_at = time.monotonic()

    def record_attempt(self, latency_ms: float | None, status: int | None) -> None:
        with self._lock:
            self.requests += 1
            if latency_ms is not None:
                self._latencies_ms.append(latency_ms)
            if status == 429:
                self.http_429 += 1

    def record_retry(self, reason: str) -> None:
        with self._lock:
            self.retries += 1
            self.retries_by_reason[reason] = self.retries_by_reason.get(reason, 0) + 1

    def record_failure(self, reason: str) -> None:
        with self._lock:
            self.failures_by_reason[reason] = self.failures_by_reason.get(reason, 0) + 1

    def record_wait(self, seconds: float) -> None:
        with self._lock:
            self.rate_limit_wait_s += seconds

    def latency_percentile(self, pct: float) -> float | None:
        with self._lock:
            values = sorted(self._latencies_ms)
        if not values:
            return None
        index = min(len(values) - 1, max(0, round(pct / 100 * (len(values) - 1))))
        return values[index]

    def as_metadata(self) -> dict[str, float | int]:
        """Numbers for the Dagster UI (plain ints/floats; no URLs, no secrets)."""
        elapsed = max(1e-9, time.monotonic() - self.started_at)
        p50, p95 = self.latency_percentile(50), self.latency_percentile(95)
        with self._lock:
            retries_by_reason = dict(self.retries_by_reason)
        return {
            "requests": self.requests,
            "http_429": self.http_429,
            "retries": self.retries,
            "latency_p50_ms": round(p50, 1) if p50 is not None else 0.0,
            "latency_p95_ms": round(p95, 1) if p95 is not None else 0.0,
            "requests_per_s": round(self.requests / elapsed, 2),
            **{f"retries_{reason}": n for reason, n in sorted(retries_by_reason.items())},
        }


@dataclass
class TMDbClient:
    """A thread-safe TMDb client. Each thread gets its own requests.Session (connection reuse
    without sharing a Session across threads, which requests does not promise to support)."""

    base_url: str = DEFAULT_BASE_URL
    api_key: str | None = field(default=None, repr=False)
    access_token: str | None = field(default=None, repr=False)
    rate_limiter: RateLimiter = field(default_factory=UnlimitedRateLimiter)
    timeout_seconds: float = 15.0
    max_retries: int = 6
    max_response_bytes: int = MAX_RESPONSE_BYTES
    #: first backoff step and cap, in seconds (exponential with full jitter between them)
    backoff_initial_seconds: float = 0.5
    backoff_max_seconds: float = 30.0
    stats: RequestStats = field(default_factory=RequestStats)
    #: sleep function (tests may speed up waits)
    sleep: Callable[[float], None] = field(default=time.sleep, repr=False)

    def __post_init__(self) -> None:
        self.base_url = self.base_url.rstrip("/")
        self.redact = Redactor([self.api_key, self.access_token])
        self._local = threading.local()
        self._sessions: list[requests.Session] = []
        self._sessions_lock = threading.Lock()
        _install_log_redaction()

    # -- sessions -------------------------------------------------------------------------------

    def session(self) -> requests.Session:
        """This thread's Session, created on first use."""
        session = getattr(self._local, "session", None)
        if session is None:
            session = requests.Session()
            session.headers["Accept"] = "application/json"
            session.headers["User-Agent"] = "cinegraph-assets/0.1 (+requests)"
            if self.access_token:
                session.headers["Authorization"] = f"Bearer {self.access_token}"
            self._local.session = session
            with self._sessions_lock:
                self._sessions.append(session)
        return session

    def close(self) -> None:
        with self._sessions_lock:
            for session in self._sessions:
                session.close()
            self._sessions.clear()
        self._local = threading.local()

    def __enter__(self) -> "TMDbClient":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    # -- requests -------------------------------------------------------------------------------

    def get(self, path: str, params: Mapping[str, Any] | None = None, *, as_text: bool = False) -> Any:
        """GET {base_url}{path} and return the decoded JSON body (an object, or a list for the few
        endpoints such as /configuration/languages that return one), or NotFound for a 404.

        as_text=True returns a JSON object's text as TMDb sent it, undecoded, for a caller that
        only stores it (the details import: PostgreSQL parses it anyway). The text is checked to
        be an object that arrived whole (it starts with { and ends with }, and the transport
        enforces Content-Length); whoever stores it finds any malformation inside.

        Raises TMDbAuthError (bad credentials, immediately), TMDbRequestError (a request TMDb will
        never accept) or TMDbTransientError (still failing after max_retries retries).
        """
        retrying = Retrying(
            retry=retry_if_exception_type(TMDbTransientError),
            stop=stop_after_attempt(self.max_retries + 1),
            wait=self._wait,
            sleep=self.sleep,
            before_sleep=self._before_sleep,
            reraise=True,
        )
        try:
            return retrying(self._attempt, path, params or {}, as_text)
        except TMDbTransientError as exc:
            self.stats.record_failure(exc.reason)
            if exc.reason != "connection":
                raise
            failure = TMDbTransientError(
                f"TMDb could not be reached at {self._where(path)} ({exc.problem}) after "
                f"{self.max_retries + 1} attempts: check {BASE_URL_SETTING} "
                f"({self.redact(self.base_url)}) and the network.", reason="connection")
        # Raised outside the except block: the chained attempt's text would add nothing but noise.
        raise failure

    def _wait(self, retry_state: RetryCallState) -> float:
        exc = retry_state.outcome.exception() if retry_state.outcome else None
        if isinstance(exc, TMDbTransientError) and exc.retry_after is not None:
            return exc.retry_after
        return wait_random_exponential(
            multiplier=self.backoff_initial_seconds, max=self.backoff_max_seconds
        )(retry_state)

    def _before_sleep(self, retry_state: RetryCallState) -> None:
        exc = retry_state.outcome.exception() if retry_state.outcome else None
        reason = getattr(exc, "reason", "error")
        self.stats.record_retry(reason)
        wait = retry_state.next_action.sleep if retry_state.next_action else 0.0
        if isinstance(exc, TMDbTransientError) and exc.retry_after is not None:
            # Everyone sharing the limit waits, not only this thread: TMDb counts per IP.
            self.rate_limiter.pause(exc.retry_after)
        logger.debug("TMDb retry %s after %s (waiting %.2fs)", retry_state.attempt_number, exc, wait)

    def _attempt(self, path: str, params: Mapping[str, Any], as_text: bool = False) -> Any:
        url = f"{self.base_url}/{path.lstrip('/')}"
        query = dict(params)
        if self.api_key:
            query["api_key"] = self.api_key
        # Everything requests does before the bytes go out (URL encoding, header merging, proxy
        # settings) happens before taking a rate-limit slot: TMDb counts a request when it arrives,
        # so the time between the slot and the send must be as short as possible.
        session = self.session()
        started = time.monotonic()
        error: TMDbError | None = None
        response: requests.Response | None = None
        body: Any = None
        try:
            prepared = session.prepare_request(requests.Request("GET", url, params=query))
            send_settings = session.merge_environment_settings(prepared.url, {}, True, None, None)
            self.stats.record_wait(self.rate_limiter.acquire())
            started = time.monotonic()
            response = session.send(prepared, timeout=self.timeout_seconds, allow_redirects=True,
                                    **send_settings)
            # Read fully inside the try (a reset mid-body raises here), never past the cap.
            content = _read_capped(response, self.max_response_bytes)
        except _ResponseTooLarge as exc:
            error = TMDbRequestError(
                f"TMDb sent a body over {self.max_response_bytes} bytes ({exc.size} read) for "
                f"{self._where(path)}; not stored", status=response.status_code if response is not None
                else None, reason="response_too_large")
        except requests.Timeout as exc:
            error = TMDbTransientError(f"TMDb timed out on {self._where(path)}: {self.redact(exc)}",
                                       reason="timeout")
        except requests.ConnectionError as exc:
            problem = _connection_problem(exc)
            error = TMDbTransientError(f"TMDb connection failed on {self._where(path)} ({problem})",
                                       reason="connection")
            error.problem = problem
        except requests.RequestException as exc:
            error = TMDbTransientError(f"TMDb request failed on {self._where(path)}: "
                                       f"{self.redact(exc)}", reason="request")
        latency_ms = (time.monotonic() - started) * 1000
        self.stats.record_attempt(latency_ms if response is not None else None,
                                  response.status_code if response is not None else None)
        if error is not None:
            # Raised outside the except block on purpose: no __context__ chaining to the requests
            # exception, whose text holds the full URL with the api_key.
            raise error
        assert response is not None
        status = response.status_code
        if as_text and status == 200:
            return _object_text(content, f"{self._where(path)} ({len(content)} bytes)")
        try:
            body = json.loads(content) if content else None
        except ValueError:
            body = None
            if status == 200:
                raise TMDbTransientError(
                    f"TMDb sent an unreadable (truncated or invalid) JSON body for "
                    f"{self._where(path)} ({len(content)} bytes)", status=status, reason="invalid_json")
        code, message = _status_of(body)
        if status == 200:
            if not isinstance(body, (dict, list)):
                raise TMDbTransientError(
                    f"TMDb sent a {type(body).__name__} instead of JSON data for {self._where(path)}",
                    status=status, reason="invalid_json")
            return body
        described = f"HTTP {status}" + (f", code {code}" if code is not None else "") + (
            f": {message}" if message else "")
        if status == 404 and code == NOT_FOUND_CODE:
            self.stats.not_found += 1
            return NotFound(path=path, status_code=code, status_message=message)
        if status == 404:
            raise TMDbTransientError(f"TMDb answered 404 without its code {NOT_FOUND_CODE} on "
                                     f"{self._where(path)} ({described})", status=status, code=code,
                                     reason="http_404")
        if status == 401 or code in AUTH_STATUS_CODES:
            which = "no credentials were set" if not (self.api_key or self.access_token) else (
                "the configured credentials were refused")
            raise TMDbAuthError(
                f"TMDb rejected the request ({described}); {which}. Set a valid {CREDENTIAL_SETTINGS} "
                f"(a v3 API key or a v4 read access token from https://www.themoviedb.org/settings/api).",
                status=status, code=code, reason="auth")
        if status == 429:
            raise TMDbTransientError(
                f"TMDb rate limit hit on {self._where(path)} ({described})",
                retry_after=_retry_after_seconds(response.headers.get("Retry-After")),
                status=status, code=code, reason="http_429")
        if status >= 500 or status in (408, 425):
            raise TMDbTransientError(f"TMDb server error on {self._where(path)} ({described})",
                                     status=status, code=code, reason=f"http_{status}")
        raise TMDbRequestError(f"TMDb refused {self._where(path)} ({described})",
                               status=status, code=code, reason=f"http_{status}")

    def _where(self, path: str) -> str:
        # Only the host and path: never the query string, which carries the api_key.
        return f"{urlsplit(self.base_url).netloc}/{path.lstrip('/')}"


def _object_text(content: bytes, where: str) -> str:
    """The body as text, if it looks like one whole JSON object; else the same transient error as
    an unreadable decoded body (the request is tried again)."""
    text = None
    stripped = content.strip()
    if stripped.startswith(b"{") and stripped.endswith(b"}"):
        try:
            text = stripped.decode("utf-8")
        except UnicodeDecodeError:
            text = None
    if text is None:
        raise TMDbTransientError(f"TMDb sent an unreadable (truncated or invalid) JSON body for {where}",
                                 status=200, reason="invalid_json")
    return text


class _ResponseTooLarge(Exception):
    def __init__(self, size: int):
        super().__init__(size)
        self.size = size


def _read_capped(response: requests.Response, limit: int) -> bytes:
    """The whole body, or _ResponseTooLarge as soon as it passes `limit` bytes (the rest is never
    downloaded: the connection is dropped)."""
    declared = response.headers.get("Content-Length", "")
    if declared.isdigit() and int(declared) > limit:
        response.close()
        raise _ResponseTooLarge(int(declared))
    chunks: list[bytes] = []
    size = 0
    for chunk in response.iter_content(chunk_size=64 * 1024):
        size += len(chunk)
        if size > limit:
            response.close()
            raise _ResponseTooLarge(size)
        chunks.append(chunk)
    return b"".join(chunks)


#: Words of a requests/urllib3 connection error -> what a person reads. urllib3's own text is long,
#: names internal classes and repeats the URL; the setting to check is what matters.
_CONNECTION_PROBLEMS = (
    ("Connection refused", "connection refused"),
    ("Name or service not known", "host name not found"),
    ("nodename nor servname", "host name not found"),
    ("Temporary failure in name resolution", "host name not found"),
    ("No route to host", "no route to host"),
    ("Network is unreachable", "network unreachable"),
    ("Connection reset", "connection reset"),
    ("Connection aborted", "connection reset"),
    ("RemoteDisconnected", "connection closed by the server"),
    ("SSLError", "TLS handshake failed"),
    ("CERTIFICATE_VERIFY_FAILED", "TLS certificate not trusted"),
)


def _connection_problem(exc: Exception) -> str:
    text = f"{type(exc).__name__}: {exc}"
    for needle, problem in _CONNECTION_PROBLEMS:
        if needle in text:
            return problem
    return "connection failed"


def _status_of(body: Any) -> tuple[int | None, str]:
    """TMDb's error envelope: {"status_code": N, "status_message": "..."} or {"errors": [...]}."""
    if not isinstance(body, dict):
        return None, ""
    code = body.get("status_code")
    message = body.get("status_message") or ""
    if not message and isinstance(body.get("errors"), list):
        message = "; ".join(str(e) for e in body["errors"])
    return (code if isinstance(code, int) else None), str(message)[:300]


def _retry_after_seconds(value: str | None) -> float | None:
    """Retry-After as seconds (a number of seconds or an HTTP date), capped; None if absent/invalid."""
    if not value:
        return None
    value = value.strip()
    try:
        seconds = float(value)
    except ValueError:
        try:
            when = email.utils.parsedate_to_datetime(value)
        except (TypeError, ValueError):
            return None
        seconds = when.timestamp() - time.time()
    return min(MAX_RETRY_AFTER_SECONDS, max(0.0, seconds))
