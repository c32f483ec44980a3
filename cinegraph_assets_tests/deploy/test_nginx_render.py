"""deploy/nginx/render.py: the organisation's single sign-on variant is a configuration nginx
accepts, and mistakes stop the render with one line naming what to fix."""

from __future__ import annotations

import subprocess
import sys

import pytest

from cinegraph_assets_tests.support.nginx import RENDER, nginx_binary, self_signed_certificate


@pytest.fixture(scope="module")
def certificate(tmp_path_factory):
    return self_signed_certificate(tmp_path_factory.mktemp("tls"))


@pytest.fixture
def inputs(tmp_path, certificate):
    cert, key = certificate
    operators = tmp_path / "operators.map"
    operators.write_text("# who may change things\nolga@example.org operator;\n")
    htpasswd = tmp_path / "users.htpasswd"
    htpasswd.write_text("olga:$6$salt$hash\n")
    return {"--certificate": str(cert), "--certificate-key": str(key), "--operators-map": str(operators),
            "--htpasswd": str(htpasswd), "--server-name": "cinegraph.example.org",
            "--out": str(tmp_path / "conf"), "--runtime-dir": str(tmp_path / "run"),
            "--log-dir": str(tmp_path / "run")}


def render(options: dict, *flags: str) -> subprocess.CompletedProcess:
    args = [sys.executable, str(RENDER), *flags]
    for name, value in options.items():
        args += [name, value]
    return subprocess.run(args, capture_output=True, text=True, timeout=60)


def test_the_oauth2_proxy_login_renders_a_configuration_nginx_accepts(inputs, tmp_path):
    del inputs["--htpasswd"]
    result = render(inputs, "--login", "oauth2-proxy", "--oauth2-proxy", "127.0.0.1:4180", "--standalone")
    assert result.returncode == 0, result.stderr
    login = (tmp_path / "conf" / "login.conf").read_text()
    assert "auth_request /oauth2/auth;" in login and "http://127.0.0.1:4180" in login
    assert "{{" not in (tmp_path / "conf" / "cinegraph.conf").read_text()
    (tmp_path / "run").mkdir()
    check = subprocess.run([nginx_binary(), "-t", "-p", str(tmp_path / "run"), "-e", "stderr",
                            "-c", str(tmp_path / "conf" / "nginx.conf")], capture_output=True, text=True)
    assert check.returncode == 0, check.stderr


@pytest.mark.parametrize("change, flags, message", [
    ({"--operators-webserver": "0.0.0.0:3000"}, (), "--operators-webserver '0.0.0.0:3000': expected 127.0.0.1:PORT"),
    ({"--viewers-webserver": "10.0.0.5:3001"}, (), "--viewers-webserver '10.0.0.5:3001': expected 127.0.0.1:PORT"),
    ({"--viewers-webserver": "127.0.0.1:3000"}, (), "must differ"),
    ({"--certificate": "/nonexistent/cert.pem"}, (), "--certificate /nonexistent/cert.pem: no such file"),
    ({"--htpasswd": None}, (), "--htpasswd is required with --login basic"),
    ({"--runtime-dir": None}, ("--standalone",), "--runtime-dir is required with --standalone"),
])
def test_mistakes_stop_the_render_naming_the_option(inputs, tmp_path, change, flags, message):
    options = {name: value for name, value in {**inputs, **change}.items() if value is not None}
    result = render(options, *flags)
    assert result.returncode == 2
    assert message in result.stderr, result.stderr
    assert len(result.stderr.strip().splitlines()[-1]) < 300
    assert not (tmp_path / "conf").exists()


def test_a_malformed_operators_line_is_named_with_its_file_and_line(inputs, tmp_path):
    (tmp_path / "operators.map").write_text("olga operator;\nvictor\n")
    result = render(inputs)
    assert result.returncode == 2
    assert f"{tmp_path / 'operators.map'}:2: expected 'NAME operator;'" in result.stderr
