"""A real Dagster deployment for integration tests: dagster-webserver + dagster-daemon on a
PostgreSQL (or SQLite) instance, each in its own process group, always killed at the end.

    with DagsterDeployment(tmp_path, env=sandbox.env(), postgres_url=url) as dagster:
        backfill_id = dagster.launch_partition_backfill(["movies", ...], ["2001", "2002"])
        dagster.wait_for_backfill(backfill_id, timeout=600)
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Iterable

import requests
from sqlalchemy.engine import make_url

from cinegraph_assets.launcher import stop_process_group

REPO_ROOT = Path(__file__).resolve().parents[2]

#: The mutation the UI's "Launch backfill" button sends (DagsterGraphQLClient has no method for it).
LAUNCH_BACKFILL = """
mutation Launch($params: LaunchBackfillParams!) {
  launchPartitionBackfill(backfillParams: $params) {
    __typename
    ... on LaunchBackfillSuccess { backfillId }
    ... on PythonError { message stack }
    ... on InvalidStepError { invalidStepKey }
    ... on PartitionSetNotFoundError { message }
    ... on UnauthorizedError { message }
  }
}"""


def backfill_params(asset_keys: Iterable[str], partitions: Iterable[str]) -> dict:
    """LAUNCH_BACKFILL's variables for these assets and partitions."""
    return {"params": {"assetSelection": [{"path": [key]} for key in asset_keys],
                       "partitionNames": list(partitions)}}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class StartedOnEnter:
    """`with X(...) as x:` calls x.start(), and x.stop() on the way out, also when start failed
    half-way (a process already started is never left running)."""

    def start(self):
        raise NotImplementedError

    def stop(self) -> None:
        raise NotImplementedError

    def __enter__(self):
        try:
            return self.start()
        except BaseException:
            self.stop()
            raise

    def __exit__(self, *exc) -> None:
        self.stop()


def kill_group(process: subprocess.Popen, grace: float = 10.0) -> None:
    """Stop a process started in its own session and everything in its group."""
    stop_process_group(process, grace=grace, name=" ".join(map(str, process.args))[:80])


def instance_env_for_postgres(url: str) -> dict[str, str]:
    """The DAGSTER_PG_* variables deploy/dagster.yaml reads, from a postgresql:// URL."""
    parsed = make_url(url)
    return {
        "DAGSTER_PG_HOST": parsed.host or "127.0.0.1",
        "DAGSTER_PG_PORT": str(parsed.port or 5432),
        "DAGSTER_PG_USER": parsed.username or "postgres",
        "DAGSTER_PG_PASSWORD": parsed.password or "",
        "DAGSTER_PG_DB": parsed.database or "postgres",
    }


