"""TMDb JSON -> plain rows for the warehouse. Plain Python: no Dagster, no SQL.

Every parser is tolerant of what TMDb really sends (the captures in ../shared/data/tmdb): the older
details shape without origin_country, empty release dates (`"release_date": ""`,
`"release_dates": {"results": []}`), `adult: null`, appended parts missing. A payload whose known
fields have unexpected types (a string budget, a list where an object belongs, a value that cannot
fit its column) raises MalformedMovie(reason), so the caller records that one movie as failed with
the reason instead of losing the rest of the year. Error bodies (`{"status_code": 34, ...}`,
`{"errors": [...]}`) are not movies and raise MalformedMovie too.

The credit loops are the hot path of normalizing (about 300 credits per movie, 200 movies a
second), so they check types inline instead of calling a helper per field.
"""

from __future__ import annotations

import math
from datetime import date

from cinegraph_assets.tmdb import movie_parts
from cinegraph_assets.tmdb.fields import (  # noqa: F401  (MalformedMovie is part of this module's API)
    BIGINT_MAX as _BIGINT_MAX, INT_MAX as _INT_MAX, MalformedMovie, as_dict as _dict, as_list as _list,
    bad as _bad, boolean as _bool, day as _date, integer as _int, number as _float, objects as _items,
    text as _str, timestamp as _timestamp,
)
from cinegraph_assets.warehouse import credit_rules
from cinegraph_assets.warehouse.credit_rules import CREDIT_ID as CREDIT_ID_RULE
from cinegraph_assets.warehouse.credit_rules import ID as ID_RULE
from cinegraph_assets.warehouse.credit_rules import PERSON as PERSON_RULE
from cinegraph_assets.warehouse.rows import DiscoveredMovie, MovieRows

# VARCHAR(n) of the movies table: a longer value would fail the whole insert, so it makes the one
# movie malformed instead.
_MOVIE_TEXT_LIMITS = {"imdb_id": 16, "status": 32, "original_language": 16}
WATCH_OFFER_TYPES = ("flatrate", "free", "ads", "rent", "buy")


# ------------------------------------------------------------------------------------ details
def _not_a_movie(payload) -> str | None:
    if type(payload) is not dict:
        return f"the response is a {type(payload).__name__}, not a movie object"
    if "id" not in payload:
        if "status_code" in payload or "status_message" in payload:
            return (
                f"TMDb error body, not a movie: status_code {payload.get('status_code')!r}: "
                f"{str(payload.get('status_message'))[:120]}"
            )
        if "errors" in payload:
            return f"TMDb error body, not a movie: {str(payload.get('errors'))[:120]}"
        return "the response has no id: not a movie object"
    return None


