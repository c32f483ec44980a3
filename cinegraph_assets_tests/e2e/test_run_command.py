"""`make run`'s launcher: the UI comes up on the sandbox with the project's assets listed, and
Ctrl-C leaves no process behind."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

from cinegraph_assets_tests.support.dagster_processes import REPO_ROOT, free_port, kill_group

pytestmark = pytest.mark.slow


def _descendants(pid: int) -> set[int]:
    """Every live process whose parent chain leads to pid (new sessions included)."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        children.setdefault(ppid, []).append(int(entry.name))
    found: set[int] = set()
    stack = [pid]
    while stack:
        for child in children.get(stack.pop(), []):
            if child not in found:
                found.add(child)
                stack.append(child)
    return found


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def test_run_serves_the_ui_with_assets_and_ctrl_c_stops_everything(tmp_path):
    port, sandbox_port = free_port(), free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TMDB_", "OMDB_", "OSCARS_"))}
    env["DAGSTER_HOME"] = str(tmp_path / "home")
    env.pop("CINEGRAPH_DATABASE_URL", None)
    launcher = subprocess.Popen(
        [sys.executable, "-m", "cinegraph_assets", "run", "--project-dir", str(REPO_ROOT),
         "--port", str(port), "--sandbox-port", str(sandbox_port)],
        cwd=REPO_ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        start_new_session=True,
    )
    started: set[int] = set()
    try:
        deadline = time.monotonic() + 240
        asset_keys: list[str] = []
        while time.monotonic() < deadline and launcher.poll() is None:
            started |= _descendants(launcher.pid)
            try:
                body = requests.post(
                    f"http://127.0.0.1:{port}/graphql",
                    json={"query": "{ assetNodes { assetKey { path } } }"}, timeout=10,
                ).json()
                asset_keys = ["/".join(n["assetKey"]["path"]) for n in body["data"]["assetNodes"]]
                if asset_keys:
                    break
            except (requests.RequestException, ValueError, KeyError, TypeError):
                pass
            time.sleep(2)
        assert launcher.poll() is None, launcher.stdout.read() if launcher.stdout else ""
        for key in ("tmdb_discovered_movies", "tmdb_movie_details", "movies"):
            assert key in asset_keys
        # The sandbox answers where the launcher pointed the platform.
        sandbox = requests.get(f"http://127.0.0.1:{sandbox_port}/_sandbox/stats", timeout=10)
        assert sandbox.status_code == 200
        started |= _descendants(launcher.pid)
        assert len(started) >= 2  # the sandbox and dagster dev at least

        launcher.send_signal(signal.SIGINT)
        launcher.wait(timeout=60)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and any(_alive(pid) for pid in started):
            time.sleep(0.5)
        left = sorted(pid for pid in started if _alive(pid))
        assert not left, f"processes left behind after Ctrl-C: {left}"
    finally:
        for pid in started:
            if _alive(pid):
                try:
                    os.kill(pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
        kill_group(launcher, grace=2)
