"""OMDbResource: the OMDb settings of a run, resolved from the environment at run time."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Callable, Optional

from cinegraph_assets.omdb.client import OmdbClient
from cinegraph_assets.resources import SettingsResource
from cinegraph_assets.settings import SettingError


@dataclass(frozen=True)
class OmdbSettings:
    base_url: str
    daily_limit: int
    refresh_days: int
    not_found_retry_days: int
    timeout_seconds: float
    max_retries: int
    clock_offset_days: int


class OMDbResource(SettingsResource):
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

    ENV_VARS = {
        "base_url": "OMDB_BASE_URL",
        "api_key": "OMDB_API_KEY",
        "daily_limit": "OMDB_DAILY_LIMIT",
        "refresh_days": "OMDB_REFRESH_DAYS",
        "not_found_retry_days": "OMDB_NOT_FOUND_RETRY_DAYS",
        "timeout_seconds": "OMDB_TIMEOUT_SECONDS",
        "max_retries": "OMDB_MAX_RETRIES",
        "clock_offset_days": "OMDB_CLOCK_OFFSET_DAYS",
    }

    def resolved(self) -> OmdbSettings:
        """The resolved, validated settings but the key (a SettingError names the env var to fix).
        The key is resolved only where a client is made."""
        return OmdbSettings(**{name: self.resolved_field(name) for name in self.ENV_VARS if name != "api_key"})

    def now(self) -> datetime:
        """The time the quota day and refresh ages follow: UTC now (+ the test clock offset)."""
        return datetime.now(timezone.utc) + timedelta(days=self.resolved_field("clock_offset_days"))

    def client(self, before_request: Callable[[], bool] | None = None) -> OmdbClient:
        """A client for this run; `before_request` reserves quota before every attempt."""
        key = self.resolved_field("api_key")
        if not key:
            raise SettingError(
                "OMDB_API_KEY is not set: OMDb needs an API key "
                "(free at https://www.omdbapi.com/apikey.aspx); set the OMDB_API_KEY env var."
            )
        resolved = self.resolved()
        return OmdbClient(
            base_url=resolved.base_url,
            api_key=key,
            timeout_seconds=resolved.timeout_seconds,
            max_retries=resolved.max_retries,
            before_request=before_request,
        )
