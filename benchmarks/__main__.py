"""Run the benchmarks: `python -m benchmarks [--quick] [--json PATH] [--only NAMES] [--list]`.

Each run starts its own sandboxes (subprocesses on free ports) and its own warehouses (SQLite files
in a temporary directory; a throwaway PostgreSQL database for unthrottled_import), and writes one
JSON object per measurement, each with the machine, the settings and its fields.

Schedule (the machine is shared and noisy, so ratios are measured side by side in one run):
1. side by side: the import at R=40 and the import at R=20 (two sandboxes, two warehouses, two
   rate-limit state directories; both are bound by their rate limit, not by the CPU). After the
   R=40 import, on the same sandbox and warehouse: resync_unchanged, then seed_baseline (the old way).
   memory is the peak RSS of the R=40 import's process.
2. alone (CPU-bound, so nothing else of ours runs meanwhile): unthrottled_import on PostgreSQL,
   backfill_overhead, sandbox_throughput, long_run, catalog_ids_load (PostgreSQL; the real export's
   1.24 million lines in full mode, 250,000 in quick mode), catalog_gap_fill (two imported years,
   then the export and the gap fill until nothing remains), rederive (PostgreSQL; a 38,000-movie
   year of stored responses in full mode, 2,000 in quick mode).
"""

from __future__ import annotations

import argparse
import importlib
import json
import shutil
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

from benchmarks import backfill_overhead, catalog_gap_fill, catalog_ids_load, long_run, memory, rate_limited_import, resync_unchanged
from benchmarks import rederive, seed_baseline
from benchmarks import unthrottled_import
from benchmarks.harness import (
    REPO, Parallel, Sandbox, load_average, log, machine_info, postgres_reachable, postgres_warehouse,
    sqlite_warehouse, temp_workdir,
)

SANDBOX_THROUGHPUT = "sandbox_throughput"
MEASUREMENTS = {
    rate_limited_import.NAME: rate_limited_import.DESCRIPTION,
    seed_baseline.NAME: seed_baseline.DESCRIPTION,
    unthrottled_import.NAME: unthrottled_import.DESCRIPTION,
    resync_unchanged.NAME: resync_unchanged.DESCRIPTION,
    memory.NAME: memory.DESCRIPTION,
    backfill_overhead.NAME: backfill_overhead.DESCRIPTION,
    SANDBOX_THROUGHPUT: "the sandbox's own speed at zero latency (benchmarks/sandbox_throughput.py, "
                        "when present): it must never be what a benchmark measures",
    long_run.NAME: long_run.DESCRIPTION,
    catalog_ids_load.NAME: catalog_ids_load.DESCRIPTION,
    catalog_gap_fill.NAME: catalog_gap_fill.DESCRIPTION,
    rederive.NAME: rederive.DESCRIPTION,
}

YEAR = 2024
#: quick: <= 5 minutes on the 2-core machine; full: `make bench` (about 40 minutes).
MODES = {
    # 4,230 in the sandbox's year = 4,000 importable movies (the rest are adult titles, which TMDb
    # and TMDB_INCLUDE_ADULT leave out by default).
    "quick": {"movies": 4230, "scale": "demo", "unthrottled_movies": 1500, "baseline_movies": 10,
              "backfill_years": list(range(1900, 1920)), "launched_runs": 1,
              # to fit 5 minutes, the backfill runs while the R=20 import (rate-bound) finishes
              "backfill_beside_r20": True},
    "full": {"movies": 38000, "scale": "bench", "unthrottled_movies": 10000, "baseline_movies": 30,
             "backfill_years": list(range(1900, 1920)), "launched_runs": 2, "backfill_beside_r20": False},
}
LATENCY_MS = 100.0
RATES = (40.0, 20.0)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--quick", action="store_true", help="4,000-movie years: at most 5 minutes")
    p.add_argument("--json", metavar="PATH", help="write the results here (one object per measurement)")
    p.add_argument("--list", action="store_true", help="list the measurements and exit")
    p.add_argument("--only", metavar="NAMES", default="",
                   help="comma-separated measurements to run (their prerequisites run too)")
    p.add_argument("--movies", type=int, help="override the year's size (rate-limited imports)")
    p.add_argument("--unthrottled-movies", type=int, help="override the unthrottled year's size")
    p.add_argument("--sequential", action="store_true",
                   help="run the R=40 and R=20 imports one after the other instead of side by side")
    p.add_argument("--profile", metavar="DIR",
                   help="sample every import process with py-spy (raw collapsed stacks in DIR)")
    p.add_argument("--keep", action="store_true", help="keep the temporary directory (logs, warehouses)")
    return p.parse_args(argv)


