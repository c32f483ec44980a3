"""The tests' sandbox: the package's one launcher (cinegraph_assets/launcher.py) with the
tests' defaults, a small demo catalog whose clock starts on 2026-11-21.

    with SandboxProcess(seed=7, year_size=["2025=300"], detail_size="small") as sb:
        requests.get(sb.tmdb_url + "/discover/movie", params={"api_key": "sandbox"})
        assert warehouse_ids == sb.truth(2025)

The process runs in its own process group and the whole group is killed on stop, also when a test
fails. Talks to the sandbox over HTTP only: never imports it.
"""

from __future__ import annotations

from pathlib import Path

from cinegraph_assets.launcher import SandboxError
from cinegraph_assets.launcher import SandboxProcess as _Launcher

__all__ = ["REPO_ROOT", "SandboxError", "SandboxProcess"]

REPO_ROOT = Path(__file__).resolve().parents[2]


class SandboxProcess(_Launcher):
    """A sandbox on a free port with the tests' defaults (any option can be overridden)."""

    def __init__(self, *, seed: int = 7, scale: str = "demo", start_date: str = "2026-11-21", **options):
        super().__init__(seed=seed, scale=scale, start_date=start_date, **options)
