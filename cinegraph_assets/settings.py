"""Every setting of the platform: its environment variable, default, meaning and validation.

This is the one source of truth for configuration. Resources resolve each of their fields as
"explicit value, else the environment variable, else the default", at run time (never at import),
and a malformed value fails with a message that names the variable and what it should look like.
The README's settings table is checked against this registry by a test.

Plain Python: imports nothing of Dagster.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any, Callable, Mapping
from urllib.parse import urlparse


class SettingError(ValueError):
    """A setting has a value the platform cannot use. The message names the env var and the fix."""


def _parse_bool(raw: str) -> bool:
    lowered = raw.strip().lower()
    if lowered in {"1", "true", "yes", "on"}:
        return True
    if lowered in {"0", "false", "no", "off", ""}:
        return False
    raise ValueError("expected true or false")


def _number(raw: str, convert: Callable[[str], Any], expected: str):
    """`convert(raw)`, or a ValueError saying what was expected (not Python's "invalid literal")."""
    try:
        value = convert(raw)
    except ValueError:
        raise ValueError(expected) from None
    # float() accepts "inf" and "nan", which no setting can use (an infinite rate is no limit).
    if isinstance(value, float) and not math.isfinite(value):
        raise ValueError(expected)
    return value


def _parse_positive_float(raw: str) -> float:
    expected = "expected a finite number greater than 0"
    value = _number(raw, float, expected)
    if not value > 0:
        raise ValueError(expected)
    return value


def _parse_positive_int(raw: str) -> int:
    expected = "expected a whole number greater than 0"
    value = _number(raw, int, expected)
    if value <= 0:
        raise ValueError(expected)
    return value


def _parse_non_negative_int(raw: str) -> int:
    expected = "expected a whole number, 0 or more"
    value = _number(raw, int, expected)
    if value < 0:
        raise ValueError(expected)
    return value


def _parse_int(raw: str) -> int:
    return _number(raw, int, "expected a whole number (may be negative)")


def _parse_fraction(raw: str) -> float:
    expected = "expected a fraction between 0 and 1, e.g. 0.01 for 1%"
    value = _number(raw, float, expected)
    if not 0 <= value <= 1:
        raise ValueError(expected)
    return value


def _parse_http_url(raw: str) -> str:
    parsed = urlparse(raw.strip())
    if parsed.scheme not in {"http", "https"} or not parsed.netloc:
        raise ValueError("expected an http(s) URL such as https://api.themoviedb.org/3")
    return raw.strip()


#: The TMDb API version every path of the client is written for (/discover/movie, /movie/{id}...).
TMDB_API_VERSION_PATH = "/3"


def _parse_tmdb_api_url(raw: str) -> str:
    """An http(s) URL ending in /3: without the version every request answers 404, which only
    tells the person that *something* was not found."""
    expected = "expected the TMDb API v3 base URL, ending in /3, e.g. https://api.themoviedb.org/3"
    url = raw.strip().rstrip("/")
    parsed = urlparse(url)
    if parsed.scheme not in {"http", "https"} or not parsed.netloc:
        raise ValueError(expected)
    if not parsed.path.endswith(TMDB_API_VERSION_PATH):
        raise ValueError(expected)
    return url


def _parse_url_or_path(raw: str) -> str:
    raw = raw.strip()
    parsed = urlparse(raw)
    if parsed.scheme in {"http", "https"}:
        if not parsed.netloc:
            raise ValueError("expected an http(s) URL with a host, or a local file path")
        return raw
    if parsed.scheme in {"", "file"}:
        return raw
    raise ValueError("expected an http(s) URL or a local file path")


def _parse_database_url(raw: str) -> str:
    raw = raw.strip()
    if not raw.startswith(("sqlite:", "postgresql:", "postgresql+psycopg2:", "postgres:")):
        raise ValueError(
            "expected a SQLAlchemy URL such as sqlite:////path/warehouse.sqlite or "
            "postgresql://user@127.0.0.1:5432/cinegraph"
        )
    if raw.startswith("postgres:"):
        # SQLAlchemy 2 no longer accepts the Heroku-style scheme.
        raw = "postgresql:" + raw[len("postgres:") :]
    return raw


def _parse_str(raw: str) -> str:
    return raw


def _parse_name_set(raw: str) -> frozenset:
    return frozenset(part.strip().lower() for part in raw.split(",") if part.strip())


def _parse_iso_date(raw: str) -> date:
    try:
        return date.fromisoformat(raw.strip())
    except ValueError:
        raise ValueError("expected a date written YYYY-MM-DD, e.g. 2024-01-31") from None


@dataclass(frozen=True)
class Setting:
    env: str
    default: Any
    parse: Callable[[str], Any]
    help: str
    secret: bool = False
    #: How the README shows a default computed at run time (e.g. a path inside DAGSTER_HOME).
    shown_default: str | None = None

    def resolve(self, explicit: Any = None, environ: Mapping[str, str] | None = None) -> Any:
        """Explicit value if given, else the env var, else the default; validated either way."""
        if explicit is not None:
            raw: Any = explicit
        else:
            environ = os.environ if environ is None else environ
            raw = environ.get(self.env)
            if raw is None or raw == "":
                return self.default() if callable(self.default) else self.default
        if not isinstance(raw, str):
            raw = str(raw).lower() if isinstance(raw, bool) else str(raw)
        try:
            return self.parse(raw)
        except (TypeError, ValueError) as exc:
            if self.secret:
                # The parser's own message may quote the value (int() does): never echo a secret.
                raise SettingError(f"{self.env} is not valid. {self.help}") from None
            raise SettingError(f"{self.env}={raw!r} is not valid: {exc}. {self.help}") from None


def dagster_home(environ: Mapping[str, str] | None = None) -> Path:
    """DAGSTER_HOME, or `.dagster_home` in the current directory (what `make run` uses)."""
    environ = os.environ if environ is None else environ
    return Path(environ.get("DAGSTER_HOME") or Path.cwd() / ".dagster_home").resolve()


def _default_database_url() -> str:
    return f"sqlite:///{dagster_home() / 'warehouse.sqlite'}"


def _default_state_dir() -> str:
    return str(dagster_home())


_SETTINGS = [
    # Warehouse
    Setting("CINEGRAPH_DATABASE_URL", _default_database_url, _parse_database_url,
            "The warehouse: a SQLAlchemy URL (sqlite:///... or postgresql://...). "
            "Default: warehouse.sqlite inside DAGSTER_HOME.",
            shown_default="sqlite:///$DAGSTER_HOME/warehouse.sqlite"),
    Setting("CINEGRAPH_STATE_DIR", _default_state_dir, _parse_str,
            "Where instance-wide state shared by all runs lives when the warehouse is SQLite "
            "(the TMDb rate-limit bucket). Default: DAGSTER_HOME.",
            shown_default="$DAGSTER_HOME"),
    # TMDb
    Setting("TMDB_API_KEY", None, _parse_str,
            "TMDb v3 API key (sent as the api_key query parameter). Set this or TMDB_ACCESS_TOKEN.",
            secret=True),
    Setting("TMDB_ACCESS_TOKEN", None, _parse_str,
            "TMDb v4 read access token (sent as Authorization: Bearer). Set this or TMDB_API_KEY.",
            secret=True),
    Setting("TMDB_BASE_URL", "https://api.themoviedb.org/3", _parse_tmdb_api_url,
            "TMDb API v3 base URL, ending in /3. `make run` points it at the local sandbox when no "
            "key is set."),
    Setting("TMDB_EXPORTS_BASE_URL", "https://files.tmdb.org", _parse_http_url,
            "Base URL of TMDb's daily ID exports (/p/exports/movie_ids_MM_DD_YYYY.json.gz)."),
    Setting("TMDB_MAX_RPS", 40.0, _parse_positive_float,
            "Requests per second to TMDb, shared by every run on the instance. Set a number > 0, e.g. 40."),
    Setting("TMDB_MAX_WORKERS", 16, _parse_positive_int,
            "Concurrent TMDb detail requests per run (TMDb allows about 20 connections per IP)."),
    Setting("TMDB_TIMEOUT_SECONDS", 15.0, _parse_positive_float,
            "Timeout of one TMDb request, in seconds."),
    Setting("TMDB_MAX_RETRIES", 6, _parse_non_negative_int,
            "Retries of one TMDb request on 429, 5xx, resets, timeouts and truncated bodies."),
    Setting("TMDB_INCLUDE_ADULT", False, _parse_bool,
            "Include adult movies in discovery (TMDb's own default is false)."),
    Setting("TMDB_FAILURE_THRESHOLD", 0.01, _parse_fraction,
            "Share of a year's movies whose details may fail before the partition fails (0.01 = 1%)."),
    Setting("TMDB_GAP_BATCH_SIZE", 10000, _parse_positive_int,
            "Most TMDb details requests one tmdb_gap_movies run makes (movies no year's discovery "
            "returns, most popular first); the next run continues where it stopped."),
    # OMDb
    Setting("OMDB_API_KEY", None, _parse_str,
            "OMDb API key (sent as the apikey query parameter).", secret=True),
    Setting("OMDB_BASE_URL", "https://www.omdbapi.com/", _parse_http_url,
            "OMDb base URL. `make run` points it at the local sandbox when no key is set."),
    Setting("OMDB_DAILY_LIMIT", 1000, _parse_positive_int,
            "OMDb requests allowed per UTC day for the key (free keys: 1000; paid: 100000 and up)."),
    Setting("OMDB_REFRESH_DAYS", 30, _parse_positive_int,
            "Ratings older than this many days are refreshed once new movies are rated."),
    Setting("OMDB_NOT_FOUND_RETRY_DAYS", 90, _parse_positive_int,
            "A movie OMDb does not know is asked again only after this many days."),
    Setting("OMDB_TIMEOUT_SECONDS", 15.0, _parse_positive_float,
            "Timeout of one OMDb request, in seconds."),
    Setting("OMDB_MAX_RETRIES", 4, _parse_non_negative_int,
            "Retries of one OMDb request on 5xx, resets and timeouts (each retry spends quota)."),
    Setting("OMDB_CLOCK_OFFSET_DAYS", 0, _parse_int,
            "Testing aid: whole days (may be negative) added to the clock the OMDb quota ledger "
            "and refresh ages follow, to keep step with a sandbox whose day differs. Leave unset "
            "in production."),
    # Oscars
    Setting("OSCARS_SOURCE_URL",
            "https://raw.githubusercontent.com/DLu/oscar_data/main/oscars.csv", _parse_url_or_path,
            "Where the Academy Awards table (tab-separated oscar_data format) is read from: "
            "an http(s) URL or a local path."),
    # Automation
    Setting("CATALOG_BACKFILL_YEARS_PER_DAY", 1, _parse_positive_int,
            "How many never-imported years the catalog_backfill sensor starts per day."),
    Setting("CINEGRAPH_AUTOMATION_OFF", frozenset(), _parse_name_set,
            "Schedules/sensors that start switched off, comma-separated (e.g. daily_sync,tmdb_changes), "
            "or `all`. Only the first start counts: afterwards the UI's on/off switch wins."),
    Setting("TMDB_CHANGES_START_DATE", None, _parse_iso_date,
            "First day (YYYY-MM-DD) the tmdb_changes sensor reads when it has no cursor yet. "
            "Default: the day before the first year was imported."),
    Setting("TMDB_CHANGES_INTERVAL_SECONDS", 300, _parse_positive_int,
            "Seconds between two ticks of the tmdb_changes sensor."),
]

SETTINGS: dict[str, Setting] = {setting.env: setting for setting in _SETTINGS}


def setting(env: str, explicit: Any = None, environ: Mapping[str, str] | None = None) -> Any:
    """Resolve one setting by its env var name (explicit value > env var > default)."""
    return SETTINGS[env].resolve(explicit, environ)


def _shown_default(entry: Setting) -> str:
    if entry.shown_default is not None:
        return f"`{entry.shown_default}`"
    default = entry.default
    if default is None or default == frozenset():
        return "(unset)"
    if isinstance(default, bool):
        return f"`{str(default).lower()}`"
    return f"`{default}`"


def markdown_table() -> str:
    """The README's settings table, generated from this registry (a test keeps them equal)."""
    lines = ["| env var | default | meaning |", "|---|---|---|"]
    for entry in _SETTINGS:
        secret = " **Secret.**" if entry.secret else ""
        lines.append(f"| `{entry.env}` | {_shown_default(entry)} | {entry.help}{secret} |")
    return "\n".join(lines)


if __name__ == "__main__":
    print(markdown_table())
