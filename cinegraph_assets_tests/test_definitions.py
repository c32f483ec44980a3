"""The code location loads the way the UI and the daemon load it."""

import subprocess
import sys
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]


def test_dagster_definitions_validate_passes():
    result = subprocess.run(
        [sys.executable, "-m", "dagster", "definitions", "validate", "-w", "workspace.yaml"],
        cwd=REPO_ROOT, capture_output=True, text=True, timeout=300,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_definitions_expose_the_shared_warehouse_resource():
    from cinegraph_assets.definitions import defs as load_definitions

    defs = load_definitions()

    assert "warehouse" in defs.resources
