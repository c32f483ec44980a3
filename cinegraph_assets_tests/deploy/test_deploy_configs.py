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


def kubernetes_documents(path: str) -> list[dict]:
    """The manifests of a file, each checked against the Kubernetes API model of its kind: a
    missing required field fails, and so does a misspelt one (the round trip would drop it)."""
    from kubernetes.client import ApiClient

    api = ApiClient()
    documents = [d for d in yaml.safe_load_all((REPO_ROOT / path).read_text()) if d]
    for document in documents:
        model = api._ApiClient__deserialize(document, f"V1{document['kind']}")
        assert api.sanitize_for_serialization(model) == document, f"{path}: {document['kind']} has unknown fields"
    return documents


def test_every_way_into_a_webserver_goes_through_a_login():
    values = yaml.safe_load((REPO_ROOT / "deploy/kubernetes/values.yaml").read_text())
    assert values["dagsterWebserver"]["enableReadOnly"] is True
    assert values["dagsterWebserver"]["service"]["type"] == "ClusterIP"
    assert values["ingress"]["enabled"] is False  # one rule for both webservers is not enough

    ingresses = [d for d in kubernetes_documents("deploy/kubernetes/ingress.yaml") if d["kind"] == "Ingress"]
    webservers = {"cinegraph-dagster-webserver": "allowed_groups=cinegraph-operators",
                  "cinegraph-dagster-webserver-read-only": "allowed_groups=cinegraph-viewers,cinegraph-operators"}
    routed = set()
    for ingress in ingresses:
        hosts = {rule["host"] for rule in ingress["spec"]["rules"]}
        assert hosts <= {host for tls in ingress["spec"]["tls"] for host in tls["hosts"]}, "a host without TLS"
        for rule in ingress["spec"]["rules"]:
            for path in rule["http"]["paths"]:
                service = path["backend"]["service"]["name"]
                if service in webservers:
                    auth_url = ingress["metadata"]["annotations"]["nginx.ingress.kubernetes.io/auth-url"]
                    assert auth_url.endswith(webservers[service]), (ingress["metadata"]["name"], auth_url)
                    routed.add(service)
                else:  # served before a login: only the sign-in pages
                    assert (service, path["path"]) == ("oauth2-proxy", "/oauth2")
    assert routed == set(webservers)


def test_roles_not_the_superuser_reach_the_databases():
    values = yaml.safe_load((REPO_ROOT / "deploy/kubernetes/values.yaml").read_text())
    assert values["postgresql"]["postgresqlUsername"] == "cinegraph_dagster"
    (job,) = kubernetes_documents("deploy/kubernetes/migrate-job.yaml")
    container = job["spec"]["template"]["spec"]["containers"][0]
    assert container["command"][-1] == "migrate"
    assert container["envFrom"] == [{"secretRef": {"name": "cinegraph-warehouse-owner"}}]
    for path in ("deploy/dagster.yaml", "deploy/kubernetes/dagster-instance.yaml"):
        storage = yaml.safe_load((REPO_ROOT / path).read_text())["storage"]["postgres"]["postgres_db"]
        assert storage["username"] == {"env": "DAGSTER_PG_USER"}, path


def test_the_production_recipe_shows_only_the_safe_way():
    """README's production section: webservers on 127.0.0.1 behind the proxy, the superuser only
    in the command that creates the roles."""
    section = (REPO_ROOT / "README.md").read_text().split("## Running in production")[1].split("\n## ")[0]
    lines = section.splitlines()
    webservers = [line for line in lines if "bin/dagster-webserver " in line]
    assert len(webservers) == 2 and all(" -h 127.0.0.1 " in line for line in webservers)
    assert sum("--read-only" in line for line in webservers) == 1
    assert "0.0.0.0" not in section and "render.py" in section
    assert [line for line in lines if "postgres@" in line or "=postgres" in line] == [
        line for line in lines if "db-roles --admin-url postgresql://postgres@" in line]
