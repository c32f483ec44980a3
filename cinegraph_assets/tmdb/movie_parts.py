"""The parts of a details payload beyond the core tables: companies, production countries, spoken
languages, the collection, translations, alternative titles, recommendation and similar edges,
and image counts. Plain Python: no Dagster, no SQL.

parse.parse_movie calls `parse_movie_parts` after its own parts, so every rule of how a payload
becomes rows stays in the TMDb room. Each part has its own rules version (PARTS): bump it when a
rule changes what rows the part gives, and materializing `movies[year]` rebuilds only that part's
tables from the stored JSON, without a TMDb request. RULES_VERSION covers parse.py's core rules;
bumping it re-derives whole movies.

Like parse.py, these parsers accept what TMDb sends (a part missing or null, "" for an unknown
country) and raise MalformedMovie naming the field for a value of the wrong type.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from cinegraph_assets.tmdb.fields import as_dict, integer, objects, text

#: The version of the core parsing rules (parse.py: the movies row, genres, credits, release dates,
#: external ids, videos, keywords, providers). Bump it when such a rule changes the rows a payload
#: gives: movies derived by an older version go through the whole normalizing path again.
#: 1: the core tables. 2: the parts below joined the warehouse (migration 0008).
RULES_VERSION = 2

IMAGE_KINDS = ("backdrops", "logos", "posters")


@dataclass(frozen=True)
class Part:
    """One part of the payload beyond the core, with its own rules version.

    Bump `version` when `parse` changes what rows the part gives: re-deriving a year then reads
    only `fields` of each stored response and replaces only the tables of `attributes`, leaving
    every other table of the movie untouched (warehouse/stored_responses.py).
    """

    version: int
    fields: tuple[str, ...]  # top-level payload keys the parser reads
    attributes: tuple[str, ...]  # MovieRows attributes it fills (lookups first, then child rows)
    parse: Callable[[dict, int, dict], None]


def _code(value, where: str) -> str | None:
    """An ISO code: TMDb writes "" for none."""
    return text(value, where) or None


def _linked(payload: dict, tmdb_id: int, parts: dict, field: str, key_column: str, read_key,
            describe, lookup: str, link: str) -> None:
    """A list of shared things (companies, countries, languages): one lookup row each, and the
    movie's link to it at its position in TMDb's list (an entry seen twice keeps the first)."""
    seen: set = set()
    for i, item in enumerate(objects(payload.get(field), field)):
        where = f"{field}[{i}]"
        key = read_key(item, where)
        if key is None or key in seen:
            continue
        seen.add(key)
        parts[lookup].append({key_column: key, **describe(item, where)})
        parts[link].append({"tmdb_id": tmdb_id, key_column: key, "position": i})


def _companies(payload: dict, tmdb_id: int, parts: dict) -> None:
    _linked(payload, tmdb_id, parts, "production_companies", "company_id",
            lambda item, where: integer(item.get("id"), f"{where}.id"),
            lambda item, where: {
                "name": text(item.get("name"), f"{where}.name"),
                "origin_country": _code(item.get("origin_country"), f"{where}.origin_country"),
                "logo_path": text(item.get("logo_path"), f"{where}.logo_path"),
            },
            "companies", "movie_companies")


def _countries(payload: dict, tmdb_id: int, parts: dict) -> None:
    _linked(payload, tmdb_id, parts, "production_countries", "country",
            lambda item, where: _code(item.get("iso_3166_1"), f"{where}.iso_3166_1"),
            lambda item, where: {"name": text(item.get("name"), f"{where}.name")},
            "countries", "movie_production_countries")


def _languages(payload: dict, tmdb_id: int, parts: dict) -> None:
    _linked(payload, tmdb_id, parts, "spoken_languages", "language",
            lambda item, where: _code(item.get("iso_639_1"), f"{where}.iso_639_1"),
            lambda item, where: {"english_name": text(item.get("english_name"), f"{where}.english_name"),
                                 "name": text(item.get("name"), f"{where}.name")},
            "languages", "movie_spoken_languages")


def _collection(payload: dict, tmdb_id: int, parts: dict) -> None:
    collection = as_dict(payload.get("belongs_to_collection"), "belongs_to_collection")
    collection_id = integer(collection.get("id"), "belongs_to_collection.id")
    if collection_id is None:
        return
    parts["collections"].append({
        "collection_id": collection_id,
        "name": text(collection.get("name"), "belongs_to_collection.name"),
        "poster_path": text(collection.get("poster_path"), "belongs_to_collection.poster_path"),
        "backdrop_path": text(collection.get("backdrop_path"), "belongs_to_collection.backdrop_path"),
    })
    parts["movie_collections"].append({"tmdb_id": tmdb_id, "collection_id": collection_id})


def _translations(payload: dict, tmdb_id: int, parts: dict) -> None:
    part = as_dict(payload.get("translations"), "translations")
    seen: set[tuple[str, str]] = set()
    for i, translation in enumerate(objects(part.get("translations"), "translations.translations")):
        where = f"translations.translations[{i}]"
        language = _code(translation.get("iso_639_1"), f"{where}.iso_639_1")
        country = text(translation.get("iso_3166_1"), f"{where}.iso_3166_1") or ""
        if language is None or (language, country) in seen:
            continue
        seen.add((language, country))
        data = as_dict(translation.get("data"), f"{where}.data")
        parts["movie_translations"].append({
            "tmdb_id": tmdb_id,
            "language": language,
            "country": country,
            "english_name": text(translation.get("english_name"), f"{where}.english_name"),
            "name": text(translation.get("name"), f"{where}.name"),
            # TMDb sends "" for what the translation leaves untranslated: null says "not given".
            "title": text(data.get("title"), f"{where}.data.title") or None,
            "overview": text(data.get("overview"), f"{where}.data.overview") or None,
            "tagline": text(data.get("tagline"), f"{where}.data.tagline") or None,
            "homepage": text(data.get("homepage"), f"{where}.data.homepage") or None,
            "runtime": integer(data.get("runtime"), f"{where}.data.runtime") or None,
        })


def _alternative_titles(payload: dict, tmdb_id: int, parts: dict) -> None:
    part = as_dict(payload.get("alternative_titles"), "alternative_titles")
    for i, title in enumerate(objects(part.get("titles"), "alternative_titles.titles")):
        where = f"alternative_titles.titles[{i}]"
        parts["movie_alternative_titles"].append({
            "tmdb_id": tmdb_id,
            "seq": i,
            "country": _code(title.get("iso_3166_1"), f"{where}.iso_3166_1"),
            "title": text(title.get("title"), f"{where}.title"),
            "title_type": text(title.get("type"), f"{where}.type") or None,
        })


def _edges(payload: dict, tmdb_id: int, name: str, other_column: str, out: list[dict]) -> None:
    """recommendations / similar: the first page's movies, ranked from 1 in TMDb's order."""
    part = as_dict(payload.get(name), name)
    seen: set[int] = set()
    for item in objects(part.get("results"), f"{name}.results"):
        other = integer(item.get("id"), f"{name}.results.id")
        if other is None or other <= 0 or other == tmdb_id or other in seen:
            continue
        seen.add(other)
        out.append({"tmdb_id": tmdb_id, other_column: other, "rank": len(seen)})


def _image_counts(payload: dict, tmdb_id: int, parts: dict) -> None:
    if payload.get("images") is None:
        return  # not appended: no counts, rather than counts of zero
    part = as_dict(payload.get("images"), "images")
    for kind in IMAGE_KINDS:
        count = len(objects(part.get(kind), f"images.{kind}"))
        parts["movie_image_counts"].append({"tmdb_id": tmdb_id, "kind": kind, "image_count": count})


def _recommendations_and_similar(payload: dict, tmdb_id: int, parts: dict) -> None:
    _edges(payload, tmdb_id, "recommendations", "recommended_tmdb_id", parts["movie_recommendations"])
    _edges(payload, tmdb_id, "similar", "similar_tmdb_id", parts["movie_similar"])


#: Every part beyond the core, by name (the name movie_rules.part records). Versions start at 2,
#: the core version that first derived them, so migration 0010 maps a movie's rules_version to
#: each of them.
PARTS: dict[str, Part] = {
    "companies": Part(2, ("production_companies",), ("companies", "movie_companies"), _companies),
    "countries": Part(2, ("production_countries",), ("countries", "movie_production_countries"), _countries),
    "languages": Part(2, ("spoken_languages",), ("languages", "movie_spoken_languages"), _languages),
    "collections": Part(2, ("belongs_to_collection",), ("collections", "movie_collections"), _collection),
    "translations": Part(2, ("translations",), ("movie_translations",), _translations),
    "alternative_titles": Part(2, ("alternative_titles",), ("movie_alternative_titles",), _alternative_titles),
    "related_movies": Part(2, ("recommendations", "similar"), ("movie_recommendations", "movie_similar"),
                           _recommendations_and_similar),
    "image_counts": Part(2, ("images",), ("movie_image_counts",), _image_counts),
}

#: MovieRows attributes the parts fill: shared lookups, then the movie's own rows.
LOOKUP_PARTS = ("companies", "countries", "languages", "collections")
CHILD_PARTS = tuple(a for part in PARTS.values() for a in part.attributes if a not in LOOKUP_PARTS)


def parse_part(name: str, payload: dict, tmdb_id: int) -> dict[str, list[dict]]:
    """{MovieRows attribute: rows} of one part: the same rules as a fresh fetch's."""
    part = PARTS[name]
    rows: dict[str, list[dict]] = {attribute: [] for attribute in part.attributes}
    part.parse(payload, tmdb_id, rows)
    return rows


def parse_movie_parts(payload: dict, tmdb_id: int) -> dict[str, list[dict]]:
    """{MovieRows attribute: rows} of every part above (an attribute of LOOKUP_PARTS or CHILD_PARTS)."""
    rows: dict[str, list[dict]] = {}
    for name in PARTS:
        rows.update(parse_part(name, payload, tmdb_id))
    return rows


def rules_rows(tmdb_id: int) -> list[dict]:
    """The movie_rules rows of a movie every part of which the current rules just derived.
    Read at call time: a test may bump a version."""
    return [{"tmdb_id": tmdb_id, "part": name, "version": part.version} for name, part in PARTS.items()]
