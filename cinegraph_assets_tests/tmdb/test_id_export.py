"""Reading TMDb's daily id export: the real sample, the fallback to earlier days, a truncated gzip, a
download cut short, malformed lines. No warehouse here (see integration/test_id_export.py)."""

from __future__ import annotations

import functools
import gzip
import shutil
import threading
from datetime import date, timedelta
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer

import pytest

from cinegraph_assets.tmdb import id_export
from cinegraph_assets.tmdb.id_export import (
    DailyExport, ExportError, ExportNotPublished, ExportTruncated, export_url, find_export, new_session, parse_line,
)
from cinegraph_assets.warehouse.export_ids import ExportId
from cinegraph_assets_tests.support.shared_data import shared_data
from cinegraph_assets_tests.tmdb.fake_tmdb import FakeTMDb, Reply

DAY = date(2026, 8, 31)
SANDBOX_TODAY = date(2026, 11, 21)


class _QuietFiles(SimpleHTTPRequestHandler):
    def log_message(self, *args) -> None:
        pass


@pytest.fixture
def files(tmp_path):
    """A static file server (GET and HEAD, 404 for what is not there) over tmp_path/p/exports."""
    folder = tmp_path / "p" / "exports"
    folder.mkdir(parents=True)
    server = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(_QuietFiles, directory=str(tmp_path)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    server.folder = folder
    server.url = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()


def test_the_real_export_sample_parses_line_by_line(files):
    sample = shared_data("tmdb", "daily_export_sample", "movie_ids_sample.json.gz")
    shutil.copy(sample, files.folder / f"movie_ids_{DAY:%m_%d_%Y}.json.gz")
    export = find_export(DAY, base_url=files.url, include_adult=False)
    records = list(export.records())
    assert export.day == DAY and export.urls == [f"{files.url}/p/exports/movie_ids_08_31_2026.json.gz"]
    assert [r.tmdb_id for r in records][:6] == [3924, 6124, 8773, 25449, 31975, 2]  # the real file's order
    assert len(records) == 18 and export.stats.lines == 18 and export.stats.malformed == 0
    assert export.stats.bytes_read == sample.stat().st_size
    assert records[2] == ExportId(8773, False, False, 3.305, "L'amour à vingt ans")
    assert [r.tmdb_id for r in records if r.video] == [31975]


def test_the_first_lines_of_a_real_days_movie_and_adult_files_parse():
    first_lines = shared_data("tmdb", "daily_export_sample", "first_lines_of_each_export_2026-08-31.jsonl")
    import json

    lines = {row["file"]: json.dumps(row["first_line"]) for row in map(json.loads, first_lines.read_text().splitlines())}
    assert parse_line(lines["movie_ids_08_31_2026.json.gz"]) == ExportId(3924, False, False, 1.8133, "Blondie")
    assert parse_line(lines["adult_movie_ids_08_31_2026.json.gz"]) == ExportId(
        26228, True, False, 0.0, "Rocco - Perfect Girls 5")


@pytest.mark.parametrize("line, reason", [
    (b'{"adult":false,"id":', "not JSON"),
    (b"<html>502</html>", "not JSON"),
    (b"[1, 2]", "not a JSON object"),
    (b'{"adult":false,"id":"tt0137523","popularity":1.0,"video":false}', "id is not a positive whole number"),
    (b'{"adult":false,"popularity":1.0,"video":false}', "id is not a positive whole number"),
    (b'{"adult":false,"id":true}', "id is not a positive whole number"),
    (b'{"adult":"no","id":5}', "adult or video is not true or false"),
    (b'{"id":5,"popularity":"high"}', "popularity is not a number"),
    (b'{"id":5,"popularity":NaN}', "not JSON"),
    (b'\xff\xfe{"id":5}', "not JSON"),
    (b'{"id":5,"original_title":42}', "original_title is not a string"),
])
def test_a_line_that_is_not_a_movie_record_says_why(line, reason):
    assert parse_line(line) == reason


def test_missing_flags_are_false_and_missing_values_none():
    assert parse_line(b'{"id":7,"adult":null}') == ExportId(7, False, False, None, None)


def test_falls_back_to_the_newest_of_three_earlier_days(files):
    for back in (2, 3):
        (files.folder / f"movie_ids_{DAY - timedelta(days=back):%m_%d_%Y}.json.gz").write_bytes(
            gzip.compress(b'{"adult":false,"id":%d,"original_title":"x","popularity":1,"video":false}\n' % back))
    export = find_export(DAY, base_url=files.url, include_adult=False)
    assert export.day == DAY - timedelta(days=2)
    assert [r.tmdb_id for r in export.records()] == [2]
    # The adult file is needed too: a day where only the movie file is out does not count.
    (files.folder / f"adult_movie_ids_{DAY - timedelta(days=3):%m_%d_%Y}.json.gz").write_bytes(gzip.compress(b""))
    assert find_export(DAY, base_url=files.url, include_adult=True).day == DAY - timedelta(days=3)


def test_nothing_published_in_four_days_names_the_setting_and_every_url_tried(files):
    (files.folder / f"movie_ids_{DAY - timedelta(days=4):%m_%d_%Y}.json.gz").write_bytes(gzip.compress(b""))
    with pytest.raises(ExportNotPublished) as raised:
        find_export(DAY, base_url=files.url, include_adult=False)
    message = str(raised.value)
    assert "TMDB_EXPORTS_BASE_URL" in message and "08:00 UTC" in message
    for back in range(4):
        assert export_url(files.url, "movie_ids", DAY - timedelta(days=back)) in message
    assert "08_27_2026" not in message


def test_before_eight_utc_the_sandbox_export_of_yesterday_is_read(sandbox_factory):
    sb = sandbox_factory(year_size=["2024=50"], detail_size="small")
    sb.advance(1)
    sb.configure(time_of_day="06:30")
    today = SANDBOX_TODAY + timedelta(days=1)
    export = find_export(today, base_url=sb.exports_url, include_adult=True)
    assert export.day == SANDBOX_TODAY
    assert [u.rsplit("/", 1)[1] for u in export.urls] == ["movie_ids_11_21_2026.json.gz",
                                                          "adult_movie_ids_11_21_2026.json.gz"]
    records = list(export.records())
    assert any(r.adult for r in records) and any(not r.adult for r in records)
    assert export.stats.records == len(records) == len({r.tmdb_id for r in records})

    sb.configure(time_of_day="08:00")
    assert find_export(today, base_url=sb.exports_url, include_adult=True).day == today


def test_a_truncated_gzip_stops_the_read_with_the_url_and_what_to_do(sandbox_factory):
    sb = sandbox_factory(year_size=["2024=50"], detail_size="small")
    sb.configure(export_faults="truncated")
    export = find_export(SANDBOX_TODAY, base_url=sb.exports_url, include_adult=False)
    read = []
    with pytest.raises(ExportTruncated) as raised:
        for record in export.records():
            read.append(record)
    message = str(raised.value)
    assert export.urls[0] in message and "incomplete" in message and "run again" in message
    assert len(read) > 1000  # the stream got far before the end was missing: the loader must drop it all

    sb.configure(export_faults="malformed")
    export = find_export(SANDBOX_TODAY, base_url=sb.exports_url, include_adult=False)
    records = list(export.records())
    stats = export.stats
    assert stats.malformed == 3 and stats.lines == len(records) + 3 and stats.records == len(records)
    assert [(m.line, m.reason) for m in stats.malformed_examples][0] == (2, "not JSON")
    assert {m.reason for m in stats.malformed_examples} == {"not JSON", "id is not a positive whole number"}
    report = stats.malformed_report()
    assert report.startswith("3 malformed line(s) skipped") and "movie_ids_11_21_2026.json.gz line 2" in report


def test_a_download_cut_short_is_truncated_too():
    body = gzip.compress(b"".join(b'{"adult":false,"id":%d,"video":false}\n' % i for i in range(1, 20_000)))
    with FakeTMDb(lambda request: Reply(body=body, truncate=True)) as fake:
        export = DailyExport(DAY, [fake.url + "/movie_ids.json.gz"], new_session(), timeout=10)
        with pytest.raises(ExportTruncated, match="movie_ids.json.gz"):
            list(export.records())


def test_only_a_few_malformed_lines_are_kept_as_examples(files):
    lines = b"".join(b"oops %d\n" % i for i in range(id_export.MALFORMED_EXAMPLES + 4))
    (files.folder / f"movie_ids_{DAY:%m_%d_%Y}.json.gz").write_bytes(gzip.compress(lines + b'{"id":9}\n\n'))
    export = find_export(DAY, base_url=files.url, include_adult=False)
    assert [r.tmdb_id for r in export.records()] == [9]
    assert export.stats.malformed == id_export.MALFORMED_EXAMPLES + 4
    assert [m.line for m in export.stats.malformed_examples] == list(range(1, id_export.MALFORMED_EXAMPLES + 1))


def test_a_file_that_is_not_gzip_is_refused_and_several_gzip_members_are_one_file(files):
    (files.folder / f"movie_ids_{DAY:%m_%d_%Y}.json.gz").write_text("<html>Access Denied</html>")
    with pytest.raises(ExportError, match="not a readable gzip file.*TMDB_EXPORTS_BASE_URL"):
        list(find_export(DAY, base_url=files.url, include_adult=False).records())
    members = b"".join(gzip.compress(b'{"id":%d}\n' % i) for i in (1, 2, 3))
    (files.folder / f"movie_ids_{DAY:%m_%d_%Y}.json.gz").write_bytes(members)
    assert [r.tmdb_id for r in find_export(DAY, base_url=files.url, include_adult=False).records()] == [1, 2, 3]
