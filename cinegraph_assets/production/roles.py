"""PostgreSQL roles for production, each with only the rights its part of the platform needs.

    <prefix>_dagster   owns the Dagster instance database: the webservers, the daemon and every run
                       keep run history, schedules and event logs there (Dagster migrates it itself)
    <prefix>_owner     owns the warehouse database and its schema: runs the Alembic migrations
                       (`python -m cinegraph_assets migrate`), nothing else
    <prefix>_run       what runs and sensors use: reads and writes warehouse rows (SELECT, INSERT,
                       UPDATE, DELETE, sequences), TEMP for the COPY staging tables; no DDL
    <prefix>_analyst   SELECT on the warehouse tables, read-only sessions; cannot even connect to the
                       instance database

`create_roles` is idempotent: run it again after a restore or to adopt a warehouse the superuser
built (tables it finds are handed to the owner role). Default privileges cover every table later
migrations create. Passwords are generated once and kept in one env file per role in the
credentials directory (mode 0600); the server only ever receives their SCRAM verifiers.
"""

from __future__ import annotations

import os
import re
import secrets
from dataclasses import dataclass
from pathlib import Path

import psycopg2
from psycopg2 import sql
from psycopg2.extensions import encrypt_password
from sqlalchemy.engine import URL, make_url

PREFIX_PATTERN = re.compile(r"^[a-z_][a-z0-9_]{0,40}$")
ROLE_KINDS = ("dagster", "owner", "run", "analyst")
#: pg_class.relkind -> the ALTER statement that changes such a relation's owner.
_ALTER_BY_KIND = {"r": "TABLE", "p": "TABLE", "f": "FOREIGN TABLE", "v": "VIEW",
                  "m": "MATERIALIZED VIEW", "S": "SEQUENCE"}


class RoleSetupError(ValueError):
    """db-roles cannot do what was asked; the message names the option or the fix."""


@dataclass(frozen=True)
class RolePlan:
    admin_url: str
    prefix: str
    instance_db: str
    warehouse_db: str
    credentials_dir: Path
    #: How the services reach PostgreSQL (may differ from the admin's address).
    host: str
    port: int

    def role(self, kind: str) -> str:
        return f"{self.prefix}_{kind}"

    def env_file(self, kind: str) -> Path:
        return self.credentials_dir / f"{'instance' if kind == 'dagster' else kind}.env"


def plan_roles(admin_url: str, *, prefix: str, instance_db: str, warehouse_db: str,
               credentials_dir: str | Path, host: str | None = None, port: int | None = None) -> RolePlan:
    """Check the arguments (before any connection) and return what create_roles will do."""
    if not PREFIX_PATTERN.match(prefix):
        raise RoleSetupError(f"--prefix {prefix!r}: expected lower-case letters, digits and _ (role "
                             "names are <prefix>_dagster, <prefix>_owner, <prefix>_run, <prefix>_analyst)")
    if instance_db == warehouse_db:
        raise RoleSetupError("--instance-db and --warehouse-db must be two databases: the analyst role "
                             "reads the warehouse and must not reach the instance's run logs")
    url = make_url(admin_url)
    if url.get_backend_name() != "postgresql":
        raise RoleSetupError(f"--admin-url: expected a postgresql:// URL of a superuser, got "
                             f"{url.render_as_string(hide_password=True)}")
    return RolePlan(admin_url=admin_url, prefix=prefix, instance_db=instance_db, warehouse_db=warehouse_db,
                    credentials_dir=Path(credentials_dir), host=host or url.host or "127.0.0.1",
                    port=port or url.port or 5432)


# --- credentials files ---------------------------------------------------------------------------

def _read_env(path: Path) -> dict[str, str]:
    if not path.exists():
        return {}
    pairs = (line.split("=", 1) for line in path.read_text().splitlines() if "=" in line)
    return {key.strip(): value.strip() for key, value in pairs}


def _existing_password(role_plan: RolePlan, kind: str) -> str | None:
    env = _read_env(role_plan.env_file(kind))
    if kind == "dagster":
        return env.get("DAGSTER_PG_PASSWORD") or None
    url = env.get("CINEGRAPH_DATABASE_URL")
    return make_url(url).password if url else None


