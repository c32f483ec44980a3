"""The source is cached in the state dir and downloaded again only when it changed."""

from __future__ import annotations

import hashlib
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from cinegraph_assets.oscars.source import OscarsSourceError, fetch_oscars_source

TABLE = (
    "Ceremony\tYear\tClass\tCanonicalCategory\tCategory\tFilm\tFilmId\tName\tNominees\tNomineeIds\tWinner\n"
    "1\t1927/28\tTitle\tBEST PICTURE\tOUTSTANDING PICTURE\tWings\ttt0018578\tParamount\tParamount\t?\tTrue\n"
)


class FakeUpstream:
    """A tiny HTTP server with ETag / Last-Modified, recording what it was asked."""

    def __init__(self) -> None:
        self.body = TABLE.encode()
        self.status = 200
        self.requests: list[dict] = []
        upstream = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):  # noqa: N802 - http.server's naming
                upstream.requests.append(dict(self.headers))
                etag = '"%s"' % hashlib.md5(upstream.body).hexdigest()
                if upstream.status != 200:
                    self.send_response(upstream.status)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                if self.headers.get("If-None-Match") == etag:
                    self.send_response(304)
                    self.end_headers()
                    return
                self.send_response(200)
                self.send_header("ETag", etag)
                self.send_header("Last-Modified", "Sat, 21 Nov 2026 10:00:00 GMT")
                self.send_header("Content-Length", str(len(upstream.body)))
                self.end_headers()
                self.wfile.write(upstream.body)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, args=(0.05,), daemon=True)
        self.thread.start()
        self.url = f"http://127.0.0.1:{self.server.server_port}/oscars.csv?token=s3cret"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def upstream():
    server = FakeUpstream()
    yield server
    server.close()


def test_second_read_is_a_conditional_get_answered_from_the_cache(upstream, tmp_path):
    first = fetch_oscars_source(upstream.url, tmp_path)
    assert (first.status, first.changed) == ("downloaded", True)
    assert first.path.read_bytes() == upstream.body
    assert first.sha256 == hashlib.sha256(upstream.body).hexdigest()

    second = fetch_oscars_source(upstream.url, tmp_path)
    assert (second.status, second.changed, second.sha256) == ("not_modified", False, first.sha256)
    assert "If-None-Match" not in upstream.requests[0]
    assert upstream.requests[1]["If-None-Match"] == '"%s"' % hashlib.md5(upstream.body).hexdigest()
    assert upstream.requests[1]["If-Modified-Since"] == "Sat, 21 Nov 2026 10:00:00 GMT"
    assert second.read_text() == TABLE


def test_a_changed_upstream_file_replaces_the_cache(upstream, tmp_path):
    first = fetch_oscars_source(upstream.url, tmp_path)
    upstream.body = (TABLE + "2\t1928/29\tActing\tACTOR\tACTOR\tX\ttt0000002\tA\tA\tnm0000002\n").encode()
    changed = fetch_oscars_source(upstream.url, tmp_path)
    assert (changed.status, changed.changed, changed.previous_sha256) == ("changed", True, first.sha256)
    assert changed.path.read_bytes() == upstream.body


def test_the_token_of_a_signed_url_is_never_reported(upstream, tmp_path):
    snapshot = fetch_oscars_source(upstream.url, tmp_path)
    assert "s3cret" not in snapshot.source
    assert not any("s3cret" in p.read_text() for p in tmp_path.rglob("*.json"))


def test_an_unreachable_server_falls_back_to_the_cached_copy(upstream, tmp_path):
    fetch_oscars_source(upstream.url, tmp_path)
    upstream.status = 500
    fallback = fetch_oscars_source(upstream.url, tmp_path, retries=0)
    assert fallback.status == "cache_fallback"
    assert "HTTP 500" in fallback.error and fallback.read_text() == TABLE


def test_without_a_cached_copy_a_failure_names_the_setting(upstream, tmp_path):
    upstream.status = 404
    with pytest.raises(OscarsSourceError, match="HTTP 404.*OSCARS_SOURCE_URL"):
        fetch_oscars_source(upstream.url, tmp_path, retries=0)


def test_an_html_page_never_replaces_a_good_copy(upstream, tmp_path):
    good = fetch_oscars_source(upstream.url, tmp_path)
    upstream.body = b"<html><body>rate limited</body></html>"
    fallback = fetch_oscars_source(upstream.url, tmp_path)
    assert fallback.status == "cache_fallback" and "not the tab-separated" in fallback.error
    assert fallback.read_text() == TABLE and fallback.sha256 == good.sha256


def test_a_local_file_reports_whether_it_changed(tmp_path):
    source = tmp_path / "oscars.csv"
    source.write_text(TABLE)
    state = tmp_path / "state"
    assert fetch_oscars_source(str(source), state).changed is True
    again = fetch_oscars_source(str(source), state)
    assert (again.status, again.changed) == ("local", False)
    source.write_text(TABLE + "2\t1928/29\tActing\tACTOR\tACTOR\n")
    assert fetch_oscars_source(f"file://{source}", state).changed is True


def test_a_missing_local_file_names_the_setting(tmp_path):
    with pytest.raises(OscarsSourceError, match="OSCARS_SOURCE_URL"):
        fetch_oscars_source(str(tmp_path / "nope.csv"), tmp_path)
