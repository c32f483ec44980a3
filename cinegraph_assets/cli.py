"""Command line: `python -m cinegraph_assets run|init|status|reset|refetch|db-roles|migrate`.

`run` starts, each in its own process group so that Ctrl-C stops all of them:
- the local sandbox standing in for TMDb, OMDb and the Oscar source, when no TMDb key is set;
- `dagster dev` on http://127.0.0.1:3000 with a persistent DAGSTER_HOME (.dagster_home/).
`dagster dev` ignores SIGTERM for a long while here, so we signal its whole group and escalate to
SIGKILL after a grace period. Before that it prepares DAGSTER_HOME exactly as `init` does.
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from cinegraph_assets.launcher import (
    SANDBOX_API_KEY,
    STOP_GRACE_SECONDS,
    SandboxProcess,
    start_process_group,
    stop_process_group,
)
from cinegraph_assets.production.commands import add_commands as add_production_commands

DESCRIPTION = (
    "The cinegraph_assets platform from the command line: run starts it on its embedded defaults "
    "(the UI on http://127.0.0.1:3000), init prepares DAGSTER_HOME the same way without starting "
    "anything, status prints the catalog's progress per release year, reset forgets release years "
    "so they can be imported again, refetch makes the next import of release years fetch every "
    "movie again, and, for a production deployment, db-roles creates the least-privilege "
    "PostgreSQL roles and migrate brings the warehouse schema up to date."
)
SANDBOX_PORT = 8765
WEBSERVER_PORT = 3000


def _log(message: str) -> None:
    print(f"[cinegraph] {message}", flush=True)


def _home_of(project_dir: Path, env: dict[str, str]) -> Path:
    return Path(env.get("DAGSTER_HOME") or project_dir / ".dagster_home").resolve()


#: On the sandbox there is no quota to spare, so the catalog backfill imports years one after
#: another (at most two runs at a time) instead of one year a day as against the real TMDb.
SANDBOX_BACKFILL_YEARS_PER_DAY = "200"


def _prepare(project_dir: Path, home: Path) -> None:
    """DAGSTER_HOME with the repo's dagster.yaml and the pool limits (raises HomeError)."""
    from dagster import DagsterInstance

    from cinegraph_assets.home import prepare_home
    from cinegraph_assets.pools import set_pool_limits

    prepare_home(project_dir, home)
    with DagsterInstance.from_config(str(home)) as instance:
        newly_set = set_pool_limits(instance)
    if newly_set:
        _log("pool limits set: " + ", ".join(f"{pool}={limit}" for pool, limit in newly_set.items()))


def init(args: argparse.Namespace) -> int:
    """Prepare DAGSTER_HOME and the warehouse as `run` does, without starting anything."""
    from cinegraph_assets.home import HomeError
    from cinegraph_assets.warehouse.migrate import upgrade

    project_dir = Path(args.project_dir).resolve()
    home = _home_of(project_dir, dict(os.environ))
    try:
        _prepare(project_dir, home)
    except HomeError as exc:
        print(exc, file=sys.stderr)
        return 1
    os.environ["DAGSTER_HOME"] = str(home)
    _log(f"DAGSTER_HOME={home} holds {project_dir / 'dagster.yaml'}; warehouse at {upgrade()}")
    return 0


def run(args: argparse.Namespace) -> int:
    from cinegraph_assets.home import HomeError

    project_dir = Path(args.project_dir).resolve()
    env = dict(os.environ)
    home = _home_of(project_dir, env)
    try:
        _prepare(project_dir, home)
    except HomeError as exc:
        print(exc, file=sys.stderr)
        return 1
    env["DAGSTER_HOME"] = str(home)
    os.environ["DAGSTER_HOME"] = str(home)
    _log(f"DAGSTER_HOME={home}")

    processes: list[tuple[str, subprocess.Popen]] = []
    sandbox: SandboxProcess | None = None

    def stop_all(*_signal_args) -> None:
        for name, process in reversed(processes):
            stop_process_group(process, name=name)
        if sandbox is not None:
            sandbox.stop()

    def on_signal(signum, _frame):
        _log(f"received {signal.Signals(signum).name}; stopping everything this command started")
        stop_all()
        sys.exit(0)

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    try:
        if not (env.get("TMDB_API_KEY") or env.get("TMDB_ACCESS_TOKEN")):
            _log("no TMDB_API_KEY / TMDB_ACCESS_TOKEN set: starting the local sandbox in their place")
            sandbox = SandboxProcess(port=args.sandbox_port, env=env, stderr=subprocess.STDOUT,
                                     echo=True, stop_grace=STOP_GRACE_SECONDS).start()
            env.update({
                **sandbox.env(),
                # an OMDb key of one's own still works against the sandbox's OMDb
                "OMDB_API_KEY": env.get("OMDB_API_KEY") or SANDBOX_API_KEY,
                "CATALOG_BACKFILL_YEARS_PER_DAY": env.get("CATALOG_BACKFILL_YEARS_PER_DAY")
                or SANDBOX_BACKFILL_YEARS_PER_DAY,
            })
            os.environ.update(env)
        else:
            _log("TMDb credentials found: using the real services")

        from cinegraph_assets.warehouse.migrate import upgrade

        _log(f"warehouse at {upgrade()}")

        webserver = start_process_group(
            [sys.executable, "-m", "dagster", "dev", "-w", str(project_dir / "workspace.yaml"),
             "-h", "127.0.0.1", "-p", str(args.port)],
            env, cwd=project_dir,
        )
        processes.append(("dagster dev", webserver))
        _log(f"Dagster UI on http://127.0.0.1:{args.port}  (Ctrl-C stops everything)")
        while True:
            if sandbox is not None and sandbox.poll() is not None:
                _log(f"sandbox exited with code {sandbox.poll()}; stopping the rest")
                return sandbox.poll() or 1
            for name, process in processes:
                if process.poll() is not None:
                    _log(f"{name} exited with code {process.returncode}; stopping the rest")
                    return process.returncode or 1
            time.sleep(1)
    finally:
        stop_all()


