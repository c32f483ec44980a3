"""The sandbox HTTP server: routing, auth, limits, faults and the /_sandbox control endpoints.

A ThreadingHTTPServer speaking HTTP/1.1 with keep-alive: one thread per connection, which is also
how the connection limit is observed. Limits and faults apply to the API surfaces (/3 and /omdb),
never to /_sandbox (tests must always be able to look and steer).
"""

from __future__ import annotations

import json
import random
import socket
import struct
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl, urlsplit

from cinegraph_assets.sandbox import responses as r
from cinegraph_assets.sandbox.catalog import Catalog, CatalogOptions
from cinegraph_assets.sandbox.control import BodyCache, FaultPlan, RateLimiter, Settings, Stats
from cinegraph_assets.sandbox.details import DetailRenderer
from cinegraph_assets.sandbox.oddities import Oddities
from cinegraph_assets.sandbox.tmdb import TMDbApi, endpoint_label


class Sandbox:
    """Everything the handlers share: catalog, renderer, settings, counters, caches."""

    def __init__(self, options: CatalogOptions, settings: Settings, *, detail_size: str = "full",
                 tmdb_api_key: str = "sandbox", tmdb_access_token: str = "sandbox-token",
                 omdb_api_key: str = "sandbox", oscars_file: str | None = None):
        self.catalog = Catalog(options)
        self.renderer = DetailRenderer(self.catalog, detail_size)
        self.renderer.warm_people()
        self.settings = settings
        self.stats = Stats()
        self.limiter = RateLimiter()
        self.faults = FaultPlan(options.seed)
        self.body_cache = BodyCache()
        self.oddities = Oddities()  # oversized / mistyped details for chosen ids (oddities.py)
        self.tmdb_api_key = tmdb_api_key
        self.tmdb_access_token = tmdb_access_token
        self.omdb_api_key = omdb_api_key
        self.oscars_file = oscars_file
        self.tmdb = TMDbApi(self)
        self._churn_epoch = 0
        self._jitter = random.Random(options.seed + 17)
        self._lock = threading.Lock()
        self.extensions: list = []  # (path prefix, handler(path, params, headers) -> Response)

    def next_churn_epoch(self) -> int:
        with self._lock:
            self._churn_epoch += 1
            return self._churn_epoch

    def tmdb_authorized(self, params: dict[str, str], headers) -> bool:
        key = params.get("api_key")
        if key is not None:
            return key == self.tmdb_api_key
        auth = headers.get("Authorization") or ""
        scheme, _, token = auth.partition(" ")
        return scheme.lower() == "bearer" and token.strip() == self.tmdb_access_token

    def latency(self) -> float:
        s = self.settings
        if s.latency_ms <= 0 and s.jitter_ms <= 0:
            return 0.0
        with self._lock:
            extra = self._jitter.random() * s.jitter_ms
        return (s.latency_ms + extra) / 1000.0

    # ------------------------------------------------------------------ control endpoints
    def control(self, method: str, path: str, params: dict[str, str], body: bytes) -> r.Response:
        parts = [p for p in path.split("/") if p][1:]  # after _sandbox
        if parts[:2] == ["truth", "years"] and len(parts) == 3 and parts[2].lstrip("-").isdigit():
            year = int(parts[2])
            ids = self.catalog.truth_year(year, include_adult=_flag(params.get("include_adult")),
                                          include_video=_flag(params.get("include_video")))
            return r.json_response(200, {"year": year, "ids": ids, "count": len(ids)})
        if parts == ["truth", "catalog"]:
            return r.json_response(200, self.catalog.truth_catalog())
        if parts == ["advance"]:
            try:
                days = int(params.get("days", "1"))
                if days < 0:
                    raise ValueError
            except ValueError:
                return r.json_response(400, {"error": "days must be a whole number, 0 or more"})
            summary = self.catalog.advance(days)
            return r.json_response(200, summary)
        if parts == ["stats"]:
            snapshot = self.stats.snapshot()
            snapshot["today"] = self.catalog.today_date.isoformat()
            snapshot.update(self.extra_stats())
            return r.json_response(200, snapshot)
        if parts == ["stats", "reset"] and method in ("POST", "PUT", "GET"):
            self.stats.reset()
            return r.json_response(200, {"reset": True})
        if parts == ["config"]:
            if method in ("POST", "PUT"):
                try:
                    values = json.loads(body or b"{}")
                    if not isinstance(values, dict):
                        raise ValueError("send a JSON object, e.g. {\"max_rps\": 40}")
                    self.settings.update(values)
                except (ValueError, TypeError) as exc:
                    return r.json_response(400, {"error": str(exc)})
            return r.json_response(200, self.settings.as_dict())
        if parts == ["oddities"]:
            if method in ("POST", "PUT"):
                try:
                    self.oddities.configure(json.loads(body or b"{}"))
                except (ValueError, TypeError, AttributeError) as exc:
                    return r.json_response(400, {"error": str(exc)})
            return r.json_response(200, self.oddities.as_dict())
        if parts == ["edit"] and method in ("POST", "PUT"):
            try:
                values = json.loads(body or b"{}")
                return r.json_response(200, self.catalog.edit(int(values["id"]), values["release_date"]))
            except (ValueError, TypeError, KeyError) as exc:
                return r.json_response(400, {"error": f"send {{\"id\": N, \"release_date\": \"YYYY-MM-DD\"}}: {exc}"})
        if parts == ["health"] or parts == []:
            return r.json_response(200, {"ok": True, "today": self.catalog.today_date.isoformat(),
                                         "time_of_day": self.settings.time_of_day,
                                         "movies": len(self.catalog), "seed": self.catalog.seed,
                                         "scale": self.catalog.options.scale})
        return r.json_response(404, {"error": f"no sandbox endpoint {path}"})

    def extensions_routes(self):
        """(path prefix, handler) of the OMDb, Oscar and export surfaces mounted on this sandbox."""
        return [(ext.prefix, ext.handle) for ext in self.extensions]

    def extra_stats(self) -> dict:
        out = {}
        for ext in self.extensions:
            stats = getattr(ext, "stats", None)
            if stats:
                out.update(stats())
        return out


