"""Staging details responses as the JSON text TMDb sent (staging.stage_response_texts): the release
year hint PostgreSQL computes (release_year_sql) is the one Python computes (payload_year), and a
batch with an unreadable or a NUL-carrying response still stages the others, on both dialects."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
import sqlalchemy as sa

from cinegraph_assets.warehouse import failed_fetches, schema, staging
from cinegraph_assets.warehouse.engine import get_engine
from cinegraph_assets.warehouse.migrate import upgrade
from cinegraph_assets_tests.support.movies import NOW, movie_payload

MISSING = object()  # the payload has no release_date key at all

# (case id, release_date value): every shape the year hint must agree on across the two dialects.
RELEASE_DATES = [
    ("date", "2024-05-01"),
    ("empty", ""),
    ("missing", MISSING),
    ("null", None),
    ("number", 2024),
    ("feb-30", "2024-02-30"),
    ("leap-day", "2024-02-29"),
    ("not-a-leap-day", "2023-02-29"),
    ("century-not-leap", "1900-02-29"),
    ("century-leap", "2000-02-29"),
    ("year-zero", "0000-01-01"),
    ("month-13", "2024-13-01"),
    ("one-digit-month", "2024-1-01"),
    ("timestamp", "2024-05-01T00:00:00"),
    ("letters", "abcd-ef-gh"),
    ("nested-object", {"date": "2024-05-01"}),
    ("last-day-of-year-9999", "9999-12-31"),
    ("day-zero", "2024-05-00"),
    ("leading-space", " 2024-05-01"),
]
EXPECTED_YEARS = {
    "date": 2024, "leap-day": 2024, "century-leap": 2000, "timestamp": 2024, "last-day-of-year-9999": 9999,
}


def payload_with(release_date) -> dict:
    payload = {"id": 1, "title": "x"}
    if release_date is not MISSING:
        payload["release_date"] = release_date
    return payload


@pytest.fixture
def engine(warehouse_url):
    upgrade(warehouse_url)
    return get_engine(warehouse_url)


@pytest.fixture
def pg_engine(postgres_warehouse_url):
    upgrade(postgres_warehouse_url)
    return get_engine(postgres_warehouse_url)


def staged(engine) -> dict[int, dict]:
    st = schema.tmdb_details_staging
    with engine.connect() as conn:
        rows = conn.execute(sa.select(st.c.tmdb_id, st.c.release_year, st.c.payload, st.c.fetched_at)).all()
    return {r.tmdb_id: {"release_year": r.release_year, "payload": r.payload,
                        "fetched_at": r.fetched_at.replace(tzinfo=None)} for r in rows}


@pytest.mark.parametrize("case,release_date", RELEASE_DATES, ids=[c for c, _ in RELEASE_DATES])
def test_payload_year_reads_only_real_calendar_dates(case, release_date):
    assert staging.payload_year(payload_with(release_date)) == EXPECTED_YEARS.get(case)


@pytest.mark.postgres
def test_release_year_sql_agrees_with_payload_year(pg_engine):
    """Over jsonb literals (constant-folded by the planner) and over a table's rows (evaluated per
    row, as staging does): a cast or make_date the nested CASEs should have kept from running
    would raise here, and a disagreement shows which case."""
    literals, from_table = {}, {}
    with pg_engine.begin() as conn:
        conn.exec_driver_sql("CREATE TEMP TABLE years (name text, payload jsonb)")
        for case, release_date in RELEASE_DATES:
            text = json.dumps(payload_with(release_date))
            literals[case] = conn.execute(sa.text(
                f"SELECT {staging.release_year_sql('(CAST(:p AS jsonb))->' + repr('release_date'))}"),
                {"p": text}).scalar_one()
            conn.execute(sa.text("INSERT INTO years VALUES (:n, CAST(:p AS jsonb))"), {"n": case, "p": text})
        from_table = dict(conn.exec_driver_sql(
            f"SELECT name, {staging.release_year_sql('release_date')} FROM "
            "(SELECT name, payload->'release_date' AS release_date FROM years OFFSET 0) AS y").all())
    expected = {case: staging.payload_year(payload_with(value)) for case, value in RELEASE_DATES}
    assert literals == expected
    assert from_table == expected


@pytest.mark.postgres
def test_the_staged_release_year_is_payload_years_for_every_shape(pg_engine, monkeypatch):
    """Through the real path (COPY, then the merge computing release_year in SQL): a good batch
    never takes the decode-in-Python fallback."""
    def no_fallback(*_args):
        raise AssertionError("a good batch fell back to decoding in Python")

    monkeypatch.setattr(staging, "save_raw_details", no_fallback)
    items = [(i, json.dumps({**payload_with(value), "id": i}), NOW)
             for i, (_case, value) in enumerate(RELEASE_DATES, start=1)]
    with pg_engine.begin() as conn:
        assert staging.stage_response_texts(conn, items) == []
    rows = staged(pg_engine)
    assert {i: rows[i]["release_year"] for i in rows} == {
        i: staging.payload_year(payload_with(value)) for i, (_case, value) in enumerate(RELEASE_DATES, start=1)}


def test_a_good_batch_is_staged_with_its_year_and_clears_its_failures(engine):
    with engine.begin() as conn:
        failed_fetches.record_fetch_failures(conn, 2024, [(1, "timeout", None), (2, "http_503", 503),
                                                          (9, "timeout", None)], NOW - timedelta(hours=1))
    texts = [(1, json.dumps(movie_payload(1, "2024-05-01")), NOW),
             (2, json.dumps(movie_payload(2, "1999-12-31")), NOW),
             (3, json.dumps(movie_payload(3, "")), NOW)]
    with engine.begin() as conn:
        assert staging.stage_response_texts(conn, texts) == []
    rows = staged(engine)
    assert {i: r["release_year"] for i, r in rows.items()} == {1: 2024, 2: 1999, 3: None}
    assert rows[1]["payload"] == movie_payload(1, "2024-05-01")  # stored as the text said
    assert rows[2]["fetched_at"] == NOW.replace(tzinfo=None)
    with engine.connect() as conn:
        assert [f["tmdb_id"] for f in failed_fetches.fetch_failures(conn, 2024)] == [9]


def test_an_unreadable_text_is_returned_and_the_rest_of_the_batch_is_staged(engine):
    """One text is not JSON, one carries a \\u0000 escape PostgreSQL's JSONB cannot hold: the batch
    COPY fails on PostgreSQL and falls back; the NUL one is kept (without U+0000 on PostgreSQL)."""
    nul = movie_payload(2, title="Nul\x00Title")
    assert "\\u0000" in json.dumps(nul)
    texts = [(1, json.dumps(movie_payload(1)), NOW),
             (2, json.dumps(nul), NOW),
             (3, '{"id": 3, "title": "cut', NOW),
             (4, '{"id": 4, "title": }', NOW),  # braces at both ends, still not JSON
             (5, json.dumps(movie_payload(5)), NOW)]
    with engine.begin() as conn:
        failed_fetches.record_fetch_failures(conn, 2024, [(3, "timeout", None)], NOW - timedelta(hours=1))
        assert sorted(staging.stage_response_texts(conn, texts)) == [3, 4]
    rows = staged(engine)
    assert sorted(rows) == [1, 2, 5]
    assert rows[1]["payload"] == movie_payload(1) and rows[5]["release_year"] == 2024
    title = rows[2]["payload"]["title"]
    assert title.replace("\x00", "") == "NulTitle"
    if engine.dialect.name == "postgresql":
        assert title == "NulTitle"
    with engine.connect() as conn:
        # Nothing of the unreadable one was staged, so its earlier failure still stands.
        assert [f["tmdb_id"] for f in failed_fetches.fetch_failures(conn, 2024)] == [3]


def test_a_text_that_is_json_but_not_an_object_is_unreadable(engine):
    texts = [(1, "[1, 2]", NOW), (2, '"text"', NOW), (3, json.dumps(movie_payload(3)), NOW)]
    with engine.begin() as conn:
        assert sorted(staging.stage_response_texts(conn, texts)) == [1, 2]
    assert sorted(staged(engine)) == [3]


def test_an_older_response_never_replaces_a_newer_staged_one(engine):
    older, newer = NOW - timedelta(days=1), NOW
    with engine.begin() as conn:
        staging.stage_response_texts(conn, [(1, json.dumps(movie_payload(1, title="new")), newer)])
    with engine.begin() as conn:
        staging.stage_response_texts(conn, [(1, json.dumps(movie_payload(1, "1999-01-01", title="old")), older),
                                            (2, json.dumps(movie_payload(2)), older)])
    rows = staged(engine)
    assert rows[1]["payload"]["title"] == "new" and rows[1]["release_year"] == 2024
    assert rows[1]["fetched_at"] == newer.replace(tzinfo=None)
    with engine.begin() as conn:  # a newer one does replace it
        staging.stage_response_texts(conn, [(1, json.dumps(movie_payload(1, "1999-01-01", title="newest")),
                                             newer + timedelta(hours=1))])
    rows = staged(engine)
    assert (rows[1]["payload"]["title"], rows[1]["release_year"]) == ("newest", 1999)


def test_an_id_twice_in_one_batch_keeps_the_newer_response(engine):
    texts = [(1, json.dumps(movie_payload(1, title="newer")), NOW),
             (1, json.dumps(movie_payload(1, "1999-01-01", title="older")), NOW - timedelta(minutes=5)),
             (2, json.dumps(movie_payload(2, title="first")), NOW - timedelta(minutes=5)),
             (2, json.dumps(movie_payload(2, "2001-01-01", title="second")), NOW)]
    with engine.begin() as conn:
        assert staging.stage_response_texts(conn, texts) == []
    rows = staged(engine)
    assert (rows[1]["payload"]["title"], rows[1]["release_year"]) == ("newer", 2024)
    assert (rows[2]["payload"]["title"], rows[2]["release_year"]) == ("second", 2001)


def test_texts_with_every_character_copy_escapes_arrive_intact(engine):
    """Backslashes, escaped quotes, tabs and newlines inside and between the JSON tokens are
    exactly what the COPY text format must escape."""
    payload = movie_payload(1, title='Tab\there "quoted" back\\slash\nnew line\r\u00e9\u2603\U0001F600')
    text = json.dumps(payload, ensure_ascii=False, indent="\t").replace("\n", "\r\n")
    with engine.begin() as conn:
        assert staging.stage_response_texts(conn, [(1, text, NOW)]) == []
    assert staged(engine)[1]["payload"] == payload


def test_a_failed_batch_leaves_the_callers_transaction_usable(engine):
    """The PostgreSQL fallback runs inside the caller's transaction: the refused COPY must not
    abort it, and the temp table must not keep rows for the next batch of the same transaction."""
    with engine.begin() as conn:
        assert staging.stage_response_texts(conn, [(1, "{not json}", NOW), (2, json.dumps(movie_payload(2)), NOW)]) == [1]
        assert staging.stage_response_texts(conn, [(3, json.dumps(movie_payload(3)), NOW)]) == []
        failed_fetches.record_fetch_failures(conn, 2024, [(1, "invalid_json", 200)], NOW)
    assert sorted(staged(engine)) == [2, 3]


@pytest.mark.postgres
@pytest.mark.parametrize("text", ['{"id": 1, "x": NaN}', '{"id": 1, "x": Infinity}', '{"id": 1, "x": "\\ud800"}'],
                         ids=["nan", "infinity", "lone-surrogate"])
def test_json_python_reads_but_postgresql_refuses_costs_only_that_response(pg_engine, text):
    with pg_engine.begin() as conn:
        unreadable = staging.stage_response_texts(conn, [(1, text, NOW), (2, json.dumps(movie_payload(2)), NOW)])
    # Python's json reads these, JSONB refuses them: that response alone is unreadable.
    assert unreadable == [1]
    assert set(staged(pg_engine)) == {2}
