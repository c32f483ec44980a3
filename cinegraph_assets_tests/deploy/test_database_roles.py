"""Least-privilege PostgreSQL roles, for real: `python -m cinegraph_assets db-roles` creates them
on the machine's server, the owner role migrates the warehouse with `python -m cinegraph_assets
migrate`, and a year is imported (TMDb, OMDb, Oscars, against the sandbox) with the run role on a
Dagster instance kept by the instance role. No superuser after the first command.

What a user would notice: the year arrives complete; the run role cannot change the schema (and
says which command to run instead of trying); the analyst reads every table and can neither write
nor look into the instance database.
"""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
import sys
import uuid
from pathlib import Path

import dagster as dg
import psycopg2
import pytest
import sqlalchemy as sa
from sqlalchemy.engine import make_url

from benchmarks.postgres import ADMIN_URL, database_url, drop_databases_and_roles
from cinegraph_assets.omdb.assets import omdb_ratings
from cinegraph_assets.omdb.resource import OMDbResource
from cinegraph_assets.oscars.assets import oscar_nominations
from cinegraph_assets.oscars.resource import OscarsSourceResource
from cinegraph_assets.resources import WarehouseResource
from cinegraph_assets.tmdb.assets import tmdb_assets
from cinegraph_assets.warehouse import migrate
from cinegraph_assets_tests.reliability.helpers import run_failure_text, tmdb_resource
from cinegraph_assets_tests.support.dagster_processes import REPO_ROOT

pytestmark = [pytest.mark.postgres]

YEAR = 2003
ROLE_KINDS = ("dagster", "owner", "run", "analyst")
INSUFFICIENT_PRIVILEGE = "42501"


@pytest.fixture
def cluster_names():
    """A unique role prefix and database names; all dropped afterwards, whatever happened."""
    prefix = f"cgt_{uuid.uuid4().hex[:10]}"
    names = {"prefix": prefix, "instance_db": f"{prefix}_instance", "warehouse_db": f"{prefix}_warehouse"}
    try:
        yield names
    finally:
        drop_databases_and_roles([names["instance_db"], names["warehouse_db"]],
                                 [f"{prefix}_{kind}" for kind in ROLE_KINDS])


def cinegraph_command(*args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "cinegraph_assets", *args], capture_output=True, text=True,
                          cwd=REPO_ROOT, env={**os.environ, **(env or {})}, timeout=120)


def create_roles(names: dict, credentials: Path) -> dict[str, dict[str, str]]:
    """Run the documented command; the env files it wrote, parsed."""
    result = cinegraph_command("db-roles", "--admin-url", ADMIN_URL, "--prefix", names["prefix"],
                               "--instance-db", names["instance_db"], "--warehouse-db", names["warehouse_db"],
                               "--credentials-dir", str(credentials))
    assert result.returncode == 0, result.stdout + result.stderr
    files = {}
    for name in ("instance", "owner", "run", "analyst"):
        path = credentials / f"{name}.env"
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
        files[name] = dict(line.split("=", 1) for line in path.read_text().splitlines())
    password = make_url(files["run"]["CINEGRAPH_DATABASE_URL"]).password
    assert password and password not in result.stdout + result.stderr
    return files


def sql_error_code(url: str, statement: str, read_write: bool = False) -> str | None:
    """SQLSTATE of `statement` run as the URL's role (None: it succeeded)."""
    conn = psycopg2.connect(**make_url(url).translate_connect_args(username="user", database="dbname"))
    conn.autocommit = True
    try:
        with conn.cursor() as cursor:
            if read_write:  # the analyst's sessions start read-only: prove the grants, not the default
                cursor.execute("SET SESSION CHARACTERISTICS AS TRANSACTION READ WRITE")
            cursor.execute(statement)
        return None
    except psycopg2.Error as error:
        return error.pgcode
    finally:
        conn.close()


def connect_error(url: str) -> str:
    try:
        psycopg2.connect(**make_url(url).translate_connect_args(username="user", database="dbname")).close()
    except psycopg2.OperationalError as error:
        return str(error)
    return ""


def materialize_year(sandbox, state_dir: Path, instance=None):
    return dg.materialize(
        [*tmdb_assets, omdb_ratings, oscar_nominations], partition_key=str(YEAR), instance=instance,
        resources={"tmdb": tmdb_resource(sandbox, state_dir), "warehouse": WarehouseResource(),
                   "omdb": OMDbResource(base_url=sandbox.omdb_url, api_key="sandbox"),
                   "oscars_source": OscarsSourceResource(source_url=sandbox.oscars_url, state_dir=str(state_dir))},
        raise_on_error=False)


