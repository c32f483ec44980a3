"""catalog_ids_load: TMDb's daily id export of 1.24 million lines read and loaded into PostgreSQL.

    .venv/bin/python -m benchmarks.catalog_ids_load [--lines 1238234] [--json out.json] [--profile DIR]

A synthetic export shaped like the real one of 2026-08-31 (1,238,234 lines, 27.7 MB of gzip: ids
ascending with gaps and five out of order at the top, titles in many scripts, popularity with four
decimals, 2% `video`) is written to a temporary folder and served over HTTP from this process. A
child process (`--child`) then does exactly what the pipeline does: finds the day's file
(tmdb/id_export.find_export), streams, gunzips and parses it, and loads it with
warehouse/export_ids.load_export into a throwaway PostgreSQL database; the parent reads the child's
peak RSS (ru_maxrss with wait4) and its wall time. Day two is the same export plus 0.1% new ids:
its time, and that exactly those ids are reported new and none left.

Goals (issue 17): <= 60 s and <= 200 MB peak for the first day; the second day reports only the new
ids. Not a test: the numbers depend on the machine (BENCHMARKS.md).
"""

from __future__ import annotations

import argparse
import cProfile
import functools
import gzip
import json
import os
import pstats
import random
import subprocess
import sys
import threading
import time
from datetime import date, timedelta
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

NAME = "catalog_ids_load"
DESCRIPTION = ("TMDb's daily id export (1.24 million lines, 27.7 MB gzip) streamed into PostgreSQL: "
               "seconds and peak RSS of the loading process, then the next day's 0.1% new ids")
GOALS = {"seconds": "<= 60", "peak_rss_mb": "<= 200", "day_two": "reports exactly the new ids, none left"}
REAL_LINES = 1_238_234  # the movie export of 2026-08-31
QUICK_LINES = 250_000  # `python -m benchmarks --quick` must stay within 5 minutes
NEW_SHARE = 0.001
DAY = date(2026, 8, 31)
SEED = 17

_SYLLABLES = ["ka", "ri", "mo", "no", "sa", "to", "la", "be", "der", "un", "el", "the", "of", "vie", "amo",
              "night", "lo", "ve", "war", "shi", "zen", "ból", "ça", "ñu", "üb", "ø", "çi", "дом", "ночь",
              "любовь", "愛", "夜", "東京", "사랑", "밤", "حب", "ليل", "प्रेम", "रात", "ความ", "รัก"]


def _vocabulary(rng: random.Random, size: int = 20_000) -> list[str]:
    words = set()
    while len(words) < size:
        words.add("".join(rng.choice(_SYLLABLES) for _ in range(rng.randint(1, 4))).capitalize())
    return sorted(words)


def _line(tmdb_id: int, rng: random.Random, words: list[str]) -> str:
    title = " ".join(rng.choice(words) for _ in range(rng.choice((1, 2, 2, 3, 3, 4, 5))))
    if rng.random() < 0.1:
        title += f" {rng.randint(2, 12)}"
    popularity = 0.6 if rng.random() < 0.25 else round(0.6 + rng.paretovariate(1.4) - 1 + rng.random() * 2, 4)
    video = "true" if rng.random() < 0.02 else "false"
    return (f'{{"adult":false,"id":{tmdb_id},"original_title":{json.dumps(title, ensure_ascii=False)},'
            f'"popularity":{popularity},"video":{video}}}\n')


def write_exports(folder: Path, lines: int) -> dict:
    """Day one (`lines` lines) and day two (the same plus 0.1% new ids) as TMDb names them."""
    rng = random.Random(SEED)
    words = _vocabulary(rng)
    ids: list[int] = []
    next_id = 2
    while len(ids) < lines:
        if rng.random() < 0.8:  # about a fifth of the id space is deleted or never used
            ids.append(next_id)
        next_id += 1
    top = set(sorted(ids, key=lambda i: i % 7919)[:5])  # a few out of order at the top
    first = sorted(top) + [i for i in ids if i not in top]
    body = "".join(_line(i, rng, words) for i in first).encode("utf-8")
    new_ids = list(range(next_id + 10, next_id + 10 + int(round(lines * NEW_SHARE))))
    folder.mkdir(parents=True, exist_ok=True)
    day_one = folder / f"movie_ids_{DAY:%m_%d_%Y}.json.gz"
    day_one.write_bytes(gzip.compress(body, compresslevel=6))
    more = "".join(_line(i, rng, words) for i in new_ids).encode("utf-8")
    (folder / f"movie_ids_{DAY + timedelta(days=1):%m_%d_%Y}.json.gz").write_bytes(
        gzip.compress(body + more, compresslevel=6))
    return {"lines": lines, "gzip_mb": round(day_one.stat().st_size / 1e6, 2), "new_ids": new_ids}


