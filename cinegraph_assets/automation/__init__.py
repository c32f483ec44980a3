"""The automation room: when to run what. It reads no feed itself (each service reads its own) and
writes no table; it decides which runs to request.

- jobs.py                       the jobs the schedules and sensors launch (by asset key)
- schedules.py                  daily_sync (current and previous year), oscars_yearly
- catalog_backfill_sensor.py    the years never imported, newest first (plan in backfill.py)
- tmdb_changes_sensor.py        re-syncs the imported years whose movies changed (feed: tmdb/changes.py)
- omdb_backlog_sensor.py        rates pending movies once the OMDb quota resets
- oscars_source_sensor.py       reloads the nominations when the Oscar source changed
- catalog_progress_sensor.py    refreshes catalog_progress after every sync
- freshness.py                  the current year's freshness check and its sensor
- definitions.py                all of the above, each switchable off by CINEGRAPH_AUTOMATION_OFF
Run history (imported, running, failed years) is read through cinegraph_assets/instance_history.py,
the time through cinegraph_assets/clock.py (tests set it).
"""