class DagsterDeployment(StartedOnEnter):
    """dagster-webserver + dagster-daemon for the project's workspace, in a throwaway DAGSTER_HOME."""

    def __init__(
        self,
        home: Path,
        env: dict[str, str] | None = None,
        instance_postgres_url: str | None = None,
        instance_yaml: str | None = None,
        pool_limits: dict[str, int] | None = None,
        daemon: bool = True,
        viewers_webserver: bool = False,
    ):
        self.home = Path(home)
        self.home.mkdir(parents=True, exist_ok=True)
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.daemon = daemon
        # A second, `--read-only` webserver on the same instance: what viewers get in production.
        self.viewers_port = free_port() if viewers_webserver else None
        # Schedules and sensors start switched off unless a test asks for them: a test that
        # launches its own runs must not share the machine with the catalog backfill's.
        self.env = {**os.environ, "CINEGRAPH_AUTOMATION_OFF": "all", **(env or {}),
                    "DAGSTER_HOME": str(self.home)}
        if instance_yaml is not None:
            (self.home / "dagster.yaml").write_text(instance_yaml)
        elif instance_postgres_url is not None:
            shutil.copyfile(REPO_ROOT / "deploy" / "dagster.yaml", self.home / "dagster.yaml")
            self.env.update(instance_env_for_postgres(instance_postgres_url))
        else:
            shutil.copyfile(REPO_ROOT / "dagster.yaml", self.home / "dagster.yaml")
        self.pool_limits = pool_limits or {}
        self.processes: list[subprocess.Popen] = []
        self.logs: list[Path] = []

    # -- lifecycle -------------------------------------------------------------------------------
    def _spawn(self, name: str, args: list[str]) -> subprocess.Popen:
        log = self.home / f"{name}.log"
        self.logs.append(log)
        handle = open(log, "w")
        process = subprocess.Popen(
            args, cwd=REPO_ROOT, env=self.env, stdout=handle, stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        handle.close()
        self.processes.append(process)
        return process

    def start(self) -> "DagsterDeployment":
        self._set_pool_limits()
        bindir = Path(sys.executable).parent
        webserver = [str(bindir / "dagster-webserver"), "-w", "workspace.yaml", "-h", "127.0.0.1"]
        self._spawn("webserver", webserver + ["-p", str(self.port)])
        if self.viewers_port is not None:
            self._spawn("viewers-webserver", webserver + ["-p", str(self.viewers_port), "--read-only"])
        if self.daemon:
            self._spawn("daemon", [str(bindir / "dagster-daemon"), "run", "-w", "workspace.yaml"])
        self.wait_until_ready()
        return self

    def _set_pool_limits(self) -> None:
        if not self.pool_limits:
            return
        bindir = Path(sys.executable).parent
        for pool, limit in self.pool_limits.items():
            subprocess.run([str(bindir / "dagster"), "instance", "concurrency", "set", pool, str(limit)],
                           env=self.env, cwd=REPO_ROOT, check=True, capture_output=True, timeout=120)

    def wait_until_ready(self, timeout: float = 180) -> None:
        deadline = time.monotonic() + timeout
        waiting = [self.url] + ([f"http://127.0.0.1:{self.viewers_port}"] if self.viewers_port else [])
        while time.monotonic() < deadline:
            for process in self.processes:
                if process.poll() is not None:
                    raise RuntimeError(f"a Dagster process exited early:\n{self.tail_logs()}")
            waiting = [url for url in waiting if not self._location_loaded(url)]
            if not waiting:
                return
            time.sleep(1)
        raise TimeoutError(f"the Dagster webserver was not ready within {timeout}s:\n{self.tail_logs()}")

    def stop(self) -> None:
        for process in reversed(self.processes):
            kill_group(process)
        self.processes.clear()

    def tail_logs(self, lines: int = 40) -> str:
        out = []
        for log in self.logs:
            if log.exists():
                text = log.read_text(errors="replace").splitlines()[-lines:]
                out.append(f"--- {log.name}\n" + "\n".join(text))
        return "\n".join(out)

    def _location_loaded(self, url: str) -> bool:
        try:
            result = self.graphql("{ workspaceOrError { __typename ... on Workspace "
                                  "{ locationEntries { name locationOrLoadError { __typename } } } } }", url=url)
            entries = result["workspaceOrError"]["locationEntries"]
            return bool(entries) and all(e["locationOrLoadError"] and
                                         e["locationOrLoadError"]["__typename"] == "RepositoryLocation"
                                         for e in entries)
        except (requests.RequestException, RuntimeError, KeyError, TypeError):
            return False

    # -- GraphQL ---------------------------------------------------------------------------------
    def graphql(self, query: str, variables: dict | None = None, url: str | None = None) -> dict:
        response = requests.post(f"{url or self.url}/graphql",
                                 json={"query": query, "variables": variables or {}}, timeout=60)
        response.raise_for_status()
        body = response.json()
        if body.get("errors"):
            raise RuntimeError(f"GraphQL errors: {body['errors']}")
        return body["data"]

    def launch_partition_backfill(self, asset_keys: Iterable[str], partitions: Iterable[str]) -> str:
        """Launch a backfill the way the UI does (DagsterGraphQLClient has no method for it)."""
        result = self.graphql(LAUNCH_BACKFILL, backfill_params(asset_keys, partitions))["launchPartitionBackfill"]
        if result["__typename"] != "LaunchBackfillSuccess":
            raise RuntimeError(f"backfill launch failed: {result}")
        return result["backfillId"]

    def backfill_status(self, backfill_id: str) -> dict:
        query = """
        query Backfill($id: String!) {
          partitionBackfillOrError(backfillId: $id) {
            __typename
            ... on PartitionBackfill { id status numCancelable
              runs(limit: 1000) { id status tags { key value } } }
            ... on PythonError { message }
          }
        }"""
        return self.graphql(query, {"id": backfill_id})["partitionBackfillOrError"]

    def wait_for_backfill(self, backfill_id: str, timeout: float = 900, poll: float = 3.0) -> dict:
        deadline = time.monotonic() + timeout
        status: dict = {}
        while time.monotonic() < deadline:
            status = self.backfill_status(backfill_id)
            if status.get("status") in {"COMPLETED", "COMPLETED_SUCCESS", "COMPLETED_FAILED", "FAILED",
                                        "CANCELED"}:
                return status
            time.sleep(poll)
        raise TimeoutError(f"backfill {backfill_id} did not finish in {timeout}s: {status}\n{self.tail_logs()}")
