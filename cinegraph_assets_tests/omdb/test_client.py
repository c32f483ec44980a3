"""The OMDb client against a scripted local server: retries, the 401 bodies, quota gating, redaction."""

from __future__ import annotations

import logging
import socket

import pytest

from cinegraph_assets.omdb.client import (
    InvalidApiKey,
    OmdbClient,
    OmdbUnavailable,
    QuotaExhausted,
    redact,
)
from cinegraph_assets_tests.omdb.fake_omdb import FakeOmdb

KEY = "sekr3t-omdb-key"
LIMIT_BODY = {"Response": "False", "Error": "Request limit reached!"}
BAD_KEY_BODY = {"Response": "False", "Error": "Invalid API key!"}


@pytest.fixture
def fake():
    with FakeOmdb() as server:
        yield server


def make_client(url: str, **kwargs) -> OmdbClient:
    kwargs.setdefault("timeout_seconds", 2.0)
    kwargs.setdefault("max_retries", 3)
    return OmdbClient(url, KEY, backoff_initial=0.01, backoff_max=0.02, **kwargs)


def test_a_lookup_sends_the_id_and_key_and_returns_the_body(fake):
    answer = make_client(fake.url).fetch("tt0090191")
    assert fake.requests == [{"i": "tt0090191", "apikey": KEY}]
    assert answer.status_code == 200 and '"imdbID": "tt0090191"' in answer.body


def test_5xx_is_retried_and_every_attempt_reserves_quota(fake):
    fake.reply(503, "busy")
    fake.reply(500, "oops")
    reservations = []
    client = make_client(fake.url, before_request=lambda: reservations.append(1) or True)
    answer = client.fetch("tt1")
    assert answer.status_code == 200 and answer.attempts == 3
    assert len(fake.requests) == 3 and len(reservations) == 3
    assert client.requests_sent == 3 and client.retries == 2


def test_timeouts_are_retried_then_reported_without_the_key(fake):
    fake.reply(200, "{}", delay=1.0, times=3)
    client = make_client(fake.url, timeout_seconds=0.2, max_retries=2)
    with pytest.raises(OmdbUnavailable) as raised:
        client.fetch("tt1")
    assert "3 attempts" in str(raised.value)
    assert KEY not in str(raised.value)
    assert client.requests_sent == 3


def test_request_limit_body_means_quota_spent_and_is_not_retried(fake):
    fake.reply(401, LIMIT_BODY, times=5)
    client = make_client(fake.url)
    with pytest.raises(QuotaExhausted) as raised:
        client.fetch("tt1")
    assert raised.value.source == "omdb"
    assert len(fake.requests) == 1


def test_invalid_key_fails_at_once_naming_the_env_var_not_the_key(fake):
    fake.reply(401, BAD_KEY_BODY, times=5)
    with pytest.raises(InvalidApiKey) as raised:
        make_client(fake.url).fetch("tt1")
    assert "OMDB_API_KEY" in str(raised.value) and "Invalid API key!" in str(raised.value)
    assert KEY not in str(raised.value)
    assert len(fake.requests) == 1


def test_nothing_is_sent_when_the_ledger_has_no_request_left(fake):
    client = make_client(fake.url, before_request=lambda: False)
    with pytest.raises(QuotaExhausted) as raised:
        client.fetch("tt1")
    assert raised.value.source == "ledger"
    assert fake.requests == [] and client.requests_sent == 0


def test_movie_not_found_is_an_answer_for_the_parser(fake):
    fake.reply(200, {"Response": "False", "Error": "Movie not found!"})
    answer = make_client(fake.url).fetch("tt1")
    assert "Movie not found!" in answer.body


def test_connection_errors_never_show_the_key_in_messages_or_logs(caplog):
    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    client = make_client(f"http://127.0.0.1:{port}/", max_retries=1)
    with caplog.at_level(logging.DEBUG):
        with pytest.raises(OmdbUnavailable) as raised:
            client.fetch("tt1")
    assert KEY not in str(raised.value)
    assert raised.value.__cause__ is None and raised.value.__context__ is None
    assert KEY not in caplog.text
    assert "apikey=***" in str(raised.value) or "Connection" in str(raised.value)


def test_urllib3_request_lines_are_redacted(fake, caplog):
    with caplog.at_level(logging.DEBUG, logger="urllib3"):
        make_client(fake.url).fetch("tt1")
    assert "tt1" in caplog.text  # the request line was logged...
    assert KEY not in caplog.text  # ...without the key


def test_redact_masks_apikey_query_values_and_known_secrets():
    assert redact("GET /?i=tt1&apikey=abc123 HTTP/1.1") == "GET /?i=tt1&apikey=*** HTTP/1.1"
    assert redact("key abc123 leaked", ["abc123"]) == "key *** leaked"
    assert "sekr3t" not in repr(make_client("http://127.0.0.1:9/"))
