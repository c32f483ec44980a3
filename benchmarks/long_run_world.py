"""A simulated long run: the sandbox's clock and the platform's advance together, step by step, while
the automation does what the daemon would: the daily sync's tick, the sensors' ticks, and the runs
they ask for, executed in-process one after another with the real definitions.

    run = LongRun(sandbox, instance, LongRunPlan(start=date(2025, 12, 18), days=30, step_days=3))
    report = run.run()

Time: the platform's clock (every `datetime.now`, Dagster's own timestamps included) is moved with
time-machine to 02:00 UTC the day after the sandbox's "today": the sandbox's days are over when the
platform looks at them, as real TMDb days are when the changes feed reads them. Weather: an outage
of /movie/changes on chosen days, CDN 404s without code 34 on a share of TMDb requests, movies moving
across New Year (the sandbox's --new-year-moves), and a small OMDb quota. The last step is fair
weather, so the end state can be compared with the sandbox's truth.

Used by cinegraph_assets_tests/integration/test_long_run.py (a few weeks) and benchmarks/long_run.py
(a year). Talks to the sandbox over HTTP only.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from datetime import date, datetime, time as day_time, timedelta, timezone

import dagster as dg
import sqlalchemy as sa
import time_machine

from cinegraph_assets.launcher import SandboxProcess

SENSORS = ("catalog_backfill", "tmdb_changes")
#: The changes feed is ticked until it has read through yesterday (the daemon ticks it every
#: few minutes, hundreds of times a day); this bounds one step's ticks.
MAX_CHANGES_TICKS_PER_STEP = 40


@dataclass
class LongRunPlan:
    start: date  # the sandbox's "today" when the run starts
    days: int
    step_days: int = 3
    outage: tuple[date, date] | None = None  # /movie/changes down on these sandbox days (inclusive)
    cdn_404_rate: float = 0.03  # share of TMDb requests answered by a CDN's 404 (no code 34)
    omdb_daily_limit: int = 40
    backfill_years_per_day: int = 1
    tmdb_max_retries: int = 3
    #: days after the last step on which only the OMDb backlog runs (no new TMDb work), so a quota
    #: smaller than the last days' imports can catch up before the end state is judged
    omdb_settle_days: int = 5


@dataclass
class LongRunReport:
    steps: int = 0
    runs: dict[str, int] = field(default_factory=dict)  # trigger -> runs
    run_seconds: dict[str, float] = field(default_factory=dict)  # trigger -> seconds in its runs
    failed_ticks: dict[str, int] = field(default_factory=dict)  # sensor -> ticks that raised
    failed_runs: list[str] = field(default_factory=list)  # "trigger year: message"
    years_by_trigger: dict[str, set[int]] = field(default_factory=dict)
    changes_ticks: int = 0
    changes_ticks_behind: int = 0  # ticks that ended with the feed still behind (outage, budget)
    longest_changes_tick_s: float = 0.0
    final_changes_cursor: dict = field(default_factory=dict)
    last_day_read: date | None = None  # the sandbox day the feed had to have read at the end
    seconds: float = 0.0

    def as_dict(self) -> dict:
        return {
            "steps": self.steps, "runs": dict(self.runs), "failed_runs": len(self.failed_runs),
            "run_seconds": {k: round(v, 1) for k, v in self.run_seconds.items()},
            "failed_ticks": dict(self.failed_ticks),
            "years_by_trigger": {k: sorted(v) for k, v in self.years_by_trigger.items()},
            "changes_ticks": self.changes_ticks, "changes_ticks_behind": self.changes_ticks_behind,
            "longest_changes_tick_s": round(self.longest_changes_tick_s, 2),
            "seconds": round(self.seconds, 1),
        }


class LongRun:
    """Drives the automation over `plan.days` sandbox days. The caller sets the environment (the
    sandbox's URLs, CINEGRAPH_DATABASE_URL, OMDB_DAILY_LIMIT...) before building it."""

    def __init__(self, sandbox: SandboxProcess, instance: dg.DagsterInstance, plan: LongRunPlan,
                 log=print):
        from cinegraph_assets.definitions import defs
        from cinegraph_assets.omdb.resource import OMDbResource
        from cinegraph_assets.oscars.resource import OscarsSourceResource
        from cinegraph_assets.resources import WarehouseResource
        from cinegraph_assets.tmdb.resource import TMDbResource

        self.sandbox, self.instance, self.plan, self.log = sandbox, instance, plan, log
        self.repository = defs().get_repository_def()
        self.resources = {"tmdb": TMDbResource(), "warehouse": WarehouseResource(), "omdb": OMDbResource(),
                          "oscars_source": OscarsSourceResource()}
        self.cursors: dict[str, str | None] = {}
        self.run_keys: set[str] = set()
        self.report = LongRunReport()

    # ------------------------------------------------------------------ the daemon's part
    def _tick(self, name: str) -> list[dg.RunRequest]:
        sensor = self.repository.get_sensor_def(name)
        try:
            with dg.build_sensor_context(instance=self.instance, cursor=self.cursors.get(name),
                                         repository_def=self.repository, resources=self.resources) as context:
                result = sensor.evaluate_tick(context)
        except Exception as exc:  # noqa: BLE001 - the daemon records a failed tick, keeps the cursor
            self.report.failed_ticks[name] = self.report.failed_ticks.get(name, 0) + 1
            self.log(f"  tick of {name} failed: {str(exc).splitlines()[0][:200]}")
            return []
        if result.cursor is not None:
            self.cursors[name] = result.cursor
        return [(sensor.job_name, request) for request in result.run_requests or []]

    def _daily_sync(self, at: datetime):
        schedule = self.repository.get_schedule_def("daily_sync")
        with dg.build_schedule_context(instance=self.instance, scheduled_execution_time=at,
                                       repository_def=self.repository) as context:
            data = schedule.evaluate_tick(context)
        return [(schedule.job_name, request) for request in data.run_requests or []]

    def _execute(self, requests) -> None:
        for job_name, request in requests:
            if request.run_key in self.run_keys:
                continue  # the daemon launches a run key once
            self.run_keys.add(request.run_key)
            trigger = request.tags.get("cinegraph/trigger", job_name)
            job = self.repository.get_job(request.job_name or job_name)
            run_started = time.monotonic()
            result = job.execute_in_process(
                instance=self.instance, partition_key=request.partition_key, raise_on_error=False,
                tags={**request.tags, "dagster/run_key": request.run_key})
            self.report.runs[trigger] = self.report.runs.get(trigger, 0) + 1
            self.report.run_seconds[trigger] = self.report.run_seconds.get(trigger, 0.0) + (
                time.monotonic() - run_started)
            self.report.years_by_trigger.setdefault(trigger, set()).add(int(request.partition_key))
            if not result.success:
                failures = [e.event_specific_data.error.message.splitlines()[0]
                            for e in result.all_events if e.event_type_value == "STEP_FAILURE"]
                self.report.failed_runs.append(f"{trigger} {request.partition_key}: {failures}")
                self.log(f"  FAILED {trigger} {request.partition_key}: {failures}")

    def _follow_changes(self, yesterday: date):
        """Tick tmdb_changes until it has read through yesterday and looked up every unknown id."""
        requests = []
        for _ in range(MAX_CHANGES_TICKS_PER_STEP):
            started = time.monotonic()
            requests += self._tick("tmdb_changes")
            self.report.changes_ticks += 1
            self.report.longest_changes_tick_s = max(self.report.longest_changes_tick_s,
                                                     time.monotonic() - started)
            state = json.loads(self.cursors.get("tmdb_changes") or "{}")
            if state.get("read_through") == yesterday.isoformat() and not state.get("lookup_backlog") \
                    and not state.get("lookup_retries"):
                return requests
            if self.sandbox_is_down:
                break
        self.report.changes_ticks_behind += 1
        return requests

    # ------------------------------------------------------------------ the world's part
    def _weather(self, day: date, last_step: bool) -> None:
        outage = self.plan.outage
        self.sandbox_is_down = bool(outage and outage[0] <= day <= outage[1]) and not last_step
        fair = last_step or self.plan.cdn_404_rate <= 0
        self.sandbox.configure(outage="/3/movie/changes" if self.sandbox_is_down else "",
                               fault_rate=0.0 if fair else self.plan.cdn_404_rate, fault_kinds="404")

    def _omdb_day(self, day: date) -> None:
        """A day the platform spends only its OMDb quota: the backlog sensor ticks after midnight."""
        with time_machine.travel(datetime.combine(day, day_time(0, 10), tzinfo=timezone.utc), tick=True):
            self._execute(self._tick("omdb_backlog"))

    def run(self) -> LongRunReport:
        started = time.monotonic()
        plan = self.plan
        sandbox_day = date.fromisoformat(self.sandbox.advance(0)["today"])
        assert sandbox_day == plan.start, f"the sandbox starts on {sandbox_day}, the plan on {plan.start}"
        # A step compresses several of the sandbox's days into one, and the sandbox counts OMDb
        # requests per its own day: the quota that counts here is the platform's own ledger
        # (OMDB_DAILY_LIMIT a day), so the sandbox's is set out of the way.
        self.sandbox.configure(omdb_daily_limit=1_000_000)
        end = plan.start + timedelta(days=plan.days)
        previous_day: date | None = None
        while True:
            last_step = sandbox_day >= end
            self._weather(sandbox_day, last_step)
            now = datetime.combine(sandbox_day + timedelta(days=1), day_time(2, 0), tzinfo=timezone.utc)
            if previous_day is not None:  # the days between two steps spend their OMDb quota too
                for offset in range(1, (now.date() - previous_day).days):
                    self._omdb_day(previous_day + timedelta(days=offset))
            previous_day = now.date()
            with time_machine.travel(now, tick=True):
                self.log(f"{now:%Y-%m-%d}: sandbox through {sandbox_day}"
                         + (" (changes feed down)" if self.sandbox_is_down else ""))
                requests = self._daily_sync(now) + self._tick("catalog_backfill")
                requests += self._follow_changes(sandbox_day)
                self._execute(requests)
                self._execute(self._follow_changes(sandbox_day))  # years that waited for a run
                self._execute(self._tick("omdb_backlog"))
            self.report.steps += 1
            if last_step:
                break
            step = min(plan.step_days, (end - sandbox_day).days)
            sandbox_day = date.fromisoformat(self.sandbox.advance(step)["today"])
        for offset in range(1, plan.omdb_settle_days + 1):
            if json.loads(self.cursors.get("omdb_backlog") or "{}").get("pending_movies") == 0:
                break
            self._omdb_day(previous_day + timedelta(days=offset))
        self.report.final_changes_cursor = json.loads(self.cursors.get("tmdb_changes") or "{}")
        self.report.last_day_read = sandbox_day
        self.report.seconds = time.monotonic() - started
        return self.report


# ------------------------------------------------------------------ what the end state must be
def imported_years(instance: dg.DagsterInstance) -> set[int]:
    return {int(k) for k in instance.get_materialized_partitions(dg.AssetKey("movies"))}


def years_differing_from_truth(engine, sandbox: SandboxProcess, years) -> dict[int, dict]:
    """{year: {"missing": n, "extra": n}} for every imported year whose movies differ from TMDb's."""
    from cinegraph_assets.warehouse import data_checks

    out = {}
    with engine.connect() as conn:
        for year in sorted(years):
            ours, truth = data_checks.year_movie_ids(conn, year), sandbox.truth(year)
            if ours != truth:
                out[year] = {"missing": sorted(truth - ours)[:10], "extra": sorted(ours - truth)[:10],
                             "missing_n": len(truth - ours), "extra_n": len(ours - truth)}
    return out


def movies_without_omdb_answer(engine, years) -> int:
    """Alive movies with an IMDb id in these years that OMDb was never asked about (no rating and no
    recorded reason)."""
    from cinegraph_assets.warehouse.schema import movies, omdb_movies

    with engine.connect() as conn:
        return conn.execute(
            sa.select(sa.func.count()).select_from(
                movies.outerjoin(omdb_movies, omdb_movies.c.tmdb_id == movies.c.tmdb_id))
            .where(movies.c.release_year.in_(sorted(years)), movies.c.deleted_at.is_(None),
                   movies.c.imdb_id.is_not(None), movies.c.imdb_id != "",
                   sa.or_(omdb_movies.c.tmdb_id.is_(None), omdb_movies.c.status.is_(None)))
        ).scalar_one()