def _flag(value: str | None) -> bool:
    return (value or "").strip().lower() == "true"


class SandboxServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 256

    def __init__(self, address, sandbox: Sandbox):
        self.sandbox = sandbox
        super().__init__(address, Handler)

    def handle_error(self, request, client_address):
        # Clients that hang up (timeouts, injected resets) are normal here, not worth a traceback.
        import sys
        exc = sys.exc_info()[1]
        if isinstance(exc, (OSError, ValueError)):
            return
        super().handle_error(request, client_address)


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "cinegraph-sandbox"
    sys_version = ""

    def log_message(self, format, *args):  # noqa: A002 - the sandbox is quiet; /_sandbox/stats tells
        pass

    def setup(self):
        super().setup()
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.sb: Sandbox = self.server.sandbox
        self.connection_number = self.sb.stats.connection_opened()

    def finish(self):
        try:
            super().finish()
        finally:
            self.sb.stats.connection_closed()

    def do_GET(self):
        self._dispatch("GET")

    def do_POST(self):
        self._dispatch("POST")

    def do_PUT(self):
        self._dispatch("PUT")

    def do_HEAD(self):
        self._dispatch("HEAD")

    def _dispatch(self, method: str) -> None:
        sb = self.sb
        split = urlsplit(self.path)
        path = split.path
        params = dict(parse_qsl(split.query, keep_blank_values=True))
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        label = endpoint_label(path)
        try:
            if path.startswith("/_sandbox"):
                self._send(sb.control(method, path, params, body), method)
                sb.stats.record(label, "control")
                return
            is_api = path == "/3" or path.startswith("/3/") or path.startswith("/omdb")
            if is_api:
                response = self._guard(label)
                if response is None:
                    response = self._api(path, params)
                    if response is None:  # a fault already answered (or dropped) the connection
                        return
            else:
                response = self._other(path, params)
            sb.stats.record(label, response.status)
            self._send(response, method)
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True

    def _guard(self, label: str) -> r.Response | None:
        """Connection and rate limits: a 429 (code 25) with Retry-After, as TMDb's CDN answers."""
        sb = self.sb
        sb.stats.arrival()
        settings = sb.settings
        if settings.max_connections and self.connection_number > settings.max_connections:
            self.close_connection = True
            sb.stats.refused()
            return r.rate_limited(1)
        retry_after = sb.limiter.admit(settings.max_rps)
        if retry_after is not None:
            return r.rate_limited(retry_after)
        return None

    def _api(self, path: str, params: dict[str, str]) -> r.Response | None:
        sb = self.sb
        delay = sb.latency()
        if sb.settings.is_down(path):
            if delay:
                time.sleep(delay)
            sb.stats.fault("outage")
            return r.service_offline()
        broken = sb.oddities.answer(path)
        if broken is not None:
            return broken
        kind, u = sb.faults.draw(sb.settings.fault_rate, sb.settings.fault_kinds)
        if delay:
            time.sleep(delay)
        if kind is not None:
            sb.stats.fault(kind)
            label = endpoint_label(path)
            if kind == "reset":
                sb.stats.record(label, "reset")
                self._reset()
                return None
            if kind == "404" and not path.startswith("/omdb"):
                return r.cdn_not_found()
            if kind in ("500", "502", "503"):
                response = {"500": r.internal_error, "502": r.bad_gateway, "503": r.service_offline}[kind]()
                if path.startswith("/omdb") and kind != "502":
                    response = r.omdb_error(int(kind), "Something went wrong.")
                return response
            if kind == "slow":
                time.sleep(sb.settings.slow_seconds)
        response = self._route_api(path, params)
        odd = sb.oddities.rewrite(path, response.status, response.body)
        if odd is not response.body:
            response = r.Response(response.status, odd, response.content_type, dict(response.headers))
        if kind == "truncated" and response.status == 200 and response.json_body and len(response.body) > 2:
            cut = max(1, int(len(response.body) * (0.2 + 0.6 * u)))
            response = r.Response(200, response.body[:cut], response.content_type, dict(response.headers))
        return response

    def _route_api(self, path: str, params: dict[str, str]) -> r.Response:
        sb = self.sb
        if path.startswith("/omdb"):
            for prefix, handler in sb.extensions_routes():
                if prefix == "/omdb":
                    return handler(path, params, self.headers)
            return r.not_found()
        if not sb.tmdb_authorized(params, self.headers):
            return r.invalid_api_key()
        return sb.tmdb.handle(path[2:], params)

    def _other(self, path: str, params: dict[str, str]) -> r.Response:
        for prefix, handler in self.sb.extensions_routes():
            if prefix != "/omdb" and path.startswith(prefix):
                return handler(path, params, self.headers)
        if path in ("/", ""):
            return r.text_response(200, "cinegraph sandbox: /3 (TMDb), /omdb/ (OMDb), /oscars/oscars.csv, "
                                        "/p/exports/, /_sandbox/{stats,config,advance,truth/years/Y,truth/catalog}\n")
        return r.not_found()

    def _send(self, response: r.Response, method: str) -> None:
        self.send_response(response.status)
        self.send_header("Content-Type", response.content_type)
        self.send_header("Content-Length", str(len(response.body)))
        for name, value in response.headers.items():
            self.send_header(name, value)
        if self.close_connection:
            self.send_header("Connection", "close")
        self.end_headers()
        if method != "HEAD":
            self.wfile.write(response.body)

    def _reset(self) -> None:
        """Drop the connection with a TCP RST and no response, like a flaky load balancer."""
        try:
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        except OSError:
            pass
        self.close_connection = True
        try:
            self.connection.close()
        except OSError:
            pass