def _env_lines(role_plan: RolePlan, kind: str, password: str) -> dict[str, str]:
    if kind == "dagster":
        return {"DAGSTER_PG_HOST": role_plan.host, "DAGSTER_PG_PORT": str(role_plan.port),
                "DAGSTER_PG_USER": role_plan.role(kind), "DAGSTER_PG_PASSWORD": password,
                "DAGSTER_PG_DB": role_plan.instance_db}
    url = URL.create("postgresql", username=role_plan.role(kind), password=password, host=role_plan.host,
                     port=role_plan.port, database=role_plan.warehouse_db)
    return {"CINEGRAPH_DATABASE_URL": url.render_as_string(hide_password=False)}


def write_credentials(role_plan: RolePlan) -> dict[str, str]:
    """One env file per role (kept passwords, new ones where there was none); {kind: password}.

    Written before any role changes, so a failure half-way never leaves a password nobody knows.
    """
    role_plan.credentials_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    passwords = {}
    for kind in ROLE_KINDS:
        password = _existing_password(role_plan, kind) or secrets.token_urlsafe(24)
        path = role_plan.env_file(kind)
        text = "".join(f"{key}={value}\n" for key, value in _env_lines(role_plan, kind, password).items())
        # Created 0600 from the start: the password is never readable by others, not even briefly.
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(text)
        os.chmod(path, 0o600)
        passwords[kind] = password
    return passwords


# --- SQL -----------------------------------------------------------------------------------------

def _connect(url: str, database: str | None = None):
    args = make_url(url).translate_connect_args(username="user", database="dbname")
    if database:
        args["dbname"] = database
    try:
        conn = psycopg2.connect(connect_timeout=10, **args)
    except psycopg2.OperationalError as error:
        shown = make_url(url).set(database=args.get("dbname")).render_as_string(hide_password=True)
        raise RoleSetupError(f"cannot connect to {shown}: {str(error).strip().splitlines()[0]} "
                             "(check --admin-url)") from None
    conn.autocommit = True
    return conn


def _check_admin(cursor, role_plan: RolePlan) -> None:
    cursor.execute("SELECT current_user, rolsuper FROM pg_roles WHERE rolname = current_user")
    user, superuser = cursor.fetchone()
    if not superuser:
        raise RoleSetupError(f"--admin-url connects as {user!r}, which is not a superuser: creating roles "
                             "and handing over databases needs one (postgresql://postgres@HOST/postgres)")
    if user in {role_plan.role(kind) for kind in ROLE_KINDS}:
        raise RoleSetupError(f"--prefix {role_plan.prefix!r} would change the role you are connected as "
                             f"({user})")


def _ensure_role(cursor, conn, name: str, password: str) -> str:
    verifier = encrypt_password(password, name, conn)
    cursor.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (name,))
    verb = "ALTER ROLE {} WITH" if cursor.fetchone() else "CREATE ROLE {} WITH"
    cursor.execute(sql.SQL(verb + " LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS "
                           "INHERIT PASSWORD {}").format(sql.Identifier(name), sql.Literal(verifier)))
    return "updated" if verb.startswith("ALTER") else "created"


def _ensure_database(cursor, name: str, owner: str) -> str:
    cursor.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,))
    exists = cursor.fetchone() is not None
    statement = "ALTER DATABASE {} OWNER TO {}" if exists else "CREATE DATABASE {} OWNER {}"
    cursor.execute(sql.SQL(statement).format(sql.Identifier(name), sql.Identifier(owner)))
    # CONNECT and TEMP are PUBLIC's by default: only the roles granted below may connect.
    cursor.execute(sql.SQL("REVOKE ALL ON DATABASE {} FROM PUBLIC").format(sql.Identifier(name)))
    return "handed over" if exists else "created"


