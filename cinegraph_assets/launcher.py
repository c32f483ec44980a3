"""Starting and stopping the platform's helper processes, each in its own process group; above all
the one sandbox launcher (the stand-in for TMDb, OMDb and the Oscar source).

Used by `make run` (cli.py), the tests and the benchmarks. The sandbox is never imported by the
pipeline, only started by module name (`python -m cinegraph_assets.sandbox`) and talked to over HTTP.

    with SandboxProcess(seed=7, year_size=["2025=300"], detail_size="small") as sandbox:
        requests.get(sandbox.tmdb_url + "/discover/movie", params={"api_key": "sandbox"})
        assert warehouse_ids == sandbox.truth(2025)

Options become command-line flags (`max_rps=40` -> `--max-rps 40`; a list repeats the flag, a dict
gives `--flag key=value` per item; True adds a bare flag; None and False leave it out). Port 0 (the
default) lets the system pick a free port; the sandbox prints the address it listens on, and start()
waits for that line. The process leads its own process group, and stop() signals the whole group:
a background process here may ignore SIGTERM for a while, so what is left after a grace period is
killed.
"""

from __future__ import annotations

import atexit
import json
import os
import re
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from typing import IO

READY = re.compile(r"sandbox listening on (http://\S+)")
START_TIMEOUT_SECONDS = 120.0
STOP_GRACE_SECONDS = 10.0
#: The sandbox's default credentials (its --tmdb-api-key and --omdb-api-key defaults).
SANDBOX_API_KEY = "sandbox"
_RUNNING: set["SandboxProcess"] = set()


class SandboxError(RuntimeError):
    """The sandbox did not start, or a control call failed (the message says which and why)."""


def start_process_group(cmd: list[str], env: dict[str, str] | None = None, **kwargs) -> subprocess.Popen:
    """Start `cmd` as the leader of a new process group, so stop_process_group reaches its children."""
    return subprocess.Popen(cmd, env=env, start_new_session=True, **kwargs)


def stop_process_group(process: subprocess.Popen, grace: float = STOP_GRACE_SECONDS,
                       name: str = "process") -> None:
    """SIGTERM a process started with start_new_session=True and its whole group; SIGKILL what is
    left after `grace` seconds. Also used for `dagster dev` and the tests' Dagster processes."""
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
            print(f"[cinegraph] {name} did not stop within {wait:.0f}s of {sig.name}; escalating",
                  flush=True)
    try:
        os.killpg(pgid, signal.SIGKILL)  # stragglers of the group
    except ProcessLookupError:
        pass


def sandbox_flags(options: dict) -> list[str]:
    """The command-line flags of `options` (see the module)."""
    flags: list[str] = []
    for name, value in options.items():
        flag = "--" + name.replace("_", "-")
        if value is None or value is False:
            continue
        if value is True:
            flags.append(flag)
        elif isinstance(value, (list, tuple)):
            for item in value:
                flags += [flag, str(item)]
        elif isinstance(value, dict):
            for key, item in value.items():
                flags += [flag, f"{key}={item}"]
        else:
            flags += [flag, str(value)]
    return flags


