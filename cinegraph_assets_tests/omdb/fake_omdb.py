"""A tiny scripted OMDb stand-in for client tests: answers queued (status, body, delay) replies."""

from __future__ import annotations

import json
import threading
import time
from collections import deque
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse


class FakeOmdb:
    """Serves queued replies in order; when the queue is empty, a valid title for the asked id."""

    def __init__(self):
        self.replies: deque[tuple[int, str, float]] = deque()
        self.requests: list[dict[str, str]] = []
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):  # noqa: N802 - http.server's name
                query = {k: v[0] for k, v in parse_qs(urlparse(self.path).query).items()}
                fake.requests.append(query)
                status, body, delay = (
                    fake.replies.popleft() if fake.replies else (200, fake.title(query.get("i")), 0)
                )
                if delay:
                    time.sleep(delay)
                data = body.encode()
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json; charset=utf-8")
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data)
                except (BrokenPipeError, ConnectionResetError):
                    pass

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/"
        self._thread = threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    @staticmethod
    def title(imdb_id: str | None) -> str:
        return json.dumps({
            "Title": f"Movie {imdb_id}", "imdbID": imdb_id, "Rated": "PG", "imdbRating": "7.0",
            "imdbVotes": "1,000", "Response": "True",
            "Ratings": [{"Source": "Internet Movie Database", "Value": "7.0/10"}],
        })

    def reply(self, status: int, body: str | dict, delay: float = 0.0, times: int = 1) -> None:
        text = body if isinstance(body, str) else json.dumps(body)
        for _ in range(times):
            self.replies.append((status, text, delay))

    def __enter__(self) -> "FakeOmdb":
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.server.server_close()
