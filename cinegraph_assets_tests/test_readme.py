"""The README is true line by line where a test can say so: its automation list is the platform's
schedules and sensors, and its `dagster` CLI commands work against the instance `make run` uses.
(The settings table is kept equal to the registry by test_settings; the UI path by the browser test.)"""

from __future__ import annotations

import json
import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import dagster as dg

from cinegraph_assets.cli import main

REPO_ROOT = Path(__file__).resolve().parents[1]
README = (REPO_ROOT / "README.md").read_text()
AUTOMATION_ITEM = re.compile(r"^  - `(\w+)` \((schedule|sensor)\b", re.MULTILINE)
CLI_LINE = re.compile(r"^(DAGSTER_HOME=\S*\.dagster_home \.venv/bin/dagster .+)$", re.MULTILINE)


def test_the_automation_list_is_every_schedule_and_sensor():
    from cinegraph_assets.definitions import defs as load_definitions

    repository = load_definitions().get_repository_def()
    listed = {kind: {name for name, k in AUTOMATION_ITEM.findall(README) if k == kind}
              for kind in ("schedule", "sensor")}
    assert listed["schedule"] == {s.name for s in repository.schedule_defs}, "README's schedules differ"
    assert listed["sensor"] == {s.name for s in repository.sensor_defs}, "README's sensors differ"


def test_the_dagster_cli_commands_work_on_the_instance_make_run_prepares(tmp_path, monkeypatch):
    """Each README line runs as written, in a shell, from a checkout whose .dagster_home was
    prepared the way `make run` prepares it (here a stand-in checkout in tmp: the real one's
    .dagster_home belongs to the developer)."""
    lines = CLI_LINE.findall(README)
    assert len(lines) >= 4, "the README shows the dagster CLI against .dagster_home"
    checkout = tmp_path / "checkout"
    checkout.mkdir()
    (checkout / ".venv").symlink_to(Path(sys.executable).parent.parent)
    (checkout / "workspace.yaml").symlink_to(REPO_ROOT / "workspace.yaml")
    home = checkout / ".dagster_home"
    monkeypatch.setenv("DAGSTER_HOME", str(home))
    monkeypatch.setenv("CINEGRAPH_DATABASE_URL", f"sqlite:///{tmp_path / 'warehouse.sqlite'}")
    assert main(["init", "--project-dir", str(REPO_ROOT)]) == 0
    env = {k: v for k, v in os.environ.items() if k != "DAGSTER_HOME"}
    outputs = {}
    for line in lines:
        done = subprocess.run(["bash", "-c", line], cwd=checkout, env=env, capture_output=True,
                              text=True, timeout=300)
        assert done.returncode == 0, f"{line}\n{done.stdout}\n{done.stderr}"
        outputs[" ".join(shlex.split(line)[1:4])] = done.stdout
    concurrency = outputs[".venv/bin/dagster instance concurrency"]
    assert '"tmdb": 0 / 2 slots' in concurrency and '"omdb": 0 / 1 slots' in concurrency  # pools apply
    assert "free_slots_after_run_end_seconds: 300" in outputs[".venv/bin/dagster instance info"]
    with dg.DagsterInstance.from_config(str(home)) as instance:
        [queued] = instance.get_runs()
        launched = json.loads(re.search(r"--tags '(.+)'", lines[-1]).group(1))
        assert queued.job_name == "tmdb_year_import" and queued.status == dg.DagsterRunStatus.QUEUED
        assert queued.tags["dagster/partition"] == launched["dagster/partition"]
