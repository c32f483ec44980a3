"""The shipped reverse proxy (deploy/nginx) for real: Debian's nginx in front of a normal and a
`--read-only` dagster-webserver on a PostgreSQL instance, both bound to 127.0.0.1.

What a user would notice: without a login nothing of the UI or GraphQL comes back; an operator
gets the UI and can launch a backfill; a viewer gets the same UI, reads assets, runs and backfills,
and the backfill mutation is refused through their route. The single sign-on variant sends
strangers to the sign-in page and routes by the user oauth2-proxy vouches for.
"""

from __future__ import annotations

import re
import threading
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import requests

from benchmarks.postgres import throwaway_database
from cinegraph_assets_tests.support.dagster_processes import (
    LAUNCH_BACKFILL,
    DagsterDeployment,
    backfill_params,
)
from cinegraph_assets_tests.support.nginx import NginxProxy


OPERATOR = ("olga", "operator-password-1")
VIEWER = ("victor", "viewer-password-2")
TMDB_ASSETS = ["tmdb_discovered_movies", "tmdb_movie_details", "movies"]

ASSETS_AND_RUNS = """{
  assetNodes { assetKey { path } }
  runsOrError { __typename ... on Runs { results { runId } } }
  partitionBackfillsOrError { __typename ... on PartitionBackfills { results { id } } }
}"""


def post_graphql(proxy: NginxProxy, auth, query: str, variables: dict | None = None) -> requests.Response:
    return requests.post(f"{proxy.url}/graphql", json={"query": query, "variables": variables or {}},
                         auth=auth, verify=str(proxy.certificate), timeout=60)


def graphql_data(proxy: NginxProxy, auth, query: str, variables: dict | None = None) -> dict:
    response = post_graphql(proxy, auth, query, variables)
    assert response.status_code == 200, response.text[:500]
    body = response.json()
    assert not body.get("errors"), body["errors"]
    return body["data"]


@pytest.mark.postgres
def test_only_logged_in_users_get_the_ui_and_viewers_cannot_launch_backfills(tmp_path):
    with throwaway_database("cinegraph_instance") as instance_url, \
            DagsterDeployment(tmp_path / "home", instance_postgres_url=instance_url, daemon=False,
                              viewers_webserver=True, pool_limits={"tmdb": 4}) as dagster, \
            NginxProxy(tmp_path / "nginx", operators_webserver=f"127.0.0.1:{dagster.port}",
                       viewers_webserver=f"127.0.0.1:{dagster.viewers_port}",
                       users=dict([OPERATOR, VIEWER]), operators=[OPERATOR[0]]) as proxy:
        verify = str(proxy.certificate)

        # No login, a wrong password, an unknown user: 401 and nothing of Dagster in the answer.
        refused = [("GET", "/", None), ("GET", "/assets", None), ("GET", "/server_info", None),
                   ("POST", "/graphql", None), ("GET", "/graphql?query={version}", None),
                   ("GET", "/", (OPERATOR[0], "wrong")), ("POST", "/graphql", ("mallory", VIEWER[1]))]
        for method, path, auth in refused:
            response = requests.request(method, proxy.url + path, auth=auth, verify=verify, timeout=30,
                                        json={"query": "{ version }"} if method == "POST" else None)
            assert response.status_code == 401, (method, path, auth, response.status_code)
            assert response.headers["WWW-Authenticate"].startswith("Basic")
            assert "dagster" not in response.text.lower() and "version" not in response.text

        # The operator gets the UI (page and its scripts) and may launch a backfill.
        page = requests.get(proxy.url + "/", auth=OPERATOR, verify=verify, timeout=30)
        assert page.status_code == 200 and "<title" in page.text and "Dagster" in page.text
        script = re.search(r'src="[^"]*?(/_next/static/chunks/[^"]+\.js)"', page.text).group(1)
        bundle = requests.get(proxy.url + script, auth=OPERATOR, verify=verify, timeout=30)
        assert bundle.status_code == 200 and len(bundle.content) > 1000
        launched = graphql_data(proxy, OPERATOR, LAUNCH_BACKFILL,
                                backfill_params(TMDB_ASSETS, ["2001"]))["launchPartitionBackfill"]
        assert launched["__typename"] == "LaunchBackfillSuccess", launched

        # The viewer gets the same UI and reads assets, runs and the operator's backfill...
        assert requests.get(proxy.url + "/", auth=VIEWER, verify=verify, timeout=30).status_code == 200
        seen = graphql_data(proxy, VIEWER, ASSETS_AND_RUNS)
        assert ["movies"] in [node["assetKey"]["path"] for node in seen["assetNodes"]]
        assert seen["runsOrError"]["__typename"] == "Runs"
        assert [b["id"] for b in seen["partitionBackfillsOrError"]["results"]] == [launched["backfillId"]]

        # ... but launching one is refused, and nothing was launched.
        refused_launch = graphql_data(proxy, VIEWER, LAUNCH_BACKFILL,
                                      backfill_params(TMDB_ASSETS, ["2002"]))["launchPartitionBackfill"]
        assert refused_launch["__typename"] == "UnauthorizedError", refused_launch
        backfills = dagster.graphql(ASSETS_AND_RUNS)["partitionBackfillsOrError"]["results"]
        assert [b["id"] for b in backfills] == [launched["backfillId"]]

        # The access log names who did what, with the role the proxy gave them.
        log = proxy.access_log()
        assert re.search(r" olga operator .*\"POST /graphql", log), log
        assert re.search(r" victor viewer .*\"POST /graphql", log), log


