"""OMDbResource: the OMDb settings of a run, resolved from the environment at run time."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Callable, Optional

import dagster as dg

from cinegraph_assets.omdb.client import OmdbClient
from cinegraph_assets.settings import SettingError, setting


@dataclass(frozen=True)
class OmdbSettings:
    base_url: str
    daily_limit: int
    refresh_days: int
    not_found_retry_days: int
    timeout_seconds: float
    max_retries: int
    clock_offset_days: int


class OMDbResource(dg.ConfigurableResource):
    """OMDb (https://www.omdbapi.com): ratings, box office, certificate and awards by IMDb id.

    Every field left empty is read at run time from its environment variable (OMDB_BASE_URL,
    OMDB_API_KEY, OMDB_DAILY_LIMIT, OMDB_REFRESH_DAYS, OMDB_NOT_FOUND_RETRY_DAYS,
    OMDB_TIMEOUT_SECONDS, OMDB_MAX_RETRIES, OMDB_CLOCK_OFFSET_DAYS), so the key is never shown in
    the UI. To set the key in code, pass dg.EnvVar("OMDB_API_KEY"), never the key itself.
    """

    base_url: Optional[str] = None
    api_key: Optional[str] = None
    daily_limit: Optional[int] = None
    refresh_days: Optional[int] = None
    not_found_retry_days: Optional[int] = None
    timeout_seconds: Optional[float] = None
    max_retries: Optional[int] = None
    clock_offset_days: Optional[int] = None

    def settings(self) -> OmdbSettings:
        """The resolved, validated settings (a SettingError names the env var to fix)."""
        return OmdbSettings(
            base_url=setting("OMDB_BASE_URL", self.base_url),
            daily_limit=setting("OMDB_DAILY_LIMIT", self.daily_limit),
            refresh_days=setting("OMDB_REFRESH_DAYS", self.refresh_days),
            not_found_retry_days=setting("OMDB_NOT_FOUND_RETRY_DAYS", self.not_found_retry_days),
            timeout_seconds=setting("OMDB_TIMEOUT_SECONDS", self.timeout_seconds),
            max_retries=setting("OMDB_MAX_RETRIES", self.max_retries),
            clock_offset_days=setting("OMDB_CLOCK_OFFSET_DAYS", self.clock_offset_days),
        )

    def now(self) -> datetime:
        """The time the quota day and refresh ages follow: UTC now (+ the test clock offset)."""
        offset = setting("OMDB_CLOCK_OFFSET_DAYS", self.clock_offset_days)
        return datetime.now(timezone.utc) + timedelta(days=offset)

    def client(self, before_request: Callable[[], bool] | None = None) -> OmdbClient:
        """A client for this run; `before_request` reserves quota before every attempt."""
        key = setting("OMDB_API_KEY", self.api_key)
        if not key:
            raise SettingError(
                "OMDB_API_KEY is not set: OMDb needs an API key "
                "(free at https://www.omdbapi.com/apikey.aspx); set the OMDB_API_KEY env var."
            )
        resolved = self.settings()
        return OmdbClient(
            base_url=resolved.base_url,
            api_key=key,
            timeout_seconds=resolved.timeout_seconds,
            max_retries=resolved.max_retries,
            before_request=before_request,
        )
