"""The shipped reverse proxy for tests: deploy/nginx rendered with deploy/nginx/render.py, a
self-signed certificate and an htpasswd made the way deploy/nginx/README.md says (openssl), and
Debian's nginx run as a non-daemon process on a free port, stopped at the end.

    with NginxProxy(tmp_path / "nginx", operators_webserver="127.0.0.1:3000",
                    viewers_webserver="127.0.0.1:3001", users={"olga": "pw"}, operators=["olga"]) as proxy:
        requests.get(proxy.url + "/", auth=("olga", "pw"), verify=proxy.certificate)
"""

from __future__ import annotations

import getpass
import os
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import time
from pathlib import Path

from cinegraph_assets_tests.support.dagster_processes import REPO_ROOT, StartedOnEnter, free_port

RENDER = REPO_ROOT / "deploy" / "nginx" / "render.py"
START_TIMEOUT_SECONDS = 30


def nginx_binary() -> str:
    """Debian's nginx, or an AssertionError that says how to get it (never a skip)."""
    found = shutil.which("nginx", path=os.pathsep.join([os.environ.get("PATH", ""), "/usr/sbin"]))
    if found is None:
        raise AssertionError("nginx is not installed: `make test` installs Debian's nginx (its `proxy` "
                             "target runs `apt-get install nginx`); install it and rerun")
    return found


def _run(args: list[str], **kwargs) -> subprocess.CompletedProcess:
    result = subprocess.run(args, capture_output=True, text=True, timeout=60, **kwargs)
    if result.returncode != 0:
        raise RuntimeError(f"{' '.join(map(str, args))} failed:\n{result.stdout}{result.stderr}")
    return result


def self_signed_certificate(directory: Path) -> tuple[Path, Path]:
    """A certificate for 127.0.0.1 (so clients can verify it against this file) and its key."""
    cert, key = directory / "cert.pem", directory / "key.pem"
    _run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
          "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
          "-keyout", str(key), "-out", str(cert)])
    return cert, key


def htpasswd_line(user: str, password: str) -> str:
    """`user:hash` with SHA-512 crypt, as `openssl passwd -6` makes it (the README's recipe)."""
    hashed = _run(["openssl", "passwd", "-6", "-stdin"], input=password + "\n").stdout.strip()
    return f"{user}:{hashed}"


class NginxProxy(StartedOnEnter):
    """deploy/nginx in front of the two webservers, on https://127.0.0.1:<free port>."""

    def __init__(self, workdir: Path, *, operators_webserver: str, viewers_webserver: str,
                 operators: list[str], users: dict[str, str] | None = None, oauth2_proxy: str | None = None):
        """Basic auth for `users` (name: password), or, given `oauth2_proxy` (host:port), the
        single sign-on login asking that address."""
        self.workdir = Path(workdir)
        self.operators_webserver = operators_webserver
        self.viewers_webserver = viewers_webserver
        self.users = users or {}
        self.operators = operators
        self.oauth2_proxy = oauth2_proxy
        self.port = free_port()
        self.url = f"https://127.0.0.1:{self.port}"
        self.certificate: Path | None = None
        self.process: subprocess.Popen | None = None
        self.log = self.workdir / "nginx.log"

    def render(self) -> Path:
        """Write the certificate, users and operators, render the templates; the main config's path."""
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.certificate, key = self_signed_certificate(self.workdir)
        if self.oauth2_proxy:
            login = ["--login", "oauth2-proxy", "--oauth2-proxy", self.oauth2_proxy]
        else:
            htpasswd = self.workdir / "users.htpasswd"
            htpasswd.write_text("".join(htpasswd_line(u, p) + "\n" for u, p in self.users.items()))
            login = ["--htpasswd", str(htpasswd)]
        operators_map = self.workdir / "operators.map"
        operators_map.write_text("".join(f"{name} operator;\n" for name in self.operators))
        runtime = self.workdir / "run"
        runtime.mkdir(exist_ok=True)
        conf = self.workdir / "conf"
        _run([sys.executable, str(RENDER), "--out", str(conf), "--server-name", "127.0.0.1",
              "--listen", f"127.0.0.1:{self.port}", "--certificate", str(self.certificate),
              "--certificate-key", str(key), *login, "--operators-map", str(operators_map),
              "--operators-webserver", self.operators_webserver,
              "--viewers-webserver", self.viewers_webserver,
              "--log-dir", str(runtime), "--standalone", "--runtime-dir", str(runtime),
              # The workers run as whoever runs the tests, so they can read files under tmp_path.
              "--worker-user", getpass.getuser()])
        return conf / "nginx.conf"

    def start(self) -> "NginxProxy":
        binary = nginx_binary()
        config = self.render()
        runtime = self.workdir / "run"
        _run([binary, "-t", "-p", str(runtime), "-e", "stderr", "-c", str(config)])
        with open(self.log, "w") as log:
            self.process = subprocess.Popen([binary, "-p", str(runtime), "-e", "stderr", "-c", str(config)],
                                            stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        self._wait_for_tls()
        return self

    def _wait_for_tls(self) -> None:
        context = ssl.create_default_context(cafile=str(self.certificate))
        deadline = time.monotonic() + START_TIMEOUT_SECONDS
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"nginx exited with code {self.process.returncode}:\n{self.log.read_text()}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=2) as raw:
                    with context.wrap_socket(raw, server_hostname="127.0.0.1"):
                        return
            except OSError:
                time.sleep(0.1)
        raise TimeoutError(f"nginx did not accept TLS on port {self.port} within {START_TIMEOUT_SECONDS}s")

    def stop(self) -> None:
        process, self.process = self.process, None
        if process is None or process.poll() is not None:
            return
        os.killpg(process.pid, signal.SIGTERM)  # nginx's fast shutdown
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=5)

    def access_log(self) -> str:
        path = self.workdir / "run" / "cinegraph.access.log"
        return path.read_text() if path.exists() else ""
