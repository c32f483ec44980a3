"""OMDb response bodies -> normalized values: ratings per source, votes, box office, awards.

OMDb sends every number as display text ("1,234,567", "$123,456", "7.4/10") and every missing value
as the string "N/A". Missing stays None here, never 0: a movie without a Metacritic score is not a
movie Metacritic scored zero.

Plain Python: imports nothing of Dagster or of the warehouse.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

MISSING = "N/A"

#: OMDb's names for the rating sources -> the `source` column of movie_ratings.
SOURCE_NAMES = {
    "Internet Movie Database": "imdb",
    "Rotten Tomatoes": "rotten_tomatoes",
    "Metacritic": "metacritic",
}

# Error texts OMDb answers with {"Response": "False", "Error": ...}, grouped by what they mean for us.
QUOTA_ERRORS = ("request limit reached", "daily request limit reached")
KEY_ERRORS = ("invalid api key", "no api key provided")
NOT_FOUND_ERRORS = {
    "movie not found!": "not_found",
    "error getting data.": "not_found",  # what an i= lookup of an id OMDb does not hold returns
    "incorrect imdb id.": "incorrect_imdb_id",
}


class OmdbParseError(ValueError):
    """The body is not a usable OMDb answer (invalid JSON, unexpected types). Retried next run."""


@dataclass(frozen=True)
class Rating:
    """One rating of one movie by one source, as stored in movie_ratings."""

    source: str
    value_raw: str
    value_0_100: float | None
    votes: int | None = None


@dataclass(frozen=True)
class Awards:
    """The Awards sentence, counted. Nominations are IMDb's: nominations that did not win.

    oscar_nominations is a lower bound when the text only says "Won N Oscars" (winning implies a
    nomination; the lost ones of a winner are not in the text).
    """

    oscar_wins: int | None = None
    oscar_nominations: int | None = None
    total_wins: int | None = None
    total_nominations: int | None = None


@dataclass(frozen=True)
class OmdbTitle:
    """A successful title lookup (Response "True")."""

    imdb_id: str | None
    title: str | None
    rated: str | None
    box_office_usd: int | None
    awards_text: str | None
    awards: Awards
    ratings: list[Rating]
    raw: dict[str, Any] = field(repr=False)


@dataclass(frozen=True)
class OmdbError:
    """An answer with Response "False". `reason` is one of quota, invalid_key, not_found,
    incorrect_imdb_id, omdb_error."""

    message: str
    reason: str
    raw: dict[str, Any] | None = field(default=None, repr=False)


def classify_error(message: str) -> str:
    """What an OMDb error message means: quota, invalid_key, not_found, incorrect_imdb_id or omdb_error."""
    lowered = message.strip().lower()
    if any(text in lowered for text in QUOTA_ERRORS):
        return "quota"
    if any(text in lowered for text in KEY_ERRORS):
        return "invalid_key"
    return NOT_FOUND_ERRORS.get(lowered, "omdb_error")


def error_message_of(body: str) -> str | None:
    """The Error text of a body, if it has one, also from bodies that are not valid JSON.

    The quota answer has been seen as plain text ("Error: Daily request limit reached!") and one
    real error body is invalid JSON, so the client reads the message this forgivingly.
    """
    try:
        data = json.loads(body)
    except (TypeError, ValueError):
        data = None
    if isinstance(data, dict) and isinstance(data.get("Error"), str):
        return data["Error"]
    match = re.search(r'"Error"\s*:\s*"(.*)"\s*}\s*$', body or "", re.S)
    if match:
        return match.group(1)
    stripped = (body or "").strip()
    if stripped.lower().startswith("error:"):
        return stripped[len("error:"):].strip()
    return None


def parse_response(body: str | bytes) -> OmdbTitle | OmdbError:
    """Parse one `?i=` response body. Raises OmdbParseError when it is not usable."""
    if isinstance(body, bytes):
        body = body.decode("utf-8", errors="replace")
    try:
        data = json.loads(body)
    except ValueError as exc:
        raise OmdbParseError(f"invalid JSON: {exc}") from None
    if not isinstance(data, dict):
        raise OmdbParseError(f"expected a JSON object, got {type(data).__name__}")
    response = data.get("Response")
    if isinstance(response, str) and response.strip().lower() == "false":
        message = data.get("Error")
        if not isinstance(message, str):
            raise OmdbParseError("Response is False but Error is not a text")
        return OmdbError(message=message, reason=classify_error(message), raw=data)
    return parse_title(data)


def parse_title(data: dict[str, Any]) -> OmdbTitle:
    awards_text = _text(data, "Awards")
    return OmdbTitle(
        imdb_id=_text(data, "imdbID"),
        title=_text(data, "Title"),
        rated=_text(data, "Rated"),
        box_office_usd=parse_dollars(_text(data, "BoxOffice")),
        awards_text=awards_text,
        awards=parse_awards(awards_text),
        ratings=parse_ratings(data),
        raw=data,
    )


def parse_ratings(data: dict[str, Any]) -> list[Rating]:
    """One Rating per source. The older shape (no Ratings array) still yields IMDb and Metacritic
    from imdbRating / Metascore, written as "8.4/10" and "42/100" like the modern array does."""
    votes = parse_int(_text(data, "imdbVotes"), "imdbVotes")
    by_source: dict[str, Rating] = {}
    entries = data.get("Ratings")
    if entries is not None and not isinstance(entries, list):
        raise OmdbParseError(f"field Ratings: expected a list, got {type(entries).__name__}")
    for entry in entries or []:
        if not isinstance(entry, dict):
            raise OmdbParseError(f"field Ratings: expected objects, got {type(entry).__name__}")
        name = _text(entry, "Source")
        value = _text(entry, "Value")
        if name is None or value is None:
            continue
        source = SOURCE_NAMES.get(name) or _slug(name)
        by_source[source] = Rating(
            source=source,
            value_raw=value,
            value_0_100=parse_rating_value(value),
            votes=votes if source == "imdb" else None,
        )
    imdb_rating = _text(data, "imdbRating")
    if "imdb" not in by_source and imdb_rating is not None:
        raw = f"{imdb_rating}/10"
        by_source["imdb"] = Rating("imdb", raw, parse_rating_value(raw), votes)
    metascore = _text(data, "Metascore")
    if "metacritic" not in by_source and metascore is not None:
        raw = f"{metascore}/100"
        by_source["metacritic"] = Rating("metacritic", raw, parse_rating_value(raw))
    return list(by_source.values())


#: Bounds that keep a malformed answer out of the warehouse's columns (BIGINT, VARCHAR sizes).
_MAX_COUNT = 10**15
_MAX_LENGTHS = {"Value": 64, "Rated": 32, "imdbID": 16}


_FRACTION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*/\s*(\d+(?:\.\d+)?)\s*$")
_PERCENT = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*%\s*$")


def parse_rating_value(value: str | None) -> float | None:
    """"7.4/10" -> 74.0, "85%" -> 85.0, "70/100" -> 70.0; anything else (or "N/A") -> None."""
    if value is None or value.strip() == MISSING:
        return None
    fraction = _FRACTION.match(value)
    if fraction:
        score, scale = float(fraction.group(1)), float(fraction.group(2))
        return round(score / scale * 100, 2) if scale else None
    percent = _PERCENT.match(value)
    if percent:
        return float(percent.group(1))
    return None


def parse_int(value: str | None, field_name: str = "value") -> int | None:
    """"1,234,567" -> 1234567; "N/A" or empty -> None."""
    if value is None:
        return None
    cleaned = value.replace(",", "").strip()
    if not cleaned or cleaned == MISSING:
        return None
    try:
        number = int(cleaned)
    except ValueError:
        raise OmdbParseError(f"field {field_name}: expected a whole number, got {value[:40]!r}") from None
    if not 0 <= number < _MAX_COUNT:
        raise OmdbParseError(f"field {field_name}: {number} is out of range")
    return number


def parse_dollars(value: str | None) -> int | None:
    """"$123,456" -> 123456; "N/A" -> None."""
    if value is None:
        return None
    return parse_int(value.replace("$", ""), "BoxOffice")


_LEAD = re.compile(r"^(Won|Nominated for)\s+(\d+)\s+(.+?)\.", re.I)
_TOTAL = re.compile(
    r"(?:(\d+)\s+wins?)?(?:\s*&\s*)?(?:(\d+)\s+nominations?)?\s+total", re.I
)
_ANOTHER = re.compile(r"Another\s+(?:(\d+)\s+wins?)?(?:\s*&\s*)?(?:(\d+)\s+nominations?)?", re.I)
_PLAIN = re.compile(r"^(?:(\d+)\s+wins?)?(?:\s*&\s*)?(?:(\d+)\s+nominations?)?\.?$", re.I)


def parse_awards(text: str | None) -> Awards:
    """Count the Awards sentence, in both of its real forms.

    - "Won 2 Oscars. Another 5 wins & 9 nominations." (older: counts besides the lead award)
    - "Won 2 Oscars. 12 wins & 30 nominations total" (newer: counts include the lead award)
    - "Nominated for 1 Oscar. ...", "Won 3 Golden Globes. ...", "1 nomination.", "2 wins."
    "N/A" (or no Awards at all) -> every count None; a sentence that names no Oscar -> 0 Oscars.
    """
    if text is None or not text.strip() or text.strip() == MISSING:
        return Awards()
    text = text.strip()
    lead_wins = lead_nominations = 0
    oscar_wins = oscar_nominations = 0
    rest = text
    lead = _LEAD.match(text)
    if lead:
        count = int(lead.group(2))
        is_win = lead.group(1).lower() == "won"
        if is_win:
            lead_wins = count
        else:
            lead_nominations = count
        if lead.group(3).lower().startswith("oscar"):
            oscar_wins = count if is_win else 0
            oscar_nominations = count
        rest = text[lead.end():].strip()

    total = _TOTAL.search(rest)
    if total and (total.group(1) or total.group(2)):
        return Awards(oscar_wins, oscar_nominations, _int(total.group(1)), _int(total.group(2)))
    another = _ANOTHER.search(rest)
    if another and (another.group(1) or another.group(2)):
        return Awards(
            oscar_wins,
            oscar_nominations,
            lead_wins + _int(another.group(1)),
            lead_nominations + _int(another.group(2)),
        )
    if not rest:
        return Awards(oscar_wins, oscar_nominations, lead_wins, lead_nominations)
    plain = _PLAIN.match(rest)
    if plain and (plain.group(1) or plain.group(2)):
        return Awards(
            oscar_wins,
            oscar_nominations,
            lead_wins + _int(plain.group(1)),
            lead_nominations + _int(plain.group(2)),
        )
    # A sentence we cannot count: keep what the lead said about the Oscars, totals unknown.
    return Awards(oscar_wins if lead else None, oscar_nominations if lead else None, None, None)


def _int(group: str | None) -> int:
    return int(group) if group else 0


def _text(data: dict[str, Any], key: str) -> str | None:
    """A text field, with "N/A" and empty as None. Numbers are accepted as their text; any other
    type is a parse error naming the field (it would otherwise crash deeper down)."""
    value = data.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (str, int, float)):
        raise OmdbParseError(f"field {key}: expected a text, got {type(value).__name__}")
    value = str(value).strip()
    if not value or value == MISSING:
        return None
    limit = _MAX_LENGTHS.get(key)
    if limit is not None and len(value) > limit:
        raise OmdbParseError(f"field {key}: {len(value)} characters, expected at most {limit}")
    return value


def _slug(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", name.lower()).strip("_")[:64] or "unknown"
