"""TMDbClient against a scripted fake server: auth, retries, 429, 404, 401 and redaction."""

from __future__ import annotations

import logging
import socket
import traceback

import pytest

from cinegraph_assets.tmdb.client import (
    NotFound,
    TMDbAuthError,
    TMDbClient,
    TMDbRequestError,
    TMDbTransientError,
)
from cinegraph_assets.tmdb.ratelimit import MemoryRateSlots, SlotRateLimiter
from cinegraph_assets_tests.tmdb.fake_tmdb import FakeTMDb, Reply

KEY = "k3y-5ecret-0123456789abcdef"
TOKEN = "eyJ0b2tlbi1zZWNyZXQ.abc.def"
MOVIE = {"id": 550, "title": "Fight Club"}


class RecordingSleep:
    def __init__(self) -> None:
        self.calls: list[float] = []

    def __call__(self, seconds: float) -> None:
        self.calls.append(seconds)


def scripted(*replies: Reply):
    """Serve the replies in order, then keep serving the last one."""
    queue = list(replies)

    def respond(_request):
        return queue.pop(0) if len(queue) > 1 else queue[0]

    return respond


def make_client(fake: FakeTMDb, **kwargs) -> TMDbClient:
    kwargs.setdefault("api_key", KEY)
    kwargs.setdefault("sleep", RecordingSleep())
    kwargs.setdefault("timeout_seconds", 2.0)
    return TMDbClient(base_url=fake.url, **kwargs)


def assert_no_secret(*texts: str) -> None:
    for text in texts:
        assert KEY not in text and TOKEN not in text, text


def test_api_key_goes_in_the_query_and_the_token_in_a_bearer_header():
    with FakeTMDb(scripted(Reply(body=MOVIE))) as fake:
        assert make_client(fake).get("/movie/550") == MOVIE
        assert make_client(fake, api_key=None, access_token=TOKEN).get("/movie/550") == MOVIE
    with_key, with_token = fake.requests
    assert with_key.query["api_key"] == KEY and "authorization" not in with_key.headers
    assert with_token.headers["authorization"] == f"Bearer {TOKEN}" and "api_key" not in with_token.query


def test_429_waits_as_retry_after_says_and_pauses_the_shared_limit():
    slots = MemoryRateSlots()
    sleep = RecordingSleep()
    limiter = SlotRateLimiter(slots, max_rps=1000, sleep=sleep)
    rate_limited = Reply(status=429, body={"status_code": 25, "status_message": "over the limit"},
                         headers={"Retry-After": "3"})
    with FakeTMDb(scripted(rate_limited, Reply(body=MOVIE))) as fake:
        client = make_client(fake, rate_limiter=limiter, sleep=sleep)
        assert client.get("/movie/550") == MOVIE
    assert 3.0 in sleep.calls
    assert client.stats.http_429 == 1 and client.stats.retries == 1 and client.stats.requests == 2
    # The pause reached the shared slots: the next slot is about 3 s ahead for every user of it.
    assert slots.reserve("tmdb", 0.001) > 2.0


@pytest.mark.parametrize("fault", [
    Reply(status=500, body={"status_code": 11, "status_message": "Internal error"}),
    Reply(status=503, body={"status_code": 9, "status_message": "Service offline"}),
    Reply(reset=True),
    Reply(truncate=True, body={"id": 550, "title": "x" * 2000}),
    Reply(body=b'{"id": 550, "title": "Fight'),  # complete response, cut JSON
    Reply(delay=1.5, body=MOVIE),  # slower than the client's timeout
], ids=["500", "503", "reset", "truncated-body", "invalid-json", "timeout"])
def test_transient_faults_are_retried_with_backoff(fault):
    sleep = RecordingSleep()
    with FakeTMDb(scripted(fault, fault, Reply(body=MOVIE))) as fake:
        client = make_client(fake, sleep=sleep, timeout_seconds=0.5)
        assert client.get("/movie/550") == MOVIE
    assert client.stats.retries == 2
    assert len(sleep.calls) == 2 and all(0 <= s <= client.backoff_max_seconds for s in sleep.calls)


def test_retries_stop_at_max_retries_with_a_redacted_error():
    with FakeTMDb(scripted(Reply(status=502, body=b"<html>bad gateway</html>"))) as fake:
        client = make_client(fake, max_retries=3)
        with pytest.raises(TMDbTransientError) as raised:
            client.get("/movie/550")
    assert len(fake.requests) == 4  # the first try + 3 retries
    assert raised.value.reason == "http_502"
    assert_no_secret(str(raised.value), "".join(traceback.format_exception(raised.value)))


def test_invalid_key_stops_at_once_naming_the_env_vars():
    body = {"status_message": "Invalid API key: You must be granted a valid key.", "success": False,
            "status_code": 7}
    with FakeTMDb(scripted(Reply(status=401, body=body))) as fake:
        client = make_client(fake, max_retries=6)
        with pytest.raises(TMDbAuthError) as raised:
            client.get("/discover/movie", {"page": 1})
    assert len(fake.requests) == 1
    message = str(raised.value)
    assert "TMDB_API_KEY" in message and "TMDB_ACCESS_TOKEN" in message and "code 7" in message
    assert_no_secret(message)


def test_404_is_a_not_found_value_not_an_error():
    body = {"status_message": "The resource you requested could not be found.", "status_code": 34}
    with FakeTMDb(scripted(Reply(status=404, body=body))) as fake:
        result = make_client(fake).get("/movie/1")
    assert isinstance(result, NotFound) and result.status_code == 34
    assert len(fake.requests) == 1