def _adopt_schema(cursor, owner: str) -> int:
    """The public schema and every relation in it belong to `owner` (tables a superuser made before
    these roles existed included); returns how many relations changed hands."""
    cursor.execute(sql.SQL("ALTER SCHEMA public OWNER TO {}").format(sql.Identifier(owner)))
    cursor.execute("REVOKE ALL ON SCHEMA public FROM PUBLIC")
    cursor.execute("""
        SELECT c.relname, c.relkind FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p', 'f', 'v', 'm', 'S')
          AND pg_get_userbyid(c.relowner) <> %s
          -- a sequence owned by a table column follows its table
          AND NOT (c.relkind = 'S' AND EXISTS (
              SELECT 1 FROM pg_depend d WHERE d.objid = c.oid AND d.deptype IN ('a', 'i')))
        ORDER BY c.relkind DESC, c.relname""", (owner,))
    relations = cursor.fetchall()
    for name, kind in relations:
        cursor.execute(sql.SQL("ALTER {} public.{} OWNER TO {}").format(
            sql.SQL(_ALTER_BY_KIND[kind]), sql.Identifier(name), sql.Identifier(owner)))
    return len(relations)


def _grant_warehouse(cursor, role_plan: RolePlan) -> None:
    owner, run, analyst = (sql.Identifier(role_plan.role(kind)) for kind in ("owner", "run", "analyst"))
    database = sql.Identifier(role_plan.warehouse_db)
    statements = [
        # The COPY staging tables of the bulk writes are session TEMP tables.
        "GRANT CONNECT, TEMPORARY ON DATABASE {db} TO {run}",
        "GRANT CONNECT ON DATABASE {db} TO {analyst}",
        "GRANT USAGE ON SCHEMA public TO {run}, {analyst}",
        "GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {run}",
        "GRANT USAGE, SELECT, UPDATE ON ALL SEQUENCES IN SCHEMA public TO {run}",
        "GRANT SELECT ON ALL TABLES IN SCHEMA public TO {analyst}",
        # Tables and sequences the owner creates in later migrations get the same grants.
        "ALTER DEFAULT PRIVILEGES FOR ROLE {owner} IN SCHEMA public "
        "GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO {run}",
        "ALTER DEFAULT PRIVILEGES FOR ROLE {owner} IN SCHEMA public "
        "GRANT USAGE, SELECT, UPDATE ON SEQUENCES TO {run}",
        "ALTER DEFAULT PRIVILEGES FOR ROLE {owner} IN SCHEMA public GRANT SELECT ON TABLES TO {analyst}",
        "ALTER ROLE {analyst} SET default_transaction_read_only = on",
    ]
    for statement in statements:
        cursor.execute(sql.SQL(statement).format(db=database, owner=owner, run=run, analyst=analyst))


def create_roles(role_plan: RolePlan) -> list[str]:
    """Create or update the four roles, hand them the two databases, grant; what was done, as lines."""
    admin = _connect(role_plan.admin_url)
    try:
        with admin.cursor() as cursor:
            _check_admin(cursor, role_plan)
            passwords = write_credentials(role_plan)
            report = [f"credentials: {role_plan.env_file(kind)}" for kind in ROLE_KINDS]
            for kind in ROLE_KINDS:
                done = _ensure_role(cursor, admin, role_plan.role(kind), passwords[kind])
                report.append(f"role {role_plan.role(kind)}: {done}")
            for database, kind in ((role_plan.instance_db, "dagster"), (role_plan.warehouse_db, "owner")):
                done = _ensure_database(cursor, database, role_plan.role(kind))
                report.append(f"database {database}: {done}, owned by {role_plan.role(kind)}")
    finally:
        admin.close()
    for database, kind in ((role_plan.instance_db, "dagster"), (role_plan.warehouse_db, "owner")):
        conn = _connect(role_plan.admin_url, database)
        try:
            with conn.cursor() as cursor:
                adopted = _adopt_schema(cursor, role_plan.role(kind))
                if database == role_plan.warehouse_db:
                    _grant_warehouse(cursor, role_plan)
        finally:
            conn.close()
        if adopted:
            report.append(f"database {database}: {adopted} existing tables/sequences handed to "
                          f"{role_plan.role(kind)}")
    return report
