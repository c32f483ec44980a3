"""Start a sandbox (TMDb/OMDb/Oscar stand-in) as a subprocess on a free port, for tests.

    with SandboxProcess(seed=7, year_size=["2025=300"], detail_size="small") as sb:
        requests.get(sb.tmdb_url + "/discover/movie", params={"api_key": "sandbox"})
        assert warehouse_ids == sb.truth(2025)

Options become command-line flags (`max_rps=40` -> `--max-rps 40`; a list repeats the flag; True
adds a bare flag). The process runs in its own process group and the whole group is killed on
stop, also when a test fails. Talks to the sandbox over HTTP only: never imports it.
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
from pathlib import Path

READY = re.compile(r"sandbox listening on (http://\S+)")
START_TIMEOUT_SECONDS = 90
REPO_ROOT = Path(__file__).resolve().parents[2]
_RUNNING: set["SandboxProcess"] = set()


class SandboxError(RuntimeError):
    pass


class SandboxProcess:
    """A running sandbox. Use as a context manager, or call start()/stop()."""

    def __init__(self, *, seed: int = 7, scale: str = "demo", start_date: str = "2026-11-21", **options):
        self.options = {"seed": seed, "scale": scale, "start_date": start_date, **options}
        self.process: subprocess.Popen | None = None
        self.url = ""
        self._stderr = None

    # ------------------------------------------------------------------ lifecycle
    def command(self) -> list[str]:
        cmd = [sys.executable, "-m", "cinegraph_assets.sandbox", "--host", "127.0.0.1", "--port", "0"]
        for name, value in self.options.items():
            flag = "--" + name.replace("_", "-")
            if value is None or value is False:
                continue
            if value is True:
                cmd.append(flag)
            elif isinstance(value, (list, tuple)):
                for item in value:
                    cmd += [flag, str(item)]
            elif isinstance(value, dict):
                for key, item in value.items():
                    cmd += [flag, f"{key}={item}"]
            else:
                cmd += [flag, str(value)]
        return cmd

    def start(self) -> "SandboxProcess":
        self._stderr = tempfile.TemporaryFile()
        self.process = subprocess.Popen(
            self.command(), stdout=subprocess.PIPE, stderr=self._stderr, cwd=REPO_ROOT,
            start_new_session=True, text=True, bufsize=1)
        _RUNNING.add(self)
        found: list[str] = []

        def read_ready_line():
            for line in self.process.stdout:
                match = READY.search(line)
                if match and not found:
                    found.append(match.group(1))
            # keep draining so the sandbox can never block on a full pipe

        reader = threading.Thread(target=read_ready_line, daemon=True)
        reader.start()
        deadline = time.monotonic() + START_TIMEOUT_SECONDS
        while not found:
            if self.process.poll() is not None or time.monotonic() > deadline:
                error = self._error_output()
                self.stop()
                raise SandboxError(f"sandbox did not start ({' '.join(self.command())}):\n{error}")
            time.sleep(0.02)
        self.url = found[0]
        return self

    def stop(self) -> None:
        process, self.process = self.process, None
        _RUNNING.discard(self)
        if process is None:
            return
        if process.poll() is None:
            try:
                os.killpg(process.pid, signal.SIGTERM)
                process.wait(timeout=5)
            except ProcessLookupError:
                pass
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait(timeout=5)
        if process.stdout:
            process.stdout.close()

    def _error_output(self) -> str:
        if self._stderr is None:
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
            "TMDB_BASE_URL": self.tmdb_url, "TMDB_API_KEY": "sandbox",
            "OMDB_BASE_URL": self.omdb_url, "OMDB_API_KEY": "sandbox",
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
