"""HTTP client of the OMDb API: one title lookup (`?i=<imdb_id>&apikey=...`) per call.

What it promises:
- Every attempt (retries included) first asks `before_request` for a request of the day's quota,
  and sends nothing when it says no: the quota ledger is never overdrawn.
- 5xx, 429, resets and timeouts are retried with exponential backoff (tenacity); an answer with a
  body is never retried here.
- The body of every error is read: "Request limit reached!" (OMDb sends it with HTTP 401) raises
  QuotaExhausted, "Invalid API key!" raises InvalidApiKey naming OMDB_API_KEY, and neither is retried.
- The key never leaves this module: URLs, log lines and exception messages are redacted.

Plain Python: imports nothing of Dagster.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from typing import Callable

import requests
from requests.adapters import HTTPAdapter
from tenacity import (
    RetryError,
    Retrying,
    retry_if_exception_type,
    stop_after_attempt,
    wait_exponential_jitter,
)

from cinegraph_assets.omdb.parse import classify_error, error_message_of

log = logging.getLogger(__name__)

_KEY_IN_QUERY = re.compile(r"(apikey=)[^&\s'\"]*", re.I)


class OmdbClientError(RuntimeError):
    """Base of the errors this client raises; messages never contain the API key."""


class QuotaExhausted(OmdbClientError):
    """The day's OMDb quota is spent. `source` is "ledger" (nothing was sent) or "omdb" (OMDb
    answered "Request limit reached!")."""

    def __init__(self, message: str, source: str):
        super().__init__(message)
        self.source = source


class InvalidApiKey(OmdbClientError):
    """OMDb refused the key. Fix OMDB_API_KEY."""


class OmdbUnavailable(OmdbClientError):
    """OMDb did not answer usefully after every retry (5xx, timeouts, resets)."""


class _Transient(Exception):
    """An attempt worth repeating (carries a redacted description)."""


@dataclass(frozen=True)
class OmdbAnswer:
    """The body OMDb sent for a lookup, with its HTTP status and the number of attempts it took."""

    imdb_id: str
    status_code: int
    body: str
    attempts: int


def redact(text: str, secrets: list[str] | tuple[str, ...] = ()) -> str:
    """`text` with every apikey=... value and every given secret replaced by ***."""
    text = _KEY_IN_QUERY.sub(r"\1***", text)
    for secret in secrets:
        if secret:
            text = text.replace(secret, "***")
    return text


class _RedactingFilter(logging.Filter):
    """urllib3 logs request lines (with the query string) at DEBUG; strip the key from them."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.args:
            record.msg = record.getMessage()
            record.args = None
        record.msg = redact(str(record.msg))
        return True


def _install_log_redaction() -> None:
    logger = logging.getLogger("urllib3.connectionpool")
    if not any(isinstance(f, _RedactingFilter) for f in logger.filters):
        logger.addFilter(_RedactingFilter())


class OmdbClient:
    """Looks up titles by IMDb id. Thread-compatible per instance (one requests.Session)."""

    def __init__(
        self,
        base_url: str,
        api_key: str,
        timeout_seconds: float = 15.0,
        max_retries: int = 4,
        before_request: Callable[[], bool] | None = None,
        backoff_initial: float = 0.5,
        backoff_max: float = 8.0,
        session: requests.Session | None = None,
    ):
        if not api_key:
            raise InvalidApiKey("OMDB_API_KEY is not set: get a key at https://www.omdbapi.com/apikey.aspx")
        self.base_url = base_url
        self._api_key = api_key
        self.timeout_seconds = timeout_seconds
        self.max_retries = max_retries
        self.before_request = before_request or (lambda: True)
        self.backoff_initial = backoff_initial
        self.backoff_max = backoff_max
        #: Attempts sent to OMDb by this client (every retry counts: it is quota).
        self.requests_sent = 0
        #: Attempts that failed transiently and were retried.
        self.retries = 0
        self.session = session or requests.Session()
        # No urllib3 Retry here: every attempt must pass through before_request (the quota ledger).
        self.session.mount("http://", HTTPAdapter(pool_connections=2, pool_maxsize=4, max_retries=0))
        self.session.mount("https://", HTTPAdapter(pool_connections=2, pool_maxsize=4, max_retries=0))
        self.session.headers["User-Agent"] = "cinegraph_assets (+omdb ratings)"
        _install_log_redaction()

    def __repr__(self) -> str:  # never show the key
        return f"OmdbClient(base_url={self.base_url!r})"

    def redact(self, text: str) -> str:
        return redact(text, [self._api_key])

    def close(self) -> None:
        self.session.close()

    def fetch(self, imdb_id: str) -> OmdbAnswer:
        """The body OMDb answers for `?i=imdb_id`, after retries of transient failures.

        Raises QuotaExhausted, InvalidApiKey or OmdbUnavailable; any other answer (including
        "Movie not found!" and invalid JSON) is returned for the parser to judge.
        """
        attempts = 0

        def attempt() -> OmdbAnswer:
            nonlocal attempts
            if not self.before_request():
                raise QuotaExhausted("the OMDb quota ledger has no request left today", "ledger")
            attempts += 1
            self.requests_sent += 1
            return self._send_once(imdb_id, attempts)

        retrying = Retrying(
            retry=retry_if_exception_type(_Transient),
            stop=stop_after_attempt(self.max_retries + 1),
            wait=wait_exponential_jitter(initial=self.backoff_initial, max=self.backoff_max),
            before_sleep=self._count_retry,
            reraise=False,
        )
        failure: str | None = None
        try:
            return retrying(attempt)
        except RetryError as exc:
            last = exc.last_attempt.exception()
            failure = f"OMDb unavailable for {imdb_id} after {attempts} attempts: {last}"
        # Raised outside the except block so the original exception (whose text may hold the
        # URL with the key) is not chained into tracebacks or Dagster's event log.
        raise OmdbUnavailable(self.redact(failure))

    def _count_retry(self, retry_state) -> None:
        self.retries += 1
        log.info("retrying OMDb request: %s", retry_state.outcome.exception())

    def _send_once(self, imdb_id: str, attempt: int) -> OmdbAnswer:
        transient: str | None = None
        response = None
        try:
            response = self.session.get(
                self.base_url,
                params={"i": imdb_id, "apikey": self._api_key},
                timeout=self.timeout_seconds,
            )
            body = response.text
        except (requests.Timeout, requests.ConnectionError) as exc:
            transient = f"{type(exc).__name__}: {exc}"
        except requests.RequestException as exc:  # truncated chunked bodies and the like
            transient = f"{type(exc).__name__}: {exc}"
        if transient is not None:
            raise _Transient(self.redact(transient))
        assert response is not None
        status = response.status_code
        message = error_message_of(body)
        reason = classify_error(message) if message else None
        if reason == "quota":
            raise QuotaExhausted(f"OMDb answered HTTP {status}: {message}", "omdb")
        if reason == "invalid_key" or status == 401:
            shown = self.redact(message or body[:200])
            raise InvalidApiKey(
                f"OMDb refused the API key (HTTP {status}: {shown}). "
                "Set OMDB_API_KEY to a valid, activated OMDb key."
            )
        if status == 429 or status >= 500:
            raise _Transient(f"HTTP {status}")
        return OmdbAnswer(imdb_id=imdb_id, status_code=status, body=body, attempts=attempt)
