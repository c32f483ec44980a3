"""`python -m cinegraph_assets db-roles ...` and `python -m cinegraph_assets migrate`: the two
database commands of a production set-up (README, "Running in production")."""

from __future__ import annotations

import argparse
import sys

from sqlalchemy.engine import make_url

DEFAULT_CREDENTIALS_DIR = "/etc/cinegraph/db"


def db_roles(args: argparse.Namespace) -> int:
    from cinegraph_assets.production import roles

    try:
        role_plan = roles.plan_roles(args.admin_url, prefix=args.prefix, instance_db=args.instance_db,
                               warehouse_db=args.warehouse_db, credentials_dir=args.credentials_dir,
                               host=args.db_host, port=args.db_port)
        report = roles.create_roles(role_plan)
    except roles.RoleSetupError as error:
        print(f"db-roles: {error}", file=sys.stderr)
        return 2
    for line in report:
        print(line)
    print(f"next: run the warehouse migrations as {role_plan.role('owner')}: "
          f"(set -a; . {role_plan.env_file('owner')}; python -m cinegraph_assets migrate)")
    return 0


def migrate(args: argparse.Namespace) -> int:
    from cinegraph_assets.settings import SettingError
    from cinegraph_assets.warehouse import migrate as warehouse_migrate
    from cinegraph_assets.warehouse.engine import warehouse_url

    try:
        url = warehouse_url(args.database_url)
        before = warehouse_migrate.current_revision(url)
        warehouse_migrate.upgrade(url)
    except (SettingError, warehouse_migrate.SchemaChangeRefused) as error:
        print(f"migrate: {error}", file=sys.stderr)
        return 2
    shown = make_url(url).render_as_string(hide_password=True)
    after = warehouse_migrate.current_revision(url)
    change = "already at the newest revision" if before == after else f"{before or 'empty'} -> {after}"
    print(f"warehouse {shown}: {change}")
    return 0


def add_commands(commands: argparse._SubParsersAction) -> None:
    """Register db-roles and migrate on the `python -m cinegraph_assets` parser."""
    roles_parser = commands.add_parser(
        "db-roles", help="create the least-privilege PostgreSQL roles and their databases (once)")
    roles_parser.add_argument("--admin-url", required=True,
                              help="a superuser's URL, e.g. postgresql://postgres@127.0.0.1:5432/postgres")
    roles_parser.add_argument("--instance-db", default="dagster", help="the Dagster instance database")
    roles_parser.add_argument("--warehouse-db", default="cinegraph", help="the warehouse database")
    roles_parser.add_argument("--prefix", default="cinegraph",
                              help="role names are PREFIX_dagster, _owner, _run, _analyst")
    roles_parser.add_argument("--credentials-dir", default=DEFAULT_CREDENTIALS_DIR,
                              help="where instance.env, owner.env, run.env, analyst.env are written (0600)")
    roles_parser.add_argument("--db-host",
                              help="host the services use to reach PostgreSQL (default: the admin URL's)")
    roles_parser.add_argument("--db-port", type=int, help="port the services use (default: the admin URL's)")
    roles_parser.set_defaults(handler=db_roles)
    migrate_parser = commands.add_parser(
        "migrate", help="bring the warehouse schema to the newest revision (as the warehouse owner role)")
    migrate_parser.add_argument("--database-url", default=None,
                                help="warehouse URL of the owner role (default: CINEGRAPH_DATABASE_URL)")
    migrate_parser.set_defaults(handler=migrate)
