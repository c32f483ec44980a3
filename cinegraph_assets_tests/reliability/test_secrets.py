"""API keys never leave the process that uses them: after runs that succeed, retry through faults
and fail on a refused key, no key is in the Dagster storage (event log, run records, compute logs),
in the warehouse, or in anything printed or logged."""

from __future__ import annotations

import logging
import sqlite3
import uuid
from pathlib import Path

import dagster as dg
import pytest
import sqlalchemy as sa

from cinegraph_assets.omdb.assets import omdb_ratings
from cinegraph_assets.omdb.resource import OMDbResource
from cinegraph_assets.resources import WarehouseResource
from cinegraph_assets.tmdb.assets import tmdb_assets
from cinegraph_assets.tmdb.resource import TMDbResource

YEAR = 1983


class _Everything(logging.Handler):
    """Keeps every log record of every logger, formatted, with exception texts."""

    def __init__(self):
        super().__init__(level=logging.DEBUG)
        self.texts: list[str] = []
        self.setFormatter(logging.Formatter("%(name)s %(levelname)s %(message)s"))

    def emit(self, record: logging.LogRecord) -> None:
        self.texts.append(self.format(record))


def _files_containing(root: Path, secrets: list[str]) -> list[str]:
    found = []
    for path in root.rglob("*"):
        if path.is_file():
            data = path.read_bytes()
            found += [f"{path}: {s[:8]}..." for s in secrets if s.encode() in data]
    return found


def _sqlite_rows_containing(root: Path, secrets: list[str]) -> list[str]:
    """Every row of every table of every SQLite database under root, as text (the raw file bytes
    are searched too, but a row can be spread over pages)."""
    found = []
    for path in root.rglob("*.db"):
        conn = sqlite3.connect(path)
        try:
            for (table,) in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'"):
                for row in conn.execute(f'SELECT * FROM "{table}"'):
                    text = repr(row)
                    found += [f"{path}:{table}" for s in secrets if s in text]
        finally:
            conn.close()
    return found


def _warehouse_values_containing(url: str, secrets: list[str]) -> list[str]:
    engine = sa.create_engine(url)
    found = []
    try:
        metadata = sa.MetaData()
        metadata.reflect(engine)
        with engine.connect() as conn:
            for table in metadata.sorted_tables:
                for row in conn.execute(sa.select(table)):
                    text = repr(tuple(row))
                    found += [table.name for s in secrets if s in text]
    finally:
        engine.dispose()
    return found


@pytest.mark.slow
def test_keys_never_reach_storage_warehouse_or_output(sandbox_factory, tmp_path, monkeypatch, capfd):
    tmdb_key = f"k3y-tmdb-{uuid.uuid4().hex}"
    omdb_key = f"k3y-omdb-{uuid.uuid4().hex}"
    wrong_tmdb_key = f"k3y-tmdb-refused-{uuid.uuid4().hex}"
    wrong_omdb_key = f"k3y-omdb-refused-{uuid.uuid4().hex}"
    secrets = [tmdb_key, omdb_key, wrong_tmdb_key, wrong_omdb_key]
    sandbox = sandbox_factory(seed=23, year_size=[f"{YEAR}=80"], detail_size="small",
                              tmdb_api_key=tmdb_key, omdb_api_key=omdb_key,
                              fault_rate=0.15, slow_seconds=2)
    home = tmp_path / "dagster_home_with_keys"
    home.mkdir()
    warehouse_url = f"sqlite:///{tmp_path / 'warehouse.sqlite'}"
    monkeypatch.setenv("TMDB_BASE_URL", sandbox.tmdb_url)
    monkeypatch.setenv("OMDB_BASE_URL", sandbox.omdb_url)
    monkeypatch.setenv("CINEGRAPH_STATE_DIR", str(tmp_path / "state"))
    monkeypatch.setenv("TMDB_TIMEOUT_SECONDS", "1")  # the sandbox's slow answers time out
    monkeypatch.setenv("TMDB_MAX_RPS", "200")
    everything = _Everything()
    root = logging.getLogger()
    old_level = root.level
    root.addHandler(everything)
    root.setLevel(logging.DEBUG)  # urllib3 logs request lines (with their query) at DEBUG
    # An earlier test in the session may have run logging.config.dictConfig, which disables every
    # logger that existed then (urllib3's among them): re-enable them so nothing escapes the search.
    silenced = [lg for lg in logging.root.manager.loggerDict.values()
                if isinstance(lg, logging.Logger) and (lg.disabled or lg.level > logging.DEBUG)]
    saved = [(lg, lg.disabled, lg.level) for lg in silenced]
    for lg in silenced:
        lg.disabled = False
        lg.setLevel(logging.NOTSET)
    assets = [*tmdb_assets, omdb_ratings]
    resources = {"tmdb": TMDbResource(), "omdb": OMDbResource(),
                 "warehouse": WarehouseResource(database_url=warehouse_url)}
    try:
        with dg.instance_for_test(temp_dir=str(home)) as instance:
            # 1. Refused keys: both runs fail, their exception texts are stored.
            monkeypatch.setenv("TMDB_API_KEY", wrong_tmdb_key)
            failed = dg.materialize(tmdb_assets, partition_key=str(YEAR), instance=instance,
                                    resources=resources, raise_on_error=False)
            assert not failed.success
            # 2. The right keys, through 15% faults (retries, timeouts, truncated bodies).
            monkeypatch.setenv("TMDB_API_KEY", tmdb_key)
            monkeypatch.setenv("OMDB_API_KEY", omdb_key)
            done = dg.materialize(assets, partition_key=str(YEAR), instance=instance, resources=resources,
                                  raise_on_error=False)
            assert done.success
            # 3. A refused OMDb key.
            monkeypatch.setenv("OMDB_API_KEY", wrong_omdb_key)
            refused = dg.materialize(assets, selection=["omdb_ratings"], partition_key=str(YEAR),
                                     instance=instance, resources=resources, raise_on_error=False)
            assert not refused.success
            records = [repr(r) for r in instance.get_run_records()]
            events = [repr(e) for run in instance.get_runs() for e in instance.all_logs(run.run_id)]
    finally:
        root.removeHandler(everything)
        root.setLevel(old_level)
        for lg, disabled, level in saved:
            lg.disabled, lg.level = disabled, level
    stats = sandbox.stats()
    assert sum(stats["faults"].values()) > 0  # the failing-request paths were taken
    assert stats["requests"]["/3/discover/movie"].get("401", 0) >= 1

    printed = capfd.readouterr()
    assert [s[:8] for s in secrets if s in printed.out + printed.err] == []
    assert [s[:8] for s in secrets if any(s in text for text in everything.texts)] == []
    assert [s[:8] for s in secrets if any(s in text for text in records + events)] == []
    # The search had something to search: urllib3's request lines (the ones that would carry
    # ?api_key=...) and the runs' events.
    request_lines = [t for t in everything.texts if t.startswith("urllib3") and "/3/discover/movie" in t]
    assert request_lines and len(events) > 20
    assert _files_containing(home, secrets) == []
    assert _sqlite_rows_containing(home, secrets) == []
    assert _warehouse_values_containing(warehouse_url, secrets) == []
    assert _files_containing(tmp_path / "state", secrets) == []
    compute_logs = [p for p in home.rglob("*") if p.is_file() and p.suffix in (".out", ".err", ".complete")]
    assert compute_logs, "no compute logs were captured to search"
