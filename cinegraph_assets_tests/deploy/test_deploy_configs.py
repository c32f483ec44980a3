"""The shipped instance configs pass Dagster's own validation, and the Helm values say the same
thing as the instance they render (we cannot run Kubernetes here)."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from dagster._config import process_config
from dagster._core.instance.config import dagster_instance_config

REPO_ROOT = Path(__file__).resolve().parents[2]
PG_ENV = {"DAGSTER_PG_HOST": "db", "DAGSTER_PG_PORT": "5432", "DAGSTER_PG_USER": "dagster",
          "DAGSTER_PG_PASSWORD": "pw", "DAGSTER_PG_DB": "dagster"}


@pytest.mark.parametrize("path", ["dagster.yaml", "deploy/dagster.yaml", "deploy/kubernetes/dagster-instance.yaml"])
def test_instance_config_is_valid(path, tmp_path, monkeypatch):
    for name, value in PG_ENV.items():
        monkeypatch.setenv(name, value)
    (tmp_path / "dagster.yaml").write_text((REPO_ROOT / path).read_text())
    config, _ = dagster_instance_config(str(tmp_path))
    assert config["run_monitoring"]["free_slots_after_run_end_seconds"] > 0
    assert config["run_monitoring"]["enabled"] is True


def test_kubernetes_run_launcher_config_matches_dagster_k8s_schema():
    from dagster_k8s import K8sRunLauncher

    instance = yaml.safe_load((REPO_ROOT / "deploy/kubernetes/dagster-instance.yaml").read_text())
    launcher = instance["run_launcher"]
    assert (launcher["module"], launcher["class"]) == ("dagster_k8s", "K8sRunLauncher")
    result = process_config(K8sRunLauncher.config_type(), launcher["config"])
    assert result.success, result.errors


def test_helm_values_render_the_same_limits_as_the_instance():
    values = yaml.safe_load((REPO_ROOT / "deploy/kubernetes/values.yaml").read_text())
    instance = yaml.safe_load((REPO_ROOT / "deploy/kubernetes/dagster-instance.yaml").read_text())
    queued = values["dagsterDaemon"]["runCoordinator"]["config"]["queuedRunCoordinator"]
    assert queued["maxConcurrentRuns"] == instance["concurrency"]["runs"]["max_concurrent_runs"]
    assert queued["tagConcurrencyLimits"] == instance["concurrency"]["runs"]["tag_concurrency_limits"]
    assert values["runLauncher"]["type"] == "K8sRunLauncher"
    k8s = values["runLauncher"]["config"]["k8sRunLauncher"]
    assert k8s["jobNamespace"] == instance["run_launcher"]["config"]["job_namespace"]
    assert [s["name"] for s in k8s["envSecrets"]] == instance["run_launcher"]["config"]["env_secrets"]
    monitoring = values["dagsterDaemon"]["runMonitoring"]
    assert monitoring["freeSlotsAfterRunEndSeconds"] == instance["run_monitoring"]["free_slots_after_run_end_seconds"]
    # Nothing secret is written into the chart values.
    text = (REPO_ROOT / "deploy/kubernetes/values.yaml").read_text().lower()
    assert "password:" not in text and "api_key" not in text
