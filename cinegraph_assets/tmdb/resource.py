"""TMDbResource: how the TMDb assets reach TMDb (or the sandbox), configured from the environment."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

from cinegraph_assets.resources import SettingsResource
from cinegraph_assets.settings import SettingError
from cinegraph_assets.tmdb.client import TMDbClient
from cinegraph_assets.tmdb.ratelimit import RateLimiter, shared_rate_limiter


@dataclass(frozen=True)
class TMDbSettings:
    """Every TMDb setting, resolved (explicit field > env var > default) and validated."""

    base_url: str
    api_key: str | None
    access_token: str | None
    max_rps: float
    max_workers: int
    timeout_seconds: float
    max_retries: int
    include_adult: bool
    failure_threshold: float
    state_dir: str
    exports_base_url: str
    gap_batch_size: int

    def __repr__(self) -> str:  # never print the secrets
        return (f"TMDbSettings(base_url={self.base_url!r}, max_rps={self.max_rps}, "
                f"max_workers={self.max_workers}, include_adult={self.include_adult})")


class TMDbResource(SettingsResource):
    """TMDb API v3 access: credentials, base URL, the shared rate limit, concurrency and timeouts.

    Every field left empty (None) is read at run time from its environment variable
    (TMDB_BASE_URL, TMDB_API_KEY, TMDB_ACCESS_TOKEN, TMDB_MAX_RPS, TMDB_MAX_WORKERS,
    TMDB_TIMEOUT_SECONDS, TMDB_MAX_RETRIES, TMDB_INCLUDE_ADULT, TMDB_FAILURE_THRESHOLD,
    CINEGRAPH_STATE_DIR, TMDB_EXPORTS_BASE_URL, TMDB_GAP_BATCH_SIZE), so the UI never displays a key. The base URL defaults to the real
    https://api.themoviedb.org/3; `make run` points it at the local sandbox.
    """

    base_url: Optional[str] = None
    api_key: Optional[str] = None
    access_token: Optional[str] = None
    max_rps: Optional[float] = None
    max_workers: Optional[int] = None
    timeout_seconds: Optional[float] = None
    max_retries: Optional[int] = None
    include_adult: Optional[bool] = None
    failure_threshold: Optional[float] = None
    state_dir: Optional[str] = None
    exports_base_url: Optional[str] = None
    gap_batch_size: Optional[int] = None

    ENV_VARS = {
        "base_url": "TMDB_BASE_URL",
        "api_key": "TMDB_API_KEY",
        "access_token": "TMDB_ACCESS_TOKEN",
        "max_rps": "TMDB_MAX_RPS",
        "max_workers": "TMDB_MAX_WORKERS",
        "timeout_seconds": "TMDB_TIMEOUT_SECONDS",
        "max_retries": "TMDB_MAX_RETRIES",
        "include_adult": "TMDB_INCLUDE_ADULT",
        "failure_threshold": "TMDB_FAILURE_THRESHOLD",
        "state_dir": "CINEGRAPH_STATE_DIR",
        "exports_base_url": "TMDB_EXPORTS_BASE_URL",
        "gap_batch_size": "TMDB_GAP_BATCH_SIZE",
    }

    def resolved(self) -> TMDbSettings:
        """The settings in force; a malformed value raises SettingError naming its env var."""
        return TMDbSettings(**self.resolved_fields())

    def rate_limiter(self, warehouse_url: str | None) -> RateLimiter:
        """The instance-wide limiter (PostgreSQL warehouse row, else a SQLite file in the state dir)."""
        resolved = self.resolved()
        return shared_rate_limiter(resolved.max_rps, warehouse_url=warehouse_url,
                                   state_dir=resolved.state_dir)

    def client(self, warehouse_url: str | None = None) -> TMDbClient:
        """A new client with fresh request statistics, sharing the instance-wide rate limit.

        Without credentials TMDb can only answer 401: say so before sending anything.
        """
        resolved = self.resolved()
        if not (resolved.api_key or resolved.access_token):
            raise SettingError(
                "TMDB_API_KEY and TMDB_ACCESS_TOKEN are both unset: set one of them (a v3 API key "
                "or a v4 read access token from https://www.themoviedb.org/settings/api).")
        return TMDbClient(
            base_url=resolved.base_url,
            api_key=resolved.api_key,
            access_token=resolved.access_token,
            rate_limiter=shared_rate_limiter(resolved.max_rps, warehouse_url=warehouse_url,
                                             state_dir=resolved.state_dir),
            timeout_seconds=resolved.timeout_seconds,
            max_retries=resolved.max_retries,
        )
