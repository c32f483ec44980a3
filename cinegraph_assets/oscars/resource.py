"""The Oscar source as a Dagster resource: where the oscar_data table is read from, and its cache."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

from cinegraph_assets.oscars.source import (
    OscarsSourceError,
    OscarsTable,
    SourceSnapshot,
    fetch_oscars_source,
    parse_oscars_tsv,
)
from cinegraph_assets.resources import SettingsResource

#: Seconds to wait for the upstream file (about 1.5 MB).
DOWNLOAD_TIMEOUT_SECONDS = 60.0
#: The oscars_source_changed sensor's cache, beside the runs' one (see fetch_for_sensor).
SENSOR_CACHE_DIR = "oscars_source_sensor"


class OscarsSourceResource(SettingsResource):
    """The Academy Awards table (tab-separated oscar_data format), downloaded only when it changed.

    Fields left at None are resolved when a run starts: source_url from OSCARS_SOURCE_URL (an http(s)
    URL or a local path), state_dir (where the download is cached with its ETag, Last-Modified and
    sha256) from CINEGRAPH_STATE_DIR.
    """

    source_url: Optional[str] = None
    state_dir: Optional[str] = None

    ENV_VARS = {"source_url": "OSCARS_SOURCE_URL", "state_dir": "CINEGRAPH_STATE_DIR"}

    def resolved_source(self) -> str:
        return self.resolved_field("source_url")

    def resolved_state_dir(self) -> Path:
        return Path(self.resolved_field("state_dir"))

    def fetch(self) -> SourceSnapshot:
        """The source file, from the cache when the server says it has not changed."""
        return fetch_oscars_source(
            self.resolved_source(), self.resolved_state_dir(), timeout=DOWNLOAD_TIMEOUT_SECONDS
        )

    def fetch_for_sensor(self) -> SourceSnapshot:
        """The source file as the sensor watching it sees it: through a cache of its own, since
        sharing the runs' cache would make the next run report the change as "unchanged"."""
        return fetch_oscars_source(
            self.resolved_source(), self.resolved_state_dir() / SENSOR_CACHE_DIR,
            timeout=DOWNLOAD_TIMEOUT_SECONDS,
        )

    def read_table(self) -> tuple[SourceSnapshot, OscarsTable]:
        """Fetch and parse the whole table."""
        snapshot = self.fetch()
        return snapshot, self.parse(snapshot)

    @staticmethod
    def parse(snapshot: SourceSnapshot) -> OscarsTable:
        """Parse a fetched snapshot; a bad row's error names the file and OSCARS_SOURCE_URL.

        The parser only knows line numbers: "line 2: ..." alone does not tell a person which file
        (a cached download? a local copy?) nor which setting chose it.
        """
        try:
            return parse_oscars_tsv(snapshot.read_text())
        except OscarsSourceError as exc:
            detail = str(exc)
            if not detail.startswith("line "):
                raise  # already names OSCARS_SOURCE_URL (an empty file, a missing column)
            error = OscarsSourceError(
                f"The Oscar source {snapshot.source} (OSCARS_SOURCE_URL) cannot be used: {detail}. "
                "Fix that line, or set OSCARS_SOURCE_URL to the tab-separated oscar_data table.")
        raise error