class SandboxProcess:
    """A running sandbox. Use as a context manager, or call start()/stop().

    port: 0 for a free port the system picks. env: the process's environment (default: ours).
    stderr: a file for its error output (default: a temporary file, quoted when it fails to start).
    echo: copy its output to our stdout until it is ready (what `make run` shows).
    """

    def __init__(self, *, port: int = 0, env: dict[str, str] | None = None, stderr: IO | None = None,
                 echo: bool = False, stop_grace: float = 5.0, **options):
        self.port = port
        self.options = options
        self.process: subprocess.Popen | None = None
        self.url = ""
        self._env = env
        self._stderr = stderr
        self._stderr_is_ours = stderr is None
        self._echo = echo
        self._stop_grace = stop_grace

    # ------------------------------------------------------------------ lifecycle
    def command(self) -> list[str]:
        return [sys.executable, "-u", "-m", "cinegraph_assets.sandbox", "--host", "127.0.0.1",
                "--port", str(self.port), *sandbox_flags(self.options)]

    def start(self, timeout: float = START_TIMEOUT_SECONDS) -> "SandboxProcess":
        """Start the process and wait for its `sandbox listening on URL` line (SandboxError if it
        exits or says nothing within `timeout` seconds; its error output is in the message)."""
        if self._stderr_is_ours:
            self._stderr = tempfile.TemporaryFile()
        self.process = start_process_group(self.command(), self._env, stdout=subprocess.PIPE,
                                           stderr=self._stderr, text=True, bufsize=1)
        _RUNNING.add(self)
        found: list[str] = []

        def read_ready_line() -> None:
            # Keep draining after the ready line, so the sandbox can never block on a full pipe.
            for line in self.process.stdout:
                if self._echo and not found:
                    sys.stdout.write(line)
                match = READY.search(line)
                if match and not found:
                    found.append(match.group(1))

        threading.Thread(target=read_ready_line, daemon=True).start()
        deadline = time.monotonic() + timeout
        while not found:
            if self.process.poll() is not None or time.monotonic() > deadline:
                error = self._error_output()
                self.stop()
                raise SandboxError(f"the sandbox did not start ({' '.join(self.command())}):\n{error}")
            time.sleep(0.02)
        self.url = found[0]
        return self

    def stop(self) -> None:
        process, self.process = self.process, None
        _RUNNING.discard(self)
        if process is None:
            return
        if process.poll() is None:
            stop_process_group(process, grace=self._stop_grace, name="sandbox")
        if process.stdout:
            process.stdout.close()

    def poll(self) -> int | None:
        """The exit code once the process has ended, else None."""
        return None if self.process is None else self.process.poll()

    def _error_output(self) -> str:
        if not self._stderr_is_ours or self._stderr is None:
            return ""
        self._stderr.seek(0)
        return self._stderr.read().decode("utf-8", "replace")[-4000:]

    def __enter__(self) -> "SandboxProcess":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    # ------------------------------------------------------------------ addresses
    @property
    def tmdb_url(self) -> str:
        return self.url + "/3"

    @property
    def omdb_url(self) -> str:
        return self.url + "/omdb/"

    @property
    def oscars_url(self) -> str:
        return self.url + "/oscars/oscars.csv"

    @property
    def exports_url(self) -> str:
        return self.url

    def env(self) -> dict[str, str]:
        """Environment variables that point the platform at this sandbox."""
        return {
            "TMDB_BASE_URL": self.tmdb_url, "TMDB_API_KEY": SANDBOX_API_KEY,
            "OMDB_BASE_URL": self.omdb_url, "OMDB_API_KEY": SANDBOX_API_KEY,
            "OSCARS_SOURCE_URL": self.oscars_url, "TMDB_EXPORTS_BASE_URL": self.exports_url,
        }

    # ------------------------------------------------------------------ control
    def _call(self, path: str, method: str = "GET", body: dict | None = None) -> dict:
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(self.url + path, data=data, method=method,
                                         headers={"Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(request, timeout=60) as response:
                return json.loads(response.read())
        except urllib.error.HTTPError as error:
            raise SandboxError(f"{method} {path}: HTTP {error.code} {error.read()[:500]!r}") from None

    def stats(self) -> dict:
        return self._call("/_sandbox/stats")

    def reset_stats(self) -> None:
        self._call("/_sandbox/stats/reset", "POST", {})

    def truth(self, year: int, include_adult: bool = False) -> set[int]:
        """The ids a complete discovery of `year` must find."""
        flag = "true" if include_adult else "false"
        return set(self._call(f"/_sandbox/truth/years/{year}?include_adult={flag}")["ids"])

    def advance(self, days: int = 1) -> dict:
        return self._call(f"/_sandbox/advance?days={days}", "POST", {})

    def configure(self, **settings) -> dict:
        return self._call("/_sandbox/config", "POST", settings)

    def oddities(self, **choice) -> dict:
        """Odd answers for chosen ids (oversized, mistyped, broken, transient_404); none: normal."""
        return self._call("/_sandbox/oddities", "POST", choice)

    def edit(self, movie_id: int, release_date: str) -> dict:
        """An editor moves a movie's primary release date today (listed in today's changes)."""
        return self._call("/_sandbox/edit", "POST", {"id": movie_id, "release_date": release_date})


@atexit.register
def _stop_leftovers() -> None:
    for sandbox in list(_RUNNING):
        sandbox.stop()