def parse_movie(payload: dict) -> MovieRows:
    """A /movie/{id}?append_to_response=... payload as warehouse rows; MalformedMovie if unusable.

    release_year is the year of the payload's release_date, TMDb's primary release date (the one
    /discover/movie filters on with primary_release_date), or None when TMDb has no date for it.
    """
    problem = _not_a_movie(payload)
    if problem:
        raise MalformedMovie(problem)
    tmdb_id = _int(payload["id"], "id")
    if tmdb_id is None or tmdb_id <= 0:
        raise _bad("id", "a positive integer", payload["id"])

    release_date = _date(payload.get("release_date"), "release_date")
    movie = {
        "tmdb_id": tmdb_id,
        "imdb_id": _str(payload.get("imdb_id"), "imdb_id") or None,
        "title": _str(payload.get("title"), "title"),
        "original_title": _str(payload.get("original_title"), "original_title"),
        "release_date": release_date,
        "release_year": release_date.year if release_date else None,
        "runtime": _int(payload.get("runtime"), "runtime"),
        "budget": _int(payload.get("budget"), "budget", _BIGINT_MAX),
        "revenue": _int(payload.get("revenue"), "revenue", _BIGINT_MAX),
        "popularity": _float(payload.get("popularity"), "popularity"),
        "vote_average": _float(payload.get("vote_average"), "vote_average"),
        "vote_count": _int(payload.get("vote_count"), "vote_count"),
        "status": _str(payload.get("status"), "status"),
        "adult": _bool(payload.get("adult"), "adult"),
        "original_language": _str(payload.get("original_language"), "original_language"),
        "overview": _str(payload.get("overview"), "overview"),
        "tagline": _str(payload.get("tagline"), "tagline"),
        "tmdb_data": payload,
        "rules_version": movie_parts.RULES_VERSION,  # read at call time: a test may bump it
    }
    for column, limit in _MOVIE_TEXT_LIMITS.items():
        value = movie[column]
        if value is not None and len(value) > limit:
            raise _bad(column, f"at most {limit} characters", value)

    rows = MovieRows(movie=movie)
    _parse_genres(payload, rows)
    _parse_credits(payload, rows)
    _parse_release_dates(payload, rows)
    _parse_external_ids(payload, rows)
    _parse_videos(payload, rows)
    _parse_keywords(payload, rows)
    _parse_watch_providers(payload, rows)
    for attribute, part_rows in movie_parts.parse_movie_parts(payload, tmdb_id).items():
        setattr(rows, attribute, part_rows)
    rows.movie_rules = movie_parts.rules_rows(tmdb_id)
    if movie["imdb_id"] is None and rows.external_ids:
        # Older details shapes lack imdb_id on the base object; external_ids has it.
        movie["imdb_id"] = rows.external_ids[0]["imdb_id"]
        if movie["imdb_id"] is not None and len(movie["imdb_id"]) > _MOVIE_TEXT_LIMITS["imdb_id"]:
            raise _bad("external_ids.imdb_id", "at most 16 characters", movie["imdb_id"])
    return rows


def _parse_genres(payload: dict, rows: MovieRows) -> None:
    tmdb_id = rows.tmdb_id
    seen: set[int] = set()
    for position, genre in enumerate(_items(payload.get("genres"), "genres")):
        genre_id = _int(genre.get("id"), f"genres[{position}].id")
        if genre_id is None or genre_id in seen:
            continue
        seen.add(genre_id)
        rows.genres.append({"genre_id": genre_id, "name": _str(genre.get("name"), "genres.name")})
        rows.movie_genres.append({"tmdb_id": tmdb_id, "genre_id": genre_id, "position": position})


def _person(credit: dict, person_id: int) -> dict:
    return {"person_id": person_id, "name": credit.get("name"), "original_name": credit.get("original_name"),
            "gender": credit.get("gender"), "known_for_department": credit.get("known_for_department"),
            "profile_path": credit.get("profile_path")}


def _new_credits(items: list, kind: str, people: dict[int, dict]):
    """Yield (index, credit, credit_id, person_id) for each credit of one list (`cast` or `crew`)
    not seen before in that list, checking every credit against the credit rules
    (warehouse/credit_rules.py, which PostgreSQL checks from too) and recording each person from
    their first credit."""
    part_rule = credit_rules.PART_RULES[kind]
    seen: set[str] = set()  # movie_cast and movie_crew are keyed separately
    for i, credit in enumerate(items):
        if not ID_RULE.ok(credit):
            raise _bad(f"credits.{kind}[{i}].id", ID_RULE.expected, credit.get("id"))
        if not CREDIT_ID_RULE.ok(credit):
            raise _bad(f"credits.{kind}[{i}].credit_id", CREDIT_ID_RULE.expected, credit.get("credit_id"))
        if not PERSON_RULE.ok(credit):
            raise MalformedMovie(f"credits.{kind}[{i}]: {PERSON_RULE.reason}")
        if not part_rule.ok(credit):  # a repeated credit too: PostgreSQL checks every entry
            raise MalformedMovie(f"credits.{kind}[{i}]: {part_rule.reason}")
        person_id = credit["id"]
        # Not seen from TMDb, but the key must exist: person + position is stable per payload.
        credit_id = credit.get("credit_id")
        if credit_id is None:
            credit_id = f"{kind}:{person_id}:{i}"
        if person_id not in people:
            people[person_id] = _person(credit, person_id)
        if credit_id in seen:
            continue  # the same credit twice would violate the table's key; keep the first
        seen.add(credit_id)
        yield i, credit, credit_id, person_id