class _StandIn(BaseHTTPRequestHandler):
    """Answers for a stand-in of oauth2-proxy or of a webserver, chosen by the server's `role`."""

    def do_GET(self):
        role = self.server.role
        self.server.seen.append((self.path, dict(self.headers)))
        if role == "oauth2-proxy" and self.path.startswith("/oauth2/auth"):
            # oauth2-proxy's auth endpoint: 202 plus the user for a valid session cookie, else 401.
            user = dict(part.strip().split("=", 1) for part in self.headers.get("Cookie", "x=").split(";"))
            status, headers = (202, {"X-Auth-Request-User": user["_oauth2_proxy"]}) \
                if "_oauth2_proxy" in user else (401, {})
        else:
            status, headers = 200, {}
        body = f"{role} {self.path}".encode()
        self.send_response(status)
        for name, value in {**headers, "Content-Length": str(len(body))}.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@contextmanager
def stand_in(role: str):
    server = ThreadingHTTPServer(("127.0.0.1", 0), _StandIn)
    server.role, server.seen = role, []
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()


def test_the_single_sign_on_login_routes_by_the_user_oauth2_proxy_vouches_for(tmp_path):
    """login-oauth2-proxy.conf with stand-ins for oauth2-proxy and the two webservers."""
    with stand_in("oauth2-proxy") as sso, stand_in("operators") as operators, stand_in("viewers") as viewers, \
            NginxProxy(tmp_path / "nginx", operators_webserver="127.0.0.1:%d" % operators.server_port,
                       viewers_webserver="127.0.0.1:%d" % viewers.server_port, operators=["olga@example.org"],
                       oauth2_proxy="127.0.0.1:%d" % sso.server_port) as proxy:
        def get(path: str, user: str | None = None) -> requests.Response:
            cookies = {"_oauth2_proxy": user} if user else None
            return requests.get(proxy.url + path, cookies=cookies, verify=str(proxy.certificate),
                                allow_redirects=False, timeout=30)

        # No session: sent to the sign-in page, which itself is served without one.
        anonymous = get("/assets")
        assert anonymous.status_code == 302
        assert anonymous.headers["Location"].endswith("/oauth2/sign_in?rd=/assets")
        assert get("/oauth2/sign_in").text == "oauth2-proxy /oauth2/sign_in"
        assert operators.seen == [] and viewers.seen == []

        assert get("/graphql", "olga@example.org").text == "operators /graphql"
        assert get("/graphql", "victor@example.org").text == "viewers /graphql"
        assert [path for path, _ in operators.seen] == ["/graphql"]
        assert [path for path, _ in viewers.seen] == ["/graphql"]
