"""The daily sync and the yearly Oscar reload request the right partitions, once per tick."""

from datetime import datetime, timezone

import dagster as dg
import pytest

from cinegraph_assets.automation.schedules import daily_sync_schedule, oscars_yearly_schedule

RUNNING = dg.DefaultScheduleStatus.RUNNING


@pytest.fixture
def tick(instance, repository):
    def evaluate(schedule, when: datetime):
        context = dg.build_schedule_context(instance=instance, scheduled_execution_time=when,
                                            repository_def=repository)
        return schedule.evaluate_tick(context).run_requests

    return evaluate


def test_daily_sync_requests_the_current_and_previous_year_at_two(tick):
    schedule = daily_sync_schedule(RUNNING)
    assert schedule.cron_schedule == "0 2 * * *"
    assert schedule.execution_timezone == "UTC"
    assert schedule.job_name == "catalog_year_sync"

    requests = tick(schedule, datetime(2026, 11, 21, 2, 0, tzinfo=timezone.utc))

    assert [r.partition_key for r in requests] == ["2026", "2025"]
    assert [r.run_key for r in requests] == ["daily_sync:2026-11-21:2026", "daily_sync:2026-11-21:2025"]


def test_daily_sync_run_keys_repeat_within_a_day_and_differ_across_days(tick):
    schedule = daily_sync_schedule(RUNNING)
    first = tick(schedule, datetime(2026, 11, 21, 2, 0, tzinfo=timezone.utc))
    again = tick(schedule, datetime(2026, 11, 21, 2, 0, tzinfo=timezone.utc))
    next_day = tick(schedule, datetime(2026, 11, 22, 2, 0, tzinfo=timezone.utc))

    # The daemon launches a run key once: a re-evaluated tick cannot start a second sync.
    assert [r.run_key for r in again] == [r.run_key for r in first]
    assert not {r.run_key for r in next_day} & {r.run_key for r in first}


def test_daily_sync_on_new_years_day_syncs_the_year_that_just_ended(tick):
    requests = tick(daily_sync_schedule(RUNNING),
                    datetime(2027, 1, 1, 2, 0, tzinfo=timezone.utc))
    assert [r.partition_key for r in requests] == ["2027", "2026"]


def test_oscars_yearly_reloads_the_film_year_the_ceremony_honoured(tick):
    schedule = oscars_yearly_schedule(RUNNING)
    assert schedule.cron_schedule == "0 6 1 4 *"
    assert schedule.job_name == "oscar_nominations_job"

    requests = tick(schedule, datetime(2027, 4, 1, 6, 0, tzinfo=timezone.utc))

    assert [(r.partition_key, r.run_key) for r in requests] == [("2026", "oscars_yearly:2026")]
