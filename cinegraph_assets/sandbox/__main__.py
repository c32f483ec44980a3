"""Start the sandbox: `python -m cinegraph_assets.sandbox --host 127.0.0.1 --port 8765 [options]`.

Prints one line, `sandbox listening on http://HOST:PORT`, once it accepts connections (with --port 0
the system picks a free port and the line tells which), and exits cleanly on SIGTERM or SIGINT.
"""

from __future__ import annotations

import argparse
import signal
import sys
from datetime import date, datetime, timezone

from cinegraph_assets.sandbox import exports, omdb, oscars
from cinegraph_assets.sandbox.catalog import SCALES, CatalogOptions
from cinegraph_assets.sandbox.control import DEFAULT_FAULT_KINDS, FAULT_KINDS, Settings
from cinegraph_assets.sandbox.server import Sandbox, SandboxServer


def _year_size(text: str) -> tuple[int, int]:
    try:
        year, n = text.split("=")
        return int(year), int(n)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected YEAR=N, e.g. 2024=300, got {text!r}") from None


def _crowded(text: str) -> tuple[date, int] | None:
    if text.lower() == "none":
        return None
    try:
        day, n = text.split("=")
        return date.fromisoformat(day), int(n)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected YYYY-MM-DD=N, e.g. 2025-01-01=12000, got {text!r}") from None


def _fault_kinds(text: str) -> str:
    bad = [k for k in text.split(",") if k and k not in FAULT_KINDS]
    if bad:
        raise argparse.ArgumentTypeError(f"unknown fault kind(s) {bad}; use {','.join(FAULT_KINDS)}")
    return text


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m cinegraph_assets.sandbox", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    net = p.add_argument_group("server")
    net.add_argument("--host", default="127.0.0.1")
    net.add_argument("--port", type=int, default=8765, help="0 picks a free port (printed in the ready line)")
    cat = p.add_argument_group("catalog")
    cat.add_argument("--seed", type=int, default=7)
    cat.add_argument("--scale", choices=SCALES, default="demo",
                     help="demo: ~1,500 movies in a recent year; bench: ~38,000, about a million in all")
    cat.add_argument("--start-date", type=date.fromisoformat, default=None,
                     help="the sandbox's today at start (default: today, UTC)")
    cat.add_argument("--year-size", type=_year_size, action="append", default=[], metavar="YEAR=N",
                     help="override the number of movies released in one year (repeatable)")
    cat.add_argument("--crowded-date", type=_crowded, action="append", default=None, metavar="YYYY-MM-DD=N",
                     help="one date holding N extra movies (repeatable; 'none' disables the bench default "
                          "of 12,000 on January 1st of last year)")
    cat.add_argument("--detail-size", choices=("full", "small"), default="full",
                     help="full: realistic 10-100 KB appended responses; small: same fields, few credits/images")
    cat.add_argument("--change-rate", type=float, default=0.005, help="share of live movies changed per day")
    cat.add_argument("--delete-rate", type=float, default=0.0002, help="share of live movies deleted per day")
    cat.add_argument("--new-per-day", type=int, default=None, help="movies added per day (default 5 demo, 300 bench)")
    cat.add_argument("--new-year-moves", type=int, default=0,
                     help="movies a day whose release date is corrected across New Year (Dec 31 <-> Jan 1)")
    auth = p.add_argument_group("keys")
    auth.add_argument("--tmdb-api-key", default="sandbox")
    auth.add_argument("--tmdb-access-token", default="sandbox-token")
    auth.add_argument("--omdb-api-key", default="sandbox")
    auth.add_argument("--omdb-daily-limit", type=int, default=1000)
    auth.add_argument("--oscars-file", default=None, help="serve this Oscar TSV instead of the generated one")
    faults = p.add_argument_group("limits and faults (changeable at runtime via /_sandbox/config)")
    faults.add_argument("--latency-ms", type=float, default=0.0)
    faults.add_argument("--jitter-ms", type=float, default=0.0)
    faults.add_argument("--max-rps", type=float, default=0.0, help="0: unlimited")
    faults.add_argument("--max-connections", type=int, default=0, help="0: unlimited")
    faults.add_argument("--fault-rate", type=float, default=0.0)
    faults.add_argument("--fault-kinds", type=_fault_kinds, default=",".join(DEFAULT_FAULT_KINDS),
                        help=f"drawn among {','.join(FAULT_KINDS)} (404: a CDN's 404 without TMDb's code 34)")
    faults.add_argument("--slow-seconds", type=float, default=20.0)
    faults.add_argument("--churn", type=float, default=0.0, help="popularity churn strength (0 off, 0.5 strong)")
    return p


def build_sandbox(args: argparse.Namespace) -> Sandbox:
    crowded = None
    if args.crowded_date is not None:
        crowded = dict(x for x in args.crowded_date if x is not None)
    options = CatalogOptions(
        seed=args.seed, scale=args.scale,
        start_date=args.start_date or datetime.now(timezone.utc).date(),
        year_sizes=dict(args.year_size), crowded_dates=crowded,
        change_rate=args.change_rate, delete_rate=args.delete_rate, new_per_day=args.new_per_day,
        new_year_moves=args.new_year_moves)
    settings = Settings(latency_ms=args.latency_ms, jitter_ms=args.jitter_ms, max_rps=args.max_rps,
                        max_connections=args.max_connections, fault_rate=args.fault_rate,
                        fault_kinds=args.fault_kinds, slow_seconds=args.slow_seconds, churn=args.churn,
                        omdb_daily_limit=args.omdb_daily_limit)
    sandbox = Sandbox(options, settings, detail_size=args.detail_size, tmdb_api_key=args.tmdb_api_key,
                      tmdb_access_token=args.tmdb_access_token, omdb_api_key=args.omdb_api_key,
                      oscars_file=args.oscars_file)
    _mount_extensions(sandbox)
    return sandbox


def _mount_extensions(sandbox: Sandbox) -> None:
    """OMDb, the Oscar source and the daily exports live in their own modules."""
    for module in (omdb, oscars, exports):
        sandbox.extensions.append(module.mount(sandbox))


def _stop(signum, frame):
    raise KeyboardInterrupt


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    sandbox = build_sandbox(args)
    server = SandboxServer((args.host, args.port), sandbox)
    host, port = server.server_address[:2]
    signal.signal(signal.SIGTERM, _stop)
    print(f"sandbox listening on http://{host}:{port}", flush=True)
    try:
        server.serve_forever(poll_interval=0.2)
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