def selected(args: argparse.Namespace) -> list[str]:
    if not args.only:
        return list(MEASUREMENTS)
    names = [n.strip() for n in args.only.split(",") if n.strip()]
    unknown = [n for n in names if n not in MEASUREMENTS]
    if unknown:
        raise SystemExit(f"unknown measurement(s) {unknown}; run `python -m benchmarks --list`")
    return names


class Run:
    """One benchmark run: its settings, temporary directory and collected measurements."""

    def __init__(self, args: argparse.Namespace):
        self.args = args
        self.mode = "quick" if args.quick else "full"
        self.config = dict(MODES[self.mode])
        if args.movies:
            self.config["movies"] = args.movies
        if args.unthrottled_movies:
            self.config["unthrottled_movies"] = args.unthrottled_movies
        self.names = selected(args)
        self.workdir = temp_workdir()
        self.profile_dir = Path(args.profile).resolve() if args.profile else None
        self.machine = machine_info()
        self.records: list[dict] = []
        self.imports: dict[str, dict] = {}
        self.errors: list[str] = []
        self.beside_r20 = (self.config["backfill_beside_r20"] and self.want(rate_limited_import.NAME)
                           and not args.sequential)

    def want(self, *names: str) -> bool:
        return any(n in self.names for n in names)

    def sandbox(self, name: str, **options) -> Sandbox:
        size = options.pop("movies", None)
        scale = options.pop("scale", self.config["scale"])
        if size is not None:
            options["year_size"] = [f"{YEAR}={size}"]
            if scale == "bench":
                # The bench scale also puts 12,000 movies on one placeholder date of last year; keep
                # the measured year at the 38,000 (the crowded day has its own tests).
                options["crowded_date"] = "none"
        return Sandbox(scale=scale, name=name, log_dir=self.workdir, **options).start()

    def add(self, record: dict) -> None:
        record = {"name": record.pop("name"), "mode": self.mode, "machine": self.machine, **record}
        self.records.append(record)

    # ------------------------------------------------------------------ phase 1
    def rate_limited(self, rate: float) -> None:
        label = f"r{int(rate)}"
        sandbox = self.sandbox(label, movies=self.config["movies"], max_rps=rate, latency_ms=LATENCY_MS)
        try:
            truth = len(sandbox.truth(YEAR))
            settings = {"year": YEAR, "sandbox": sandbox.settings(), "client_max_rps": rate,
                        "client_max_workers": "TMDB_MAX_WORKERS default", "warehouse": "sqlite",
                        "side_by_side": not self.args.sequential}
            with sqlite_warehouse(self.workdir, label) as url:
                first = rate_limited_import.import_year(
                    sandbox, url, self.workdir, f"{label}_import", YEAR, max_rps=rate,
                    profile="py-spy" if self.profile_dir else None, profile_dir=self.profile_dir)
                self.imports[label] = first
                self.add(rate_limited_import.shape(first, max_rps=rate, truth_movies=truth, settings=settings))
                if rate != RATES[0]:
                    return
                if self.want(memory.NAME):
                    self.add(memory.shape(first, settings=settings))
                if self.want(resync_unchanged.NAME):
                    again = rate_limited_import.import_year(
                        sandbox, url, self.workdir, f"{label}_resync", YEAR, max_rps=rate,
                        state_dir=self.workdir / f"{label}_import.state",
                        profile="py-spy" if self.profile_dir else None, profile_dir=self.profile_dir)
                    self.add(resync_unchanged.shape(first, again, settings=settings))
                if self.want(seed_baseline.NAME):
                    ids = sorted(sandbox.truth(YEAR))[: self.config["baseline_movies"]]
                    log(f"{seed_baseline.NAME}: {len(ids)} movies the old way on the R={rate:g} sandbox")
                    base = seed_baseline.run(sandbox, ids)
                    ours = first["movies"] / first["seconds"]
                    base["ours_movies_per_s"] = round(ours, 3)
                    base["speedup"] = round(ours / base["movies_per_s"], 1)
                    base["settings"] = {**settings, "sleep_seconds": seed_baseline.SLEEP_SECONDS,
                                        "calls_per_movie": 1 + len(seed_baseline.SUB_RESOURCES)}
                    self.add({"name": seed_baseline.NAME, **base})
        finally:
            sandbox.stop()
        if self.want(backfill_overhead.NAME) and self.beside_r20:
            self._guard(backfill_overhead.NAME, self.backfill)

    def phase_one(self) -> None:
        rates = [RATES[0]]
        if self.want(rate_limited_import.NAME):
            rates.append(RATES[1])
        if self.args.sequential or len(rates) == 1:
            for rate in rates:
                self._guard(f"R={rate:g}", self.rate_limited, rate)
            return
        parallel = Parallel()
        for rate in rates:
            parallel.start(f"R={rate:g}", self._guard, f"R={rate:g}", self.rate_limited, rate)
        parallel.join()

    # ------------------------------------------------------------------ phase 2
    def unthrottled(self) -> None:
        if not postgres_reachable():
            raise RuntimeError("PostgreSQL is not reachable on 127.0.0.1:5432 (run `make postgres`)")
        n = self.config["unthrottled_movies"]
        sandbox = self.sandbox("unthrottled", movies=n, detail_size="full")
        try:
            truth = len(sandbox.truth(YEAR))
            with postgres_warehouse() as url:
                result = rate_limited_import.import_year(
                    sandbox, url, self.workdir, "unthrottled_import", YEAR,
                    max_rps=unthrottled_import.UNLIMITED_RPS,
                    profile="py-spy" if self.profile_dir else None, profile_dir=self.profile_dir)
            settings = {"year": YEAR, "sandbox": sandbox.settings(), "warehouse": "postgresql",
                        "client_max_rps": unthrottled_import.UNLIMITED_RPS,
                        "client_max_workers": "TMDB_MAX_WORKERS default"}
            self.add(unthrottled_import.shape(result, truth_movies=truth, settings=settings))
        finally:
            sandbox.stop()

    def backfill(self) -> None:
        sandbox = self.sandbox("backfill", scale="demo")
        try:
            with sqlite_warehouse(self.workdir, "backfill") as url:
                settings = {"sandbox": sandbox.settings(), "warehouse": "sqlite",
                            "instance": "DagsterInstance with SQLite storage in a temporary DAGSTER_HOME",
                            "client_max_rps": 1_000_000,
                            "beside": "the R=20 import (rate-bound)" if self.beside_r20 else None}
                self.add(backfill_overhead.run(sandbox, url, self.workdir, self.config["backfill_years"],
                                               launched=self.config["launched_runs"], settings=settings))
        finally:
            sandbox.stop()

    def sandbox_throughput(self) -> None:
        try:
            module = importlib.import_module("benchmarks.sandbox_throughput")
        except ModuleNotFoundError:
            log("benchmarks/sandbox_throughput.py is not there yet: skipped")
            self.add({"name": SANDBOX_THROUGHPUT, "skipped": "benchmarks/sandbox_throughput.py is missing"})
            return
        result = run_sandbox_throughput(module, quick=self.mode == "quick", workdir=self.workdir)
        self.add({"name": SANDBOX_THROUGHPUT, **result})

    def long_run(self) -> None:
        quick = self.mode == "quick"
        days = long_run.QUICK_DAYS if quick else long_run.FULL_DAYS
        step = long_run.QUICK_STEP_DAYS if quick else long_run.FULL_STEP_DAYS
        log(f"{long_run.NAME}: {days} simulated days in steps of {step}")
        self.add(long_run.run(self.workdir / "long_run", days, step, log=lambda line: None))

    def catalog_ids_load(self) -> None:
        if not postgres_reachable():
            raise RuntimeError("PostgreSQL is not reachable on 127.0.0.1:5432 (run `make postgres`)")
        lines = catalog_ids_load.QUICK_LINES if self.mode == "quick" else catalog_ids_load.REAL_LINES
        workdir = self.workdir / catalog_ids_load.NAME
        workdir.mkdir()
        self.add(catalog_ids_load.run(workdir, lines=lines, profile_dir=self.profile_dir, log=log))

    def catalog_gap_fill(self) -> None:
        workdir = self.workdir / catalog_gap_fill.NAME
        self.add(catalog_gap_fill.run(workdir, year_size=catalog_gap_fill.SIZES[self.mode], log=log))

    def rederive(self) -> None:
        if not postgres_reachable():
            raise RuntimeError("PostgreSQL is not reachable on 127.0.0.1:5432 (run `make postgres`)")
        movies = rederive.QUICK_MOVIES if self.mode == "quick" else rederive.FULL_MOVIES
        for record in rederive.run(movies, profile_dir=self.profile_dir, log=log):
            self.add(record)

    # ------------------------------------------------------------------ driver
    def _guard(self, label: str, fn, *args) -> None:
        try:
            fn(*args)
        except Exception as exc:
            message = f"{label}: {type(exc).__name__}: {exc}"
            log("FAILED " + message)
            self.errors.append(message)

    def run(self) -> dict:
        started = time.time()
        log(f"{self.mode} run: {', '.join(self.names)}; work in {self.workdir}")
        load0 = load_average()
        if self.want(rate_limited_import.NAME, seed_baseline.NAME, resync_unchanged.NAME, memory.NAME):
            self.phase_one()
        if self.want(unthrottled_import.NAME):
            self._guard(unthrottled_import.NAME, self.unthrottled)
        if self.want(backfill_overhead.NAME) and not self.beside_r20:
            self._guard(backfill_overhead.NAME, self.backfill)
        if self.want(SANDBOX_THROUGHPUT):
            self._guard(SANDBOX_THROUGHPUT, self.sandbox_throughput)
        if self.want(long_run.NAME):
            self._guard(long_run.NAME, self.long_run)
        if self.want(catalog_ids_load.NAME):
            self._guard(catalog_ids_load.NAME, self.catalog_ids_load)
        if self.want(catalog_gap_fill.NAME):
            self._guard(catalog_gap_fill.NAME, self.catalog_gap_fill)
        if self.want(rederive.NAME):
            self._guard(rederive.NAME, self.rederive)
        order = list(MEASUREMENTS)
        self.records.sort(key=lambda r: (order.index(r["name"]), -r.get("max_rps", 0)))
        result = {
            "mode": self.mode,
            "started_at": datetime.fromtimestamp(started, timezone.utc).isoformat(timespec="seconds"),
            "total_seconds": round(time.time() - started, 1),
            "machine": self.machine,
            "load_average_at_start": load0,
            "settings": {**self.config, "year": YEAR, "latency_ms": LATENCY_MS, "rates": list(RATES),
                         "side_by_side": not self.args.sequential},
            "errors": self.errors,
            "measurements": self.records,
        }
        if not self.args.keep:
            shutil.rmtree(self.workdir, ignore_errors=True)
        return result


