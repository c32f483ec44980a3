"""Command line: `python -m cinegraph_assets run` (the platform on its embedded defaults) and
`python -m cinegraph_assets status` (the catalog progress table).

`run` starts, each in its own process group so that Ctrl-C stops all of them:
- the local sandbox standing in for TMDb, OMDb and the Oscar source, when no TMDb key is set;
- `dagster dev` on http://127.0.0.1:3000 with a persistent DAGSTER_HOME (.dagster_home/).
`dagster dev` ignores SIGTERM for a long while here, so we signal its whole group and escalate to
SIGKILL after a grace period.
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

from cinegraph_assets.production.commands import add_commands as add_production_commands

SANDBOX_PORT = 8765
WEBSERVER_PORT = 3000
STOP_GRACE_SECONDS = 10
POOL_LIMITS = {"tmdb": 2, "omdb": 1}


def _log(message: str) -> None:
    print(f"[cinegraph] {message}", flush=True)


def _start_group(cmd: list[str], env: dict[str, str], **kwargs) -> subprocess.Popen:
    return subprocess.Popen(cmd, env=env, start_new_session=True, **kwargs)


def stop_process_group(process: subprocess.Popen, grace: float = STOP_GRACE_SECONDS,
                       name: str = "process") -> None:
    """SIGTERM a process started with start_new_session=True and its whole group; SIGKILL what is
    left after `grace` seconds. Also used by the tests that start Dagster processes."""
    # start_new_session made the process a group leader: its pid is the group id, which stays
    # valid for the group's children (dagster's code servers, run workers) even once the leader
    # itself has exited.
    pgid = process.pid
    for sig, wait in ((signal.SIGTERM, grace), (signal.SIGKILL, 5.0)):
        try:
            os.killpg(pgid, sig)
        except ProcessLookupError:
            return
        try:
            process.wait(timeout=wait)
            break
        except subprocess.TimeoutExpired:
            _log(f"{name} did not stop within {wait:.0f}s of {sig.name}; escalating")
    try:
        os.killpg(pgid, signal.SIGKILL)  # stragglers of the group
    except ProcessLookupError:
        pass


def _wait_for_line(process: subprocess.Popen, needle: str, timeout: float) -> str:
    deadline = time.monotonic() + timeout
    assert process.stdout is not None
    while time.monotonic() < deadline:
        line = process.stdout.readline()
        if not line:
            if process.poll() is not None:
                raise RuntimeError(f"the sandbox exited with code {process.returncode} before it was ready")
            continue
        sys.stdout.write(line)
        if needle in line:
            return line
    raise RuntimeError(f"the sandbox did not say '{needle}' within {timeout:.0f}s")


def _prepare_home(project_dir: Path, env: dict[str, str]) -> Path:
    home = Path(env.get("DAGSTER_HOME") or project_dir / ".dagster_home").resolve()
    home.mkdir(parents=True, exist_ok=True)
    env["DAGSTER_HOME"] = str(home)
    source = project_dir / "dagster.yaml"
    if source.exists():
        shutil.copyfile(source, home / "dagster.yaml")
    return home


#: On the sandbox there is no quota to spare, so the catalog backfill imports years one after
#: another (at most two runs at a time) instead of one year a day as against the real TMDb.
SANDBOX_BACKFILL_YEARS_PER_DAY = "200"


def _sandbox_env(env: dict[str, str], port: int) -> dict[str, str]:
    base = f"http://127.0.0.1:{port}"
    return {
        "CATALOG_BACKFILL_YEARS_PER_DAY": env.get("CATALOG_BACKFILL_YEARS_PER_DAY")
        or SANDBOX_BACKFILL_YEARS_PER_DAY,
        "TMDB_BASE_URL": f"{base}/3",
        "TMDB_API_KEY": "sandbox",
        "TMDB_EXPORTS_BASE_URL": base,
        "OMDB_BASE_URL": f"{base}/omdb/",
        "OMDB_API_KEY": env.get("OMDB_API_KEY") or "sandbox",
        "OSCARS_SOURCE_URL": f"{base}/oscars/oscars.csv",
    }


def _set_pool_limits() -> None:
    """Give the tmdb and omdb pools their limits, unless someone already set them in the UI."""
    from dagster import DagsterInstance

    with DagsterInstance.get() as instance:
        storage = instance.event_log_storage
        configured = set(storage.get_concurrency_keys())
        for pool, limit in POOL_LIMITS.items():
            if pool not in configured:
                storage.set_concurrency_slots(pool, limit)


def run(args: argparse.Namespace) -> int:
    project_dir = Path(args.project_dir).resolve()
    env = dict(os.environ)
    home = _prepare_home(project_dir, env)
    os.environ["DAGSTER_HOME"] = str(home)
    _log(f"DAGSTER_HOME={home}")

    processes: list[tuple[str, subprocess.Popen]] = []

    def stop_all(*_signal_args) -> None:
        for name, process in reversed(processes):
            stop_process_group(process, name=name)

    def on_signal(signum, _frame):
        _log(f"received {signal.Signals(signum).name}; stopping everything this command started")
        stop_all()
        sys.exit(0)

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    try:
        if not (env.get("TMDB_API_KEY") or env.get("TMDB_ACCESS_TOKEN")):
            _log("no TMDB_API_KEY / TMDB_ACCESS_TOKEN set: starting the local sandbox in their place")
            sandbox = _start_group(
                [sys.executable, "-u", "-m", "cinegraph_assets.sandbox", "--host", "127.0.0.1",
                 "--port", str(args.sandbox_port)],
                env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
            )
            processes.append(("sandbox", sandbox))
            _wait_for_line(sandbox, "listening", timeout=120)
            env.update(_sandbox_env(env, args.sandbox_port))
            os.environ.update(env)
        else:
            _log("TMDb credentials found: using the real services")

        from cinegraph_assets.warehouse.migrate import upgrade

        _log(f"warehouse at {upgrade()}")
        _set_pool_limits()

        webserver = _start_group(
            [sys.executable, "-m", "dagster", "dev", "-w", str(project_dir / "workspace.yaml"),
             "-h", "127.0.0.1", "-p", str(args.port)],
            env, cwd=project_dir,
        )
        processes.append(("dagster dev", webserver))
        _log(f"Dagster UI on http://127.0.0.1:{args.port}  (Ctrl-C stops everything)")
        while True:
            for name, process in processes:
                if process.poll() is not None:
                    _log(f"{name} exited with code {process.returncode}; stopping the rest")
                    return process.returncode or 1
            time.sleep(1)
    finally:
        stop_all()


def status(args: argparse.Namespace) -> int:
    from cinegraph_assets.reporting.status import print_status

    return print_status(database_url=args.database_url)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="cinegraph", description=__doc__.split("\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    run_parser = commands.add_parser("run", help="start the platform (sandbox + dagster dev)")
    run_parser.add_argument("--project-dir", default=".", help="checkout with workspace.yaml")
    run_parser.add_argument("--port", type=int, default=WEBSERVER_PORT)
    run_parser.add_argument("--sandbox-port", type=int, default=SANDBOX_PORT)
    run_parser.set_defaults(handler=run)
    status_parser = commands.add_parser("status", help="print the catalog progress table")
    status_parser.add_argument("--database-url", default=None,
                               help="warehouse URL (default: CINEGRAPH_DATABASE_URL)")
    status_parser.set_defaults(handler=status)
    add_production_commands(commands)  # db-roles, migrate
    args = parser.parse_args(argv)
    return args.handler(args)


if __name__ == "__main__":
    sys.exit(main())