def test_a_year_is_imported_by_the_runtime_roles_and_none_can_exceed_its_rights(
        cluster_names, sandbox_factory, tmp_path, monkeypatch):
    sandbox = sandbox_factory(year_size=[f"{YEAR}=60"], detail_size="small")
    credentials = create_roles(cluster_names, tmp_path / "credentials")
    owner_url = credentials["owner"]["CINEGRAPH_DATABASE_URL"]
    run_url = credentials["run"]["CINEGRAPH_DATABASE_URL"]
    analyst_url = credentials["analyst"]["CINEGRAPH_DATABASE_URL"]
    monkeypatch.setenv("CINEGRAPH_DATABASE_URL", run_url)

    # The run role finds the warehouse behind the code: no DDL attempted, a message naming the fix.
    sandbox.reset_stats()
    refused = materialize_year(sandbox, tmp_path / "state")
    assert not refused.success
    text = run_failure_text(refused)
    assert "python -m cinegraph_assets migrate" in text and f"{cluster_names['prefix']}_run" in text, text
    assert sandbox.stats()["api_requests"] == 0
    assert sa.inspect(sa.create_engine(owner_url)).get_table_names() == []

    # The owner role migrates (the documented command), then runs work with the run role.
    migrated = cinegraph_command("migrate", env={"CINEGRAPH_DATABASE_URL": owner_url})
    assert migrated.returncode == 0, migrated.stderr
    assert f"empty -> {migrate.head_revision()}" in migrated.stdout
    migrate._upgraded.clear()  # as in a fresh run process

    home = Path(os.environ["DAGSTER_HOME"])
    shutil.copyfile(REPO_ROOT / "deploy" / "dagster.yaml", home / "dagster.yaml")
    for name, value in credentials["instance"].items():
        monkeypatch.setenv(name, value)
    with dg.DagsterInstance.get() as instance:
        result = materialize_year(sandbox, tmp_path / "state", instance=instance)
        assert result.success, run_failure_text(result)
        assert instance.get_latest_materialization_event(dg.AssetKey("movies")) is not None

    # The analyst reads what the runs wrote, and cannot write it, even in a read-write session.
    engine = sa.create_engine(analyst_url)
    with engine.connect() as conn:
        ids = set(conn.execute(sa.text("SELECT tmdb_id FROM movies WHERE release_year = :y"), {"y": YEAR}).scalars())
        assert ids == sandbox.truth(YEAR)
        assert conn.execute(sa.text("SELECT count(*) FROM omdb_movies")).scalar() > 0
        assert conn.execute(sa.text("SELECT count(*) FROM tmdb_rate_limit")).scalar() == 1
    engine.dispose()
    status = cinegraph_command("status", env={"CINEGRAPH_DATABASE_URL": analyst_url,
                                              "DAGSTER_HOME": str(tmp_path / "analyst_home")})
    assert status.returncode == 0 and str(YEAR) in status.stdout, status.stdout + status.stderr
    for statement in ("INSERT INTO omdb_quota_ledger VALUES ('2001-01-01', 1, 1)",
                      "UPDATE movies SET title = 'x'", "DELETE FROM movie_ratings",
                      "CREATE TABLE mine (x int)", "CREATE TEMP TABLE mine (x int)"):
        assert sql_error_code(analyst_url, statement, read_write=True) == INSUFFICIENT_PRIVILEGE, statement
    instance_db = database_url(cluster_names["instance_db"])
    for kind in ("analyst", "run"):
        role_on_instance_db = make_url(instance_db).set(username=f"{cluster_names['prefix']}_{kind}")
        assert "permission denied for database" in connect_error(
            role_on_instance_db.render_as_string(hide_password=False)), kind

    # The run role cannot change the schema.
    for statement in ("DROP TABLE movies", "ALTER TABLE movies ADD COLUMN x int", "TRUNCATE movies",
                      "CREATE TABLE mine (x int)", "CREATE INDEX ix_mine ON movies (title)"):
        assert sql_error_code(run_url, statement) == INSUFFICIENT_PRIVILEGE, statement

    # A table a later migration adds is covered by the default privileges.
    assert sql_error_code(owner_url, "CREATE TABLE later_migration (x int)") is None
    assert sql_error_code(run_url, "INSERT INTO later_migration VALUES (1)") is None
    assert sql_error_code(analyst_url, "SELECT x FROM later_migration") is None


def test_a_warehouse_the_superuser_built_is_handed_to_the_owner_role(cluster_names, tmp_path):
    """Today's deployments ran everything as postgres: db-roles adopts their tables."""
    admin = sa.create_engine(ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{cluster_names["warehouse_db"]}"'))
    admin.dispose()
    superuser_url = database_url(cluster_names["warehouse_db"])
    migrate.upgrade(superuser_url)

    credentials = create_roles(cluster_names, tmp_path / "credentials")

    engine = sa.create_engine(superuser_url)
    with engine.connect() as conn:
        owners = set(conn.execute(sa.text("SELECT tableowner FROM pg_tables WHERE schemaname = 'public'")).scalars())
    engine.dispose()
    assert owners == {f"{cluster_names['prefix']}_owner"}
    run_url = credentials["run"]["CINEGRAPH_DATABASE_URL"]
    assert sql_error_code(run_url, "INSERT INTO omdb_quota_ledger VALUES ('2001-01-01', 1, 1)") is None
    assert sql_error_code(run_url, "DROP TABLE omdb_quota_ledger") == INSUFFICIENT_PRIVILEGE
    # Running it again changes nothing and keeps the passwords the services already use.
    assert create_roles(cluster_names, tmp_path / "credentials") == credentials

    # Only a superuser may run it; the refusal names the option, before anything is written.
    refused = cinegraph_command("db-roles", "--admin-url", credentials["owner"]["CINEGRAPH_DATABASE_URL"],
                                "--prefix", "cgt_other", "--credentials-dir", str(tmp_path / "other"))
    assert refused.returncode == 2
    assert refused.stderr.startswith(f"db-roles: --admin-url connects as '{cluster_names['prefix']}_owner', "
                                     "which is not a superuser"), refused.stderr
    assert not (tmp_path / "other").exists()