def run_sandbox_throughput(module, *, quick: bool, workdir: Path) -> dict:
    """Call the sandbox room's benchmark through whichever entry point it offers."""
    for name in ("measure", "run", "benchmark"):
        fn = getattr(module, name, None)
        if callable(fn):
            try:
                out = fn(quick=quick)
            except TypeError:
                out = fn()
            return out if isinstance(out, dict) else {"result": out}
    import subprocess

    out_path = workdir / "sandbox_throughput.json"
    proc = subprocess.run([sys.executable, "-m", "benchmarks.sandbox_throughput", "--json", str(out_path)],
                          cwd=REPO, capture_output=True, text=True, timeout=600)
    if out_path.exists():
        return json.loads(out_path.read_text())
    return {"returncode": proc.returncode, "output": (proc.stdout + proc.stderr)[-2000:]}


def summary_line(record: dict) -> str:
    keys = ("max_rps", "movies", "requests", "seconds", "efficiency", "requests_per_movie", "floor_seconds",
            "rate_limited_429", "movies_per_s", "speedup", "cpu_seconds", "ratio_to_first_import",
            "peak_rss_mb", "seconds_per_partition", "partitions", "days", "years_differing",
            "omdb_unasked", "failed_runs", "lines", "day_two_seconds", "day_two_new_ids")
    fields = ", ".join(f"{k}={record[k]}" for k in keys if k in record)
    met = record.get("met") or {}
    verdict = "" if not met else ("  [goals met]" if all(met.values()) else
                                  f"  [MISSED: {', '.join(k for k, v in met.items() if not v)}]")
    return f"{record['name']}: {fields}{verdict}"


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.list:
        for name, description in MEASUREMENTS.items():
            print(f"{name:22s} {description}")
        return 0
    result = Run(args).run()
    text = json.dumps(result, indent=2, default=str)
    if args.json:
        path = Path(args.json)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text + "\n")
        log(f"results in {path}")
    for record in result["measurements"]:
        print(summary_line(record))
    if result["errors"]:
        print("errors:\n  " + "\n  ".join(result["errors"]), file=sys.stderr)
    log(f"done in {result['total_seconds']:.0f} s")
    return 1 if result["errors"] else 0


if __name__ == "__main__":
    sys.exit(main())
