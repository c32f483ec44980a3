"""Fill in the nginx templates beside this file: paths, ports, certificate files, the login.

    python3 deploy/nginx/render.py --out /etc/cinegraph/nginx --server-name cinegraph.example.org \
        --certificate /etc/ssl/certs/cinegraph.pem --certificate-key /etc/ssl/private/cinegraph.key \
        --htpasswd /etc/cinegraph/nginx/users.htpasswd --operators-map /etc/cinegraph/nginx/operators.map

writes cinegraph.conf (for /etc/nginx/conf.d/) and login.conf into --out; with --standalone also a
main nginx.conf to run nginx as a process of its own. Every mistake that can be known before nginx
starts (a missing certificate, a webserver that is not on 127.0.0.1, a malformed operators file)
stops here with one line naming the option or file to fix. Standard library only: it runs on the
proxy host without the project installed.
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

TEMPLATES = Path(__file__).resolve().parent
PLACEHOLDER = re.compile(r"\{\{(\w+)\}\}")
LOOPBACK_HOSTS = {"127.0.0.1", "localhost", "[::1]"}
OPERATOR_LINE = re.compile(r"^\S+\s+operator;$")


class RenderError(ValueError):
    """A value nginx could not use; the message names the option or file."""


def render_text(template: str, values: dict[str, str]) -> str:
    missing = sorted(set(PLACEHOLDER.findall(template)) - set(values))
    if missing:
        raise RenderError(f"no value for {', '.join(missing)}")
    return PLACEHOLDER.sub(lambda match: values[match.group(1)], template)


def loopback_address(option: str, value: str) -> str:
    """host:port of a webserver, which must listen on the loopback interface only."""
    host, _, port = value.rpartition(":")
    if host not in LOOPBACK_HOSTS or not port.isdigit() or not 0 < int(port) < 65536:
        raise RenderError(f"{option} {value!r}: expected 127.0.0.1:PORT; the webservers listen on "
                          "127.0.0.1 only, nginx is the one door from the network")
    return value


def existing_file(option: str, value: str) -> str:
    path = Path(value).resolve()
    if not path.is_file():
        raise RenderError(f"{option} {value}: no such file")
    return str(path)


def check_operators_map(path: str) -> None:
    for number, line in enumerate(Path(path).read_text().splitlines(), start=1):
        line = line.strip()
        if line and not line.startswith("#") and not OPERATOR_LINE.match(line):
            raise RenderError(f"{path}:{number}: expected 'NAME operator;' (one operator a line), "
                              f"found {line!r}")


def values_from(args: argparse.Namespace) -> dict[str, str]:
    operators = loopback_address("--operators-webserver", args.operators_webserver)
    viewers = loopback_address("--viewers-webserver", args.viewers_webserver)
    if operators == viewers:
        raise RenderError("--operators-webserver and --viewers-webserver must differ: viewers get "
                          "the `dagster-webserver --read-only` process")
    operators_map = existing_file("--operators-map", args.operators_map)
    check_operators_map(operators_map)
    out = Path(args.out).resolve()
    values = {
        "server_name": args.server_name,
        "listen": str(args.listen),
        "certificate": existing_file("--certificate", args.certificate),
        "certificate_key": existing_file("--certificate-key", args.certificate_key),
        "operators_webserver": operators,
        "viewers_webserver": viewers,
        "operators_map": operators_map,
        "log_dir": str(Path(args.log_dir).resolve()),
        "login": str(out / "login.conf"),
        "out_dir": str(out),
    }
    if args.login == "basic":
        if not args.htpasswd:
            raise RenderError("--htpasswd is required with --login basic (create it with "
                              "`openssl passwd -6`, see deploy/nginx/README.md)")
        values["htpasswd"] = existing_file("--htpasswd", args.htpasswd)
    else:
        values["oauth2_proxy"] = loopback_address("--oauth2-proxy", args.oauth2_proxy)
    if args.standalone:
        if not args.runtime_dir:
            raise RenderError("--runtime-dir is required with --standalone (nginx's pid and temp files)")
        values["runtime_dir"] = str(Path(args.runtime_dir).resolve())
        values["worker_user"] = args.worker_user
    return values


def render(args: argparse.Namespace) -> list[Path]:
    """Write the rendered files into --out; return their paths."""
    values = values_from(args)
    out = Path(values["out_dir"])
    out.mkdir(parents=True, exist_ok=True)
    sources = {"cinegraph.conf": "cinegraph.conf", "login.conf": f"login-{args.login}.conf"}
    if args.standalone:
        sources["nginx.conf"] = "nginx.conf"
    written = []
    for target, source in sources.items():
        path = out / target
        path.write_text(render_text((TEMPLATES / source).read_text(), values))
        written.append(path)
    return written


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="render.py", description=__doc__.split("\n")[0])
    p.add_argument("--out", required=True, help="directory for the rendered files")
    p.add_argument("--server-name", required=True,
                   help="the host name users type, e.g. cinegraph.example.org")
    p.add_argument("--listen", default="443", help="nginx listen address for HTTPS (default 443)")
    p.add_argument("--certificate", required=True, help="TLS certificate (full chain), PEM")
    p.add_argument("--certificate-key", required=True, help="its private key, PEM")
    p.add_argument("--operators-webserver", default="127.0.0.1:3000",
                   help="the normal dagster-webserver (default 127.0.0.1:3000)")
    p.add_argument("--viewers-webserver", default="127.0.0.1:3001",
                   help="the `dagster-webserver --read-only` (default 127.0.0.1:3001)")
    p.add_argument("--operators-map", required=True,
                   help="file of 'NAME operator;' lines: who gets the normal webserver")
    p.add_argument("--login", choices=["basic", "oauth2-proxy"], default="basic",
                   help="basic auth with --htpasswd (default), or the organisation's SSO via oauth2-proxy")
    p.add_argument("--htpasswd", help="users and password hashes, for --login basic")
    p.add_argument("--oauth2-proxy", default="127.0.0.1:4180",
                   help="where oauth2-proxy listens, for --login oauth2-proxy (default 127.0.0.1:4180)")
    p.add_argument("--log-dir", default="/var/log/nginx", help="for cinegraph.access.log")
    p.add_argument("--standalone", action="store_true",
                   help="also write a main nginx.conf (nginx as its own process, not Debian's service)")
    p.add_argument("--runtime-dir", help="pid and temp files of a --standalone nginx")
    p.add_argument("--worker-user", default="www-data", help="user of a --standalone nginx's workers")
    return p


def main(argv: list[str] | None = None) -> int:
    p = parser()
    args = p.parse_args(argv)
    try:
        written = render(args)
    except RenderError as error:
        p.error(str(error))
    for path in written:
        print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
