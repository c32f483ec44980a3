"""Local stand-in for TMDb, OMDb and the Oscar source. Imports nothing of the pipeline.

Start it with `python -m cinegraph_assets.sandbox --host 127.0.0.1 --port 8765 [options]` (`--help`
lists every option; `--port 0` picks a free port). It prints `sandbox listening on http://HOST:PORT`
when ready and exits cleanly on SIGTERM/SIGINT. Tests use
`cinegraph_assets_tests.support.sandbox.SandboxProcess` (or the `sandbox_factory` / `demo_sandbox`
fixtures), which start it as a subprocess.

Surfaces:
- `/3/...` TMDb v3: discover/movie, movie/{id} (+ append_to_response and each sub-resource),
  movie/changes, find/{imdb id}, configuration, genre/movie/list. Auth by `api_key` or
  `Authorization: Bearer`; real error bodies (codes 7, 20, 22, 23, 25, 27, 34).
- `/omdb/?i=tt...&apikey=...` OMDb by-id lookups, both real shapes, real errors, daily quota.
- `/oscars/oscars.csv` the upstream Oscar TSV for the synthetic films (ETag / Last-Modified).
- `/p/exports/movie_ids_MM_DD_YYYY.json.gz` TMDb's daily ID export (and adult_movie_ids_...).
- `/_sandbox/...` control, never rate-limited or faulted:
  `truth/years/{Y}?include_adult=&include_video=` -> {"year", "ids", "count"} (the ids discover
  would list for that year today, both flags default false); `truth/catalog` -> the whole catalog
  today: {"today", "count", "ids", "years" (one per id, null when undated), "adult" and "video"
  (the flagged live ids), "deleted" (ids that answer 404, code 34)}; `advance?days=N` (GET or POST)
  moves the clock; `stats` (+ POST `stats/reset`); `config` (GET shows, POST/PUT a JSON object
  changes latency_ms, jitter_ms, max_rps, max_connections, fault_rate, fault_kinds, slow_seconds,
  churn, omdb_daily_limit, outage, time_of_day and export_publish_time (HH:MM UTC: today's id
  export is out from 08:00), export_faults (truncated, malformed, small), export_skipped_days
  (YYYY-MM-DD days TMDb published no export)); `oddities` (oversized /
  mistyped details for chosen ids); `health`.

Modules: catalog.py (numpy index + clock), details.py (bodies generated from seed, id, version),
tmdb.py, omdb.py, oscars.py, exports.py, oddities.py, control.py (settings, limits, faults, stats,
body cache), responses.py (exact error bodies), server.py (HTTP), words.py (vocabulary).
"""
