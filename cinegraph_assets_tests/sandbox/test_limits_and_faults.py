"""Rate and connection limits, injected faults, latency, and the process's own behaviour."""

from __future__ import annotations

import http.client
import json
import signal
import subprocess
import sys
from pathlib import Path

import pytest
import requests

from cinegraph_assets_tests.sandbox.conftest import Client
from cinegraph_assets_tests.support.sandbox import SandboxProcess

SMALL = {"year_size": ["2024=50"], "detail_size": "small"}
DEFAULTS = {"latency_ms": 0, "jitter_ms": 0, "max_rps": 0, "max_connections": 0, "fault_rate": 0,
            "fault_kinds": "500,502,503,reset,slow,truncated", "slow_seconds": 20}


@pytest.fixture(scope="module")
def shared_sandbox():
    with SandboxProcess(**SMALL) as sandbox:
        yield sandbox


@pytest.fixture
def sb(shared_sandbox):
    """The module's sandbox, reconfigured at runtime by each test and reset afterwards."""
    shared_sandbox.configure(**DEFAULTS)
    shared_sandbox.reset_stats()
    yield shared_sandbox
    shared_sandbox.configure(**DEFAULTS)


def test_over_max_rps_is_429_code_25_with_retry_after(sandbox_factory):
    sb = sandbox_factory(max_rps=5, **SMALL)  # also checks the --max-rps flag
    client = Client(sb.url)
    responses = [client.get("/3/configuration") for _ in range(15)]
    limited = [r for r in responses if r.status_code == 429]
    assert limited and len(limited) < 15
    assert limited[0].headers["Retry-After"].isdigit()
    assert limited[0].json() == {"success": False, "status_code": 25,
                                 "status_message": "Your request count (#) is over the allowed limit of (40)."}
    stats = sb.stats()
    assert stats["rate_limited"] == len(limited)
    assert stats["max_requests_per_second"] >= 6  # what the client sent, limits aside
    requests.get(sb.url + "/_sandbox/stats", timeout=10)  # control endpoints are never limited


def test_connections_beyond_the_limit_are_refused_with_429(sb):
    already_open = sb.stats()["open_connections"] - 1  # not counting the stats request itself
    sb.configure(max_connections=already_open + 2)
    host, port = sb.url.removeprefix("http://").split(":")
    held = [http.client.HTTPConnection(host, int(port), timeout=10) for _ in range(3)]
    statuses = []
    for conn in held:
        conn.request("GET", "/3/configuration?api_key=sandbox")
        response = conn.getresponse()
        response.read()
        statuses.append(response.status)
    assert statuses == [200, 200, 429]
    for conn in held:
        conn.close()
    stats = sb.stats()
    assert stats["max_concurrent_connections"] >= 3 and stats["connections_refused"] == 1


@pytest.mark.parametrize("kind, status, code", [("500", 500, 11), ("503", 503, 9)])
def test_server_errors_carry_tmdb_bodies(sb, kind, status, code):
    sb.configure(fault_rate=1, fault_kinds=kind)
    response = Client(sb.url).get("/3/configuration")
    assert response.status_code == status and response.json()["status_code"] == code
    assert sb.stats()["faults"] == {kind: 1}


def test_bad_gateway_is_an_html_page(sb):
    sb.configure(fault_rate=1, fault_kinds="502")
    response = Client(sb.url).get("/3/configuration")
    assert response.status_code == 502 and response.headers["Content-Type"].startswith("text/html")


def test_connection_reset_without_response(sb):
    sb.configure(fault_rate=1, fault_kinds="reset")
    with pytest.raises(requests.ConnectionError):
        Client(sb.url).get("/3/configuration")


def test_truncated_json_has_status_200(sb):
    sb.configure(fault_rate=1, fault_kinds="truncated")
    response = Client(sb.url).get("/3/configuration")
    assert response.status_code == 200
    with pytest.raises(json.JSONDecodeError):
        json.loads(response.content)


def test_slow_response_outlasts_a_client_timeout(sb):
    sb.configure(fault_rate=1, fault_kinds="slow", slow_seconds=2)
    with pytest.raises(requests.Timeout):
        requests.get(sb.tmdb_url + "/configuration", params={"api_key": "sandbox"}, timeout=0.5)


def test_latency_setting_delays_answers(sb):
    sb.configure(latency_ms=1500)
    with pytest.raises(requests.Timeout):
        requests.get(sb.tmdb_url + "/configuration", params={"api_key": "sandbox"}, timeout=0.3)
    sb.configure(latency_ms=0)
    assert Client(sb.url).get("/3/configuration").status_code == 200


def test_faults_are_a_mix_and_repeat_for_the_same_seed(sandbox_factory):
    def statuses(sb):
        out = []
        for _ in range(40):
            try:
                out.append(Client(sb.url).get("/3/configuration").status_code)
            except requests.ConnectionError:
                out.append("reset")
        return out

    options = dict(fault_rate=0.5, fault_kinds="500,502,503,reset", slow_seconds=3, **SMALL)
    one, two = statuses(sandbox_factory(**options)), statuses(sandbox_factory(**options))
    assert one == two
    assert {200, 500, 502, 503, "reset"} <= set(one)


def test_ready_line_and_clean_exit_on_sigterm():
    sb = SandboxProcess(**SMALL).start()
    process = sb.process
    assert sb.url.startswith("http://127.0.0.1:")
    process.send_signal(signal.SIGTERM)
    assert process.wait(timeout=10) == 0
    sb.stop()


@pytest.mark.slow
def test_bench_scale_is_shaped_like_tmdb(sandbox_factory):
    sb = sandbox_factory(scale="bench", detail_size="small")
    health = requests.get(sb.url + "/_sandbox/health", timeout=10).json()
    assert 900_000 <= health["movies"] <= 1_300_000
    client = Client(sb.url)
    recent = client.get("/3/discover/movie", {"primary_release_year": 2023}).json()["total_results"]
    assert 34_000 <= recent <= 40_000
    early = client.get("/3/discover/movie", {"primary_release_year": 1925}).json()["total_results"]
    assert 100 <= early <= 1000
    crowded = client.get("/3/discover/movie", {"primary_release_date.gte": "2025-01-01",
                                               "primary_release_date.lte": "2025-01-01"}).json()
    assert crowded["total_results"] > 10_000 and crowded["total_pages"] > 500


def test_the_sandbox_imports_nothing_of_the_pipeline():
    code = ("import sys, cinegraph_assets.sandbox.__main__; "
            "print([m for m in sys.modules if m.startswith('cinegraph_assets') "
            "and not m.startswith('cinegraph_assets.sandbox') and m != 'cinegraph_assets'])")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
    package = Path(__file__).resolve().parents[2] / "cinegraph_assets"
    # Only the launcher names it, to start it as a process (`python -m cinegraph_assets.sandbox`).
    importers = [p for p in package.rglob("*.py") if "sandbox" not in p.parts and p.name != "launcher.py"
                 and "cinegraph_assets.sandbox" in p.read_text(encoding="utf-8")]
    assert importers == []