class _Quiet(SimpleHTTPRequestHandler):
    def log_message(self, *args) -> None:
        pass


def serve(root: Path) -> ThreadingHTTPServer:
    server = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(_Quiet, directory=str(root)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


# --------------------------------------------------------------------------------------------- child

def child(base_url: str, day: date, database_url: str, out: Path, profile: Path | None, list_new: bool) -> None:
    """Find, stream and load one day's export, as the pipeline does; write what happened to `out`
    (with the ids reported new when `list_new`: on day two, 0.1% of them)."""
    from cinegraph_assets.tmdb.id_export import find_export
    from cinegraph_assets.warehouse import migrate
    from cinegraph_assets.warehouse.engine import get_engine
    from cinegraph_assets.warehouse.export_ids import load_export, new_ids

    migrate.upgrade(database_url)
    engine = get_engine(database_url)
    profiler = cProfile.Profile() if profile else None
    started = time.perf_counter()
    if profiler:
        profiler.enable()
    export = find_export(day, base_url=base_url, include_adult=False)
    loaded = load_export(engine, export.day, export.records(), include_adult=False)
    if profiler:
        profiler.disable()
        profiler.dump_stats(str(profile))
    seconds = time.perf_counter() - started
    with engine.connect() as conn:
        reported_new = new_ids(conn, export.day) if list_new else []
    gap_queries = _time_gap_queries(engine)
    out.write_text(json.dumps({
        **gap_queries,
        "seconds": round(seconds, 2), "lines": export.stats.lines, "malformed": export.stats.malformed,
        "bytes": export.stats.bytes_read, "ids": loaded.ids, "new_ids": loaded.new_ids,
        "left_ids": loaded.left_ids, "reported_new_ids": reported_new,
    }))


def _time_gap_queries(engine) -> dict:
    """The catalog's two whole-export queries on this export (no year imported: every id is the
    gap's): the accounting catalog_progress and the check run, and one gap batch's choice."""
    from datetime import datetime, timezone

    from cinegraph_assets.warehouse.details_queue import StalenessPolicy
    from cinegraph_assets.warehouse.catalog_gap import catalog_accounting, gap_todo

    with engine.connect() as conn:
        started = time.perf_counter()
        catalog_accounting(conn, include_adult=False)
        accounting_s = time.perf_counter() - started
        started = time.perf_counter()
        batch = gap_todo(conn, include_adult=False, now=datetime.now(timezone.utc), policy=StalenessPolicy(),
                         limit=10_000)
        gap_todo_s = time.perf_counter() - started
    return {"accounting_s": round(accounting_s, 2), "gap_todo_s": round(gap_todo_s, 2), "gap_batch": len(batch)}


def run_child(args: list[str], workdir: Path, name: str, profile_dir: Path | None) -> dict:
    """This module in a fresh process (`--child ARGS`): its report plus its peak RSS and CPU, read
    with wait4 (the high-water mark of that process alone: this one stays small)."""
    out = workdir / f"{name}.json"
    cmd = [sys.executable, "-m", "benchmarks.catalog_ids_load", *args, str(out)]
    if profile_dir:
        cmd += ["--profile", str(profile_dir / f"{name}.pstats")]
    started = time.monotonic()
    proc = subprocess.Popen(cmd, cwd=Path(__file__).resolve().parents[1])
    _, status, usage = os.wait4(proc.pid, 0)
    if os.waitstatus_to_exitcode(status) != 0:
        raise RuntimeError(f"{name}: the process failed (exit {os.waitstatus_to_exitcode(status)}): {cmd}")
    report = json.loads(out.read_text())
    report.update(peak_rss_mb=round(usage.ru_maxrss / 1024, 1), cpu_seconds=round(usage.ru_utime + usage.ru_stime, 2),
                  process_seconds=round(time.monotonic() - started, 2))
    return report


def run(workdir: Path, *, lines: int = REAL_LINES, profile_dir: Path | None = None,
        log=lambda line: None) -> dict:
    from benchmarks.harness import postgres_warehouse

    made = run_child(["--write", str(workdir / "p" / "exports"), str(lines)], workdir, "write", None)
    log(f"{NAME}: {lines:,} lines written ({made['gzip_mb']} MB gzip) in {made['process_seconds']:.0f} s")
    server = serve(workdir)
    base_url = f"http://127.0.0.1:{server.server_address[1]}"
    days = {"day_one": (DAY, False), "day_two": (DAY + timedelta(days=1), True)}
    loads = {}
    try:
        with postgres_warehouse() as database_url:
            for name, (day, list_new) in days.items():
                args = ["--child", base_url, day.isoformat(), database_url, "1" if list_new else "0"]
                loads[name] = run_child(args, workdir, name, profile_dir)
                log(f"{NAME}: {name} {loads[name]['seconds']} s, {loads[name]['peak_rss_mb']} MB")
    finally:
        server.shutdown()
        server.server_close()
    first, second = loads["day_one"], loads["day_two"]
    reported = sorted(second.pop("reported_new_ids"))
    first.pop("reported_new_ids")
    exact = reported == made["new_ids"] and second["new_ids"] == len(reported) and second["left_ids"] == 0
    return {
        "name": NAME, "lines": lines, "gzip_mb": made["gzip_mb"],
        "seconds": first["seconds"], "peak_rss_mb": first["peak_rss_mb"], "cpu_seconds": first["cpu_seconds"],
        "day_two_seconds": second["seconds"], "day_two_peak_rss_mb": second["peak_rss_mb"],
        "day_two_new_ids": second["new_ids"], "day_two_left_ids": second["left_ids"],
        "accounting_s": second["accounting_s"], "gap_todo_s": second["gap_todo_s"],
        "day_one": first, "day_two": second, "goals": GOALS,
        "met": {"seconds": first["seconds"] <= 60, "peak_rss_mb": first["peak_rss_mb"] <= 200, "day_two": exact}
        if lines >= REAL_LINES else {"day_two": exact},  # the time and memory goals are for the real size
    }


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m benchmarks.catalog_ids_load", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--lines", type=int, default=REAL_LINES)
    p.add_argument("--json", metavar="PATH")
    p.add_argument("--profile", metavar="PATH", help="cProfile the loading (in --child: the .pstats file)")
    p.add_argument("--child", nargs=5, metavar=("BASE_URL", "DAY", "DATABASE_URL", "LIST_NEW", "OUT"),
                   help=argparse.SUPPRESS)
    p.add_argument("--write", nargs=3, metavar=("FOLDER", "LINES", "OUT"), help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.child:
        base_url, day, database_url, list_new, out = args.child
        child(base_url, date.fromisoformat(day), database_url, Path(out),
              Path(args.profile) if args.profile else None, list_new == "1")
        return 0
    if args.write:
        folder, lines, out = args.write
        Path(out).write_text(json.dumps(write_exports(Path(folder), int(lines))))
        return 0
    import tempfile

    from benchmarks.harness import log, report

    with tempfile.TemporaryDirectory(prefix="cinegraph_ids_") as tmp:
        profile_dir = Path(args.profile).resolve() if args.profile else None
        if profile_dir:
            profile_dir.mkdir(parents=True, exist_ok=True)
        result = run(Path(tmp), lines=args.lines, profile_dir=profile_dir, log=log)
    if profile_dir:
        for stats in sorted(profile_dir.glob("*.pstats")):
            print(f"--- {stats.name}")
            pstats.Stats(str(stats)).sort_stats("cumulative").print_stats(18)
    return report(result, args.json)


if __name__ == "__main__":
    sys.exit(main())
