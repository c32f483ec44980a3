"""DAGSTER_HOME as the platform's commands see it: prepared on purpose, never created by a read.

`make run` (and `python -m cinegraph_assets init`) put the repo's dagster.yaml into DAGSTER_HOME
and give the tmdb and omdb pools their limits, so the `dagster` CLI run against the same home
(`DAGSTER_HOME=.dagster_home .venv/bin/dagster ...`) sees the same instance with the same limits.
The read-only commands (status) and reset/refetch open an instance only where one exists, and say
so loudly when that home lacks the repo's dagster.yaml.
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import dagster as dg

INSTANCE_YAML = "dagster.yaml"


class HomeError(RuntimeError):
    """DAGSTER_HOME cannot be prepared; the message says what to fix."""


def prepare_home(project_dir: Path, home: Path) -> Path:
    """Create `home` and copy the checkout's dagster.yaml into it (every time: the repo's file is
    the one source of the instance's settings). Raises HomeError when the checkout has none."""
    source = project_dir / INSTANCE_YAML
    if not source.is_file():
        raise HomeError(
            f"{source} is missing: without it the Dagster instance in {home} gets no run queue "
            "limits, no pool limits and no run monitoring. Run from the checkout (--project-dir) "
            "that holds dagster.yaml.")
    home.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(source, home / INSTANCE_YAML)
    return home


def existing_instance(home: Path) -> dg.DagsterInstance | None:
    """The Dagster instance in `home`, if one was ever created there (never create one)."""
    if not (home / INSTANCE_YAML).exists() and not (home / "storage").exists():
        return None
    if not (home / INSTANCE_YAML).exists():
        print(f"Warning: {home} has no {INSTANCE_YAML}: the tmdb/omdb pool limits and the run "
              "queue's limits do not apply to this instance. Run `python -m cinegraph_assets init` "
              "(`make run` does it) to put the repo's dagster.yaml there.", file=sys.stderr)
    try:
        return dg.DagsterInstance.from_config(str(home))
    except Exception as exc:  # a broken instance should not hide what the warehouse can tell
        print(f"(Could not open the Dagster instance in {home}: {type(exc).__name__}.)", file=sys.stderr)
        return None