def test_a_request_tmdb_refuses_is_not_retried():
    body = {"status_code": 22, "status_message": "Invalid page: Pages start at 1 and max at 500."}
    with FakeTMDb(scripted(Reply(status=400, body=body))) as fake:
        with pytest.raises(TMDbRequestError, match="code 22"):
            make_client(fake).get("/discover/movie", {"page": 501})
    assert len(fake.requests) == 1


def test_connection_errors_never_show_the_key(caplog):
    # A port nobody listens on: requests' own message would contain the full URL with api_key.
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()
    client = TMDbClient(base_url=f"http://127.0.0.1:{port}/3", api_key=KEY, access_token=TOKEN,
                        max_retries=1, sleep=lambda s: None, timeout_seconds=1)
    logging.getLogger("urllib3").setLevel(logging.DEBUG)
    with caplog.at_level(logging.DEBUG):
        with pytest.raises(TMDbTransientError) as raised:
            client.get("/movie/550", {"append_to_response": "credits"})
    error = raised.value
    assert error.reason == "connection"
    assert error.__cause__ is None and error.__context__ is None
    assert_no_secret(str(error), repr(error), "".join(traceback.format_exception(error)), caplog.text)
    assert f"127.0.0.1:{port}/movie/550" in str(error)  # still says where it failed


def test_request_statistics_count_attempts_and_latency():
    with FakeTMDb(scripted(Reply(status=500, body={}), Reply(body=MOVIE))) as fake:
        client = make_client(fake)
        client.get("/movie/550")
        client.get("/movie/550")
    meta = client.stats.as_metadata()
    assert meta["requests"] == 3 and meta["retries"] == 1 and meta["http_429"] == 0
    assert meta["latency_p95_ms"] >= meta["latency_p50_ms"] > 0
    assert_no_secret(repr(meta), repr(client))


# --- as_text: the details import stores the body as TMDb sent it -----------------------------------

@pytest.mark.parametrize("body", [
    b'{"id": 550, "title": "Fight',  # a whole response carrying cut JSON
    b"<html><body>502 Bad Gateway</body></html>",  # a proxy's page sent with 200
    b"",
    b"[1, 2]",  # JSON, but not an object
    b'{"id": 550, "title": "\xff\xfe"}',  # not UTF-8
    b'"{}"',
], ids=["cut-json", "html", "empty", "array", "not-utf8", "quoted-string"])
def test_as_text_retries_a_body_that_is_not_one_object_then_fails_invalid_json(body):
    sleep = RecordingSleep()
    with FakeTMDb(scripted(Reply(body=body))) as fake:
        client = make_client(fake, sleep=sleep, max_retries=2)
        with pytest.raises(TMDbTransientError) as raised:
            client.get("/movie/550", as_text=True)
    assert len(fake.requests) == 3 and len(sleep.calls) == 2
    assert (raised.value.reason, raised.value.status) == ("invalid_json", 200)
    assert client.stats.retries == 2
    assert_no_secret(str(raised.value))


def test_as_text_gets_a_good_body_after_a_cut_one():
    text = '{"id": 550, "title": "Fight Club"}'
    with FakeTMDb(scripted(Reply(body=b'{"id": 550, "tit'), Reply(body=text.encode()))) as fake:
        client = make_client(fake)
        assert client.get("/movie/550", as_text=True) == text
    assert client.stats.retries == 1


def test_as_text_retries_a_body_cut_in_transit():
    """The server promised more bytes than it sent: never handed over as text."""
    with FakeTMDb(scripted(Reply(truncate=True, body={"id": 550, "title": "x" * 2000}),
                           Reply(body=MOVIE))) as fake:
        client = make_client(fake, timeout_seconds=0.5)
        assert client.get("/movie/550", as_text=True) == '{"id": 550, "title": "Fight Club"}'
    assert len(fake.requests) == 2


def test_as_text_returns_the_exact_text_sent():
    """Not re-encoded: spacing, key order, escapes and non-ASCII are TMDb's own (PostgreSQL parses
    them); only the whitespace around the object goes."""
    text = '{"title":"Am\\u00e9lie",  "id" : 194,\n "tagline": "Élan \\"☃\\"\\\\", "a": {"b": [1, 2.50]}}'
    with FakeTMDb(scripted(Reply(body=b"\r\n " + text.encode() + b"\n"))) as fake:
        got = make_client(fake).get("/movie/194", {"append_to_response": "credits"}, as_text=True)
    assert got == text and isinstance(got, str)


def test_as_text_404_is_still_not_found_and_other_errors_unchanged():
    not_found = {"status_message": "The resource you requested could not be found.", "status_code": 34}
    with FakeTMDb(scripted(Reply(status=404, body=not_found))) as fake:
        result = make_client(fake).get("/movie/1", as_text=True)
    assert isinstance(result, NotFound) and result.status_code == 34
    assert len(fake.requests) == 1
    bad_page = {"status_code": 22, "status_message": "Invalid page: Pages start at 1 and max at 500."}
    with FakeTMDb(scripted(Reply(status=400, body=bad_page))) as fake:
        with pytest.raises(TMDbRequestError, match="code 22"):
            make_client(fake).get("/movie/1", as_text=True)
    invalid_key = {"status_message": "Invalid API key", "success": False, "status_code": 7}
    with FakeTMDb(scripted(Reply(status=401, body=invalid_key))) as fake:
        with pytest.raises(TMDbAuthError):
            make_client(fake).get("/movie/1", as_text=True)