def _parse_credits(payload: dict, rows: MovieRows) -> None:
    # The hot loop of normalizing: the rules' checks are compiled lambdas, location strings are
    # built only for an error.
    credits = _dict(payload.get("credits"), "credits")
    if not credits:
        return
    tmdb_id = rows.tmdb_id
    # Semantics the PostgreSQL path (warehouse/movie_rows.py) repeats in SQL: a person's row
    # comes from their first credit (cast before crew); a credit_id seen twice in the same list
    # keeps its first entry; a missing credit_id becomes "<cast|crew>:<person>:<index>".
    people: dict[int, dict] = {}
    rows.cast.extend(
        {"tmdb_id": tmdb_id, "credit_id": credit_id, "person_id": person_id,
         "cast_order": credit.get("order"), "character": credit.get("character")}
        for _, credit, credit_id, person_id in _new_credits(
            _items(credits.get("cast"), "credits.cast"), "cast", people))
    rows.crew.extend(
        {"tmdb_id": tmdb_id, "credit_id": credit_id, "person_id": person_id,
         "department": credit.get("department"), "job": credit.get("job")}
        for _, credit, credit_id, person_id in _new_credits(
            _items(credits.get("crew"), "credits.crew"), "crew", people))
    rows.people = list(people.values())


def _parse_release_dates(payload: dict, rows: MovieRows) -> None:
    part = _dict(payload.get("release_dates"), "release_dates")
    tmdb_id = rows.tmdb_id
    seen: set[str] = set()
    out = rows.release_dates
    for i, country_entry in enumerate(_items(part.get("results"), "release_dates.results")):
        try:
            country = _str(country_entry.get("iso_3166_1"), "iso_3166_1")
            if not country or country in seen:
                continue
            seen.add(country)
            for seq, entry in enumerate(_items(country_entry.get("release_dates"), "release_dates")):
                certification = entry.get("certification")
                language = entry.get("iso_639_1")
                note = entry.get("note")
                release_type = entry.get("type")
                if not ((certification is None or type(certification) is str)
                        and (language is None or type(language) is str)
                        and (note is None or type(note) is str)
                        and (release_type is None or (type(release_type) is int and 0 <= release_type < 100))):
                    raise MalformedMovie(
                        f"release_dates[{seq}]: certification, iso_639_1 and note must be strings, "
                        "type a small integer"
                    )
                out.append({
                    "tmdb_id": tmdb_id,
                    "country": country,
                    "seq": seq,
                    "release_type": release_type,
                    "release_date": _date(entry.get("release_date"), f"release_dates[{seq}].release_date"),
                    "certification": certification,
                    "language": language or None,
                    "note": note,
                })
        except MalformedMovie as error:
            raise MalformedMovie(f"release_dates.results[{i}].{error.reason}") from None


def _parse_external_ids(payload: dict, rows: MovieRows) -> None:
    if "external_ids" not in payload:
        return
    part = _dict(payload.get("external_ids"), "external_ids")
    if not part:
        return
    rows.external_ids.append({
        "tmdb_id": rows.tmdb_id,
        **{
            column: _str(part.get(column), f"external_ids.{column}") or None
            for column in ("imdb_id", "wikidata_id", "facebook_id", "instagram_id", "twitter_id")
        },
    })


def _parse_videos(payload: dict, rows: MovieRows) -> None:
    part = _dict(payload.get("videos"), "videos")
    seen: set[str] = set()
    for i, video in enumerate(_items(part.get("results"), "videos.results")):
        w = f"videos.results[{i}]"
        video_id = _str(video.get("id"), f"{w}.id")
        if not video_id or video_id in seen:
            continue
        seen.add(video_id)
        rows.videos.append({
            "tmdb_id": rows.tmdb_id,
            "video_id": video_id,
            "name": _str(video.get("name"), f"{w}.name"),
            "site": _str(video.get("site"), f"{w}.site"),
            "video_key": _str(video.get("key"), f"{w}.key"),
            "video_type": _str(video.get("type"), f"{w}.type"),
            "official": _bool(video.get("official"), f"{w}.official"),
            "size": _int(video.get("size"), f"{w}.size"),
            "language": _str(video.get("iso_639_1"), f"{w}.iso_639_1") or None,
            "country": _str(video.get("iso_3166_1"), f"{w}.iso_3166_1") or None,
            "published_at": _timestamp(video.get("published_at"), f"{w}.published_at"),
        })


