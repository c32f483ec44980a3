"""oscars_source_changed: a run over every film year when the source's content changed, else a
SkipReason saying it did not."""

import hashlib
import json

import dagster as dg
import pytest
from dagster._core.test_utils import create_run_for_test

from cinegraph_assets.automation.oscars_source_sensor import oscars_source_sensor
from cinegraph_assets.oscars.resource import OscarsSourceResource
from cinegraph_assets.oscars.source import COLUMNS

from .conftest import mark_imported

ROWS = [
    ["1", "1927/28", "Title", "OUTSTANDING PICTURE", "OUTSTANDING PICTURE", "Wings", "tt0018578",
     "Paramount", "Paramount", "co0023400", "True", "", "", ""],
    ["96", "2023", "Title", "BEST PICTURE", "BEST PICTURE", "Oppenheimer", "tt15398776",
     "Emma Thomas", "Emma Thomas", "nm0858799", "True", "", "", ""],
]

ANORA = ["97", "2024", "Title", "BEST PICTURE", "BEST PICTURE", "Anora", "tt28607951",
         "Sean Baker", "Sean Baker", "nm1015987", "True", "", "", ""]


def write_source(path, rows) -> str:
    text = "\t".join(COLUMNS) + "\n" + "".join("\t".join(r) + "\n" for r in rows)
    path.write_text(text, encoding="utf-8")
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


@pytest.fixture
def source(tmp_path):
    path = tmp_path / "oscars.tsv"
    return path, write_source(path, ROWS)


@pytest.fixture
def tick(instance, repository, source, tmp_path):
    path, _ = source
    resource = OscarsSourceResource(source_url=str(path), state_dir=str(tmp_path / "state"))
    sensor = oscars_source_sensor(dg.DefaultSensorStatus.RUNNING)

    def evaluate(cursor=None):
        with dg.build_sensor_context(instance=instance, cursor=cursor, repository_def=repository,
                                     resources={"oscars_source": resource}) as context:
            return sensor.evaluate_tick(context)

    return evaluate


def test_never_loaded_means_watch_only(tick, source):
    result = tick()

    assert not result.run_requests
    assert "never loaded" in result.skip_message
    assert json.loads(result.cursor)["sha256"] == source[1]


def test_unchanged_source_is_a_skip(tick, source):
    result = tick(json.dumps({"sha256": source[1]}))

    assert not result.run_requests
    assert result.skip_message.startswith("The Oscar source is unchanged")


def test_the_last_load_is_the_baseline_without_a_cursor(tick, source, instance):
    mark_imported(instance, [2023], asset_key="oscar_nominations", metadata={"source_sha256": source[1]})

    result = tick()

    assert not result.run_requests and "unchanged" in result.skip_message


def test_a_changed_source_reloads_every_film_year_in_one_run(tick, source):
    path, old_sha = source
    new_sha = write_source(path, ROWS + [ANORA])

    result = tick(json.dumps({"sha256": old_sha}))

    [request] = result.run_requests
    assert request.tags["dagster/asset_partition_range_start"] == "1927"
    assert request.tags["dagster/asset_partition_range_end"] == "2024"
    assert request.run_key == f"oscars_source:{new_sha[:16]}"
    assert json.loads(result.cursor)["sha256"] == new_sha
    # A second tick over the same content asks nothing more.
    assert not tick(result.cursor).run_requests


def test_a_failed_reload_is_requested_again(tick, source, instance):
    path, old_sha = source
    new_sha = write_source(path, ROWS + [ANORA])
    first = tick(json.dumps({"sha256": old_sha}))
    [request] = first.run_requests
    run = create_run_for_test(instance, job_name="oscar_nominations_job", status=dg.DagsterRunStatus.STARTED,
                              tags={**request.tags, "dagster/run_key": request.run_key})

    assert not tick(first.cursor).run_requests  # while it runs, nothing more

    instance.report_run_failed(instance.get_run_by_id(run.run_id))
    retry = tick(first.cursor)

    [again] = retry.run_requests
    assert again.run_key != request.run_key and again.run_key.startswith(f"oscars_source:{new_sha[:16]}")
    create_run_for_test(instance, job_name="oscar_nominations_job", status=dg.DagsterRunStatus.SUCCESS,
                        tags={**again.tags, "dagster/run_key": again.run_key})
    done = tick(retry.cursor)
    assert not done.run_requests and "unchanged" in done.skip_message