def status(args: argparse.Namespace) -> int:
    from cinegraph_assets.reporting.status import print_status

    return print_status(database_url=args.database_url, years=args.years, unfinished=args.unfinished)


def _warehouse_and_home(args: argparse.Namespace) -> tuple[str, Path] | None:
    from cinegraph_assets.settings import SettingError, dagster_home
    from cinegraph_assets.warehouse.engine import warehouse_url

    try:
        return warehouse_url(args.database_url), dagster_home()
    except SettingError as exc:
        print(exc, file=sys.stderr)
        return None


def _on_the_warehouse(command, args: argparse.Namespace) -> int:
    """Run reset_years/refetch_years on the configured warehouse and DAGSTER_HOME."""
    from cinegraph_assets.warehouse.migrate import SchemaChangeRefused

    where = _warehouse_and_home(args)
    if where is None:
        return 2
    try:
        return command(args.years, *where)
    except SchemaChangeRefused as exc:  # names the migrate command and the owner role
        print(exc, file=sys.stderr)
        return 1


def reset(args: argparse.Namespace) -> int:
    from cinegraph_assets.reset import reset_years

    return _on_the_warehouse(reset_years, args)


def refetch(args: argparse.Namespace) -> int:
    from cinegraph_assets.reset import refetch_years

    return _on_the_warehouse(refetch_years, args)


def _years(text: str) -> list[int]:
    from cinegraph_assets.partitions import parse_years

    try:
        return parse_years(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m cinegraph_assets", description=DESCRIPTION)
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    database_url = {"default": None, "help": "warehouse URL (default: CINEGRAPH_DATABASE_URL)"}
    project_dir = {"default": ".", "help": "the checkout holding dagster.yaml and workspace.yaml"}

    run_parser = commands.add_parser("run", help="start the platform: the sandbox (when no TMDb key "
                                     "is set) and dagster dev on DAGSTER_HOME (.dagster_home/)")
    run_parser.add_argument("--project-dir", **project_dir)
    run_parser.add_argument("--port", type=int, default=WEBSERVER_PORT)
    run_parser.add_argument("--sandbox-port", type=int, default=SANDBOX_PORT)
    run_parser.set_defaults(handler=run)

    init_parser = commands.add_parser("init", help="put the repo's dagster.yaml and the tmdb/omdb "
                                      "pool limits into DAGSTER_HOME and migrate the warehouse")
    init_parser.add_argument("--project-dir", **project_dir)
    init_parser.set_defaults(handler=init)

    status_parser = commands.add_parser("status", help="print the catalog progress table")
    status_parser.add_argument("--database-url", **database_url)
    status_parser.add_argument("--years", type=_years, default=None,
                               help="only these release years, e.g. 1990-2000 or 1990,1995")
    status_parser.add_argument("--unfinished", action="store_true",
                               help="only the years not complete yet")
    status_parser.set_defaults(handler=status)

    for name, handler, text in (
        ("reset", reset, "forget release years in the warehouse and the Dagster instance (the OMDb "
                         "quota ledger is kept) so they can be imported again"),
        ("refetch", refetch, "make the next import of release years fetch every movie's details "
                             "again, whatever their age"),
    ):
        command = commands.add_parser(name, help=text)
        command.add_argument("--years", type=_years, required=True,
                             help="release years, e.g. 1920-1925 or 1990,1995")
        command.add_argument("--database-url", **database_url)
        command.set_defaults(handler=handler)

    add_production_commands(commands)  # db-roles, migrate
    args = parser.parse_args(argv)
    return args.handler(args)


if __name__ == "__main__":
    sys.exit(main())