def _parse_keywords(payload: dict, rows: MovieRows) -> None:
    part = _dict(payload.get("keywords"), "keywords")
    seen: set[int] = set()
    # /movie/{id}/keywords says "keywords"; TV and some older bodies say "results".
    items = part.get("keywords") if "keywords" in part else part.get("results")
    for i, keyword in enumerate(_items(items, "keywords.keywords")):
        keyword_id = _int(keyword.get("id"), f"keywords.keywords[{i}].id")
        if keyword_id is None or keyword_id in seen:
            continue
        seen.add(keyword_id)
        rows.keywords.append(
            {"keyword_id": keyword_id, "name": _str(keyword.get("name"), f"keywords.keywords[{i}].name")}
        )
        rows.movie_keywords.append({"tmdb_id": rows.tmdb_id, "keyword_id": keyword_id})


def _parse_watch_providers(payload: dict, rows: MovieRows) -> None:
    part = _dict(payload.get("watch/providers"), "watch/providers")
    results = _dict(part.get("results"), "watch/providers.results")
    seen: set[tuple[str, str, int]] = set()
    for country, entry in results.items():
        where = f"watch/providers.results.{country}"
        entry = _dict(entry, where)
        link = _str(entry.get("link"), f"{where}.link")
        for offer_type in WATCH_OFFER_TYPES:
            for i, offer in enumerate(_items(entry.get(offer_type), f"{where}.{offer_type}")):
                w = f"{where}.{offer_type}[{i}]"
                provider_id = _int(offer.get("provider_id"), f"{w}.provider_id")
                key = (country, offer_type, provider_id)
                if provider_id is None or key in seen:
                    continue
                seen.add(key)
                rows.watch_providers.append({
                    "tmdb_id": rows.tmdb_id,
                    "country": country,
                    "offer_type": offer_type,
                    "provider_id": provider_id,
                    "provider_name": _str(offer.get("provider_name"), f"{w}.provider_name"),
                    "display_priority": _int(offer.get("display_priority"), f"{w}.display_priority"),
                    "link": link,
                })


# ------------------------------------------------------------------------------------ lists
def parse_results_page(body, what: str) -> tuple[list[dict], int, int]:
    """(results, total_results, total_pages) of one paged TMDb list (/discover/movie,
    /movie/changes); ValueError naming `what` for a body that is not a results page."""
    if type(body) is not dict:
        raise ValueError(f"{what}: expected a JSON object, got {type(body).__name__}")
    if "results" not in body:
        problem = _not_a_movie(body) if "id" not in body else None
        raise ValueError(f"{what}: no results in the response ({problem or 'unexpected shape'})")
    try:
        results = _items(body.get("results"), f"{what}.results")
        total_results = _int(body.get("total_results"), f"{what}.total_results") or 0
        total_pages = _int(body.get("total_pages"), f"{what}.total_pages") or 0
    except MalformedMovie as error:
        raise ValueError(error.reason) from None
    return results, total_results, total_pages


def parse_discover_page(body: dict) -> tuple[list[DiscoveredMovie], int, int]:
    """(movies, total_results, total_pages) of one /discover/movie page.

    Raises ValueError for a body that is not a results page (an error body, a wrong shape); a
    single result without a usable id is skipped, since it cannot be fetched anyway.
    """
    results, total_results, total_pages = parse_results_page(body, "discover")
    movies = []
    for item in results:
        tmdb_id = item.get("id")
        if type(tmdb_id) is not int or tmdb_id <= 0:
            continue
        try:
            release_date = _date(item.get("release_date"), "release_date")
        except MalformedMovie:
            release_date = None
        popularity = item.get("popularity")
        title = item.get("title")
        adult = item.get("adult")
        video = item.get("video")
        movies.append(DiscoveredMovie(
            tmdb_id=tmdb_id,
            release_date=release_date,
            popularity=float(popularity)
            if type(popularity) in (int, float) and math.isfinite(popularity) else None,
            adult=adult if type(adult) is bool else None,
            video=video if type(video) is bool else None,
            title=title if type(title) is str else None,
        ))
    return movies, total_results, total_pages
