"""Load the nominations of one film year into the warehouse: match, link, write in one transaction.

Plain Python (no Dagster): the asset calls load_film_year once per partition it covers.
"""

from __future__ import annotations

from collections import Counter
from typing import Callable, Sequence

from sqlalchemy.engine import Engine

from cinegraph_assets.oscars.match import (
    MATCH_BY_IMDB_ID,
    MATCH_BY_TITLE,
    NO_FILM,
    PERSON_CLASSES,
    UNMATCHED_REASONS,
    YEAR_WINDOW,
    Credit,
    MovieCandidate,
    MovieMatcher,
    NOT_LINKED,
    link_nominee,
)
from cinegraph_assets.oscars.source import Nomination, OscarsTable
from cinegraph_assets.warehouse import oscars as sql

#: The counters every load reports (always present, 0 when nothing happened).
STAT_NAMES = (
    "nominations", "film_nominations", "table_rows", "winners",
    f"matched_by_{MATCH_BY_IMDB_ID}", f"matched_by_{MATCH_BY_TITLE}",
    *(f"unmatched_{reason}" for reason in UNMATCHED_REASONS),
    "person_nominees", "persons_linked",
    "rows_inserted", "rows_updated", "rows_deleted", "rows_unchanged",
)


def empty_stats() -> Counter:
    return Counter({name: 0 for name in STAT_NAMES})


def write_reference_tables(engine: Engine, table: OscarsTable) -> None:
    """Ceremonies and categories, from the whole source (cheap, and keeps raw names complete)."""
    with engine.begin() as conn:
        sql.upsert_oscar_ceremonies(
            conn,
            [{"number": c.number, "year": c.year, "year_label": c.year_label} for c in table.ceremonies],
        )
        sql.upsert_oscar_categories(
            conn,
            [
                {"canonical_category": c.canonical_category, "award_class": c.award_class,
                 "raw_names": list(c.raw_names)}
                for c in table.categories
            ],
        )


def _candidates(rows: Sequence[dict]) -> list[MovieCandidate]:
    return [MovieCandidate(**row) for row in rows]


def _nomination_row(nomination: Nomination, film, match) -> dict:
    position = film.position if film is not None else None
    return {
        "nomination_key": f"{nomination.key}.{'f%d' % position if film is not None else 'nofilm'}",
        "source_key": nomination.key,
        "ceremony": nomination.ceremony,
        "film_year": nomination.film_year,
        "year_label": nomination.year_label,
        "award_class": nomination.award_class,
        "category": nomination.category,
        "canonical_category": nomination.canonical_category,
        "film_position": position,
        "film_title": film.title if film is not None else None,
        "film_imdb_id": film.imdb_id if film is not None else None,
        "tmdb_id": match.tmdb_id,
        "match_method": match.method,
        "match_confidence": match.confidence,
        "unmatched_reason": match.unmatched_reason,
        "winner": nomination.winner,
        "name": nomination.name,
        "detail": film.detail if film is not None else nomination.detail,
        "note": nomination.note,
        "citation": nomination.citation,
    }


def load_film_year(
    engine: Engine, table: OscarsTable, film_year: int, log: Callable[[str], None] | None = None
) -> Counter:
    """Match and store every nomination of `film_year`; returns the counters of STAT_NAMES.

    `log` (optional) receives one line per ambiguous film, naming the candidates a human can pick.

    Reads the movies released in film_year-1..film_year+1 (title candidates) plus any movie whose
    imdb_id a nomination names, matches, links person nominees to the matched movies' credits, and
    replaces the year's nominations in a single transaction: a failure leaves the previous rows.
    """
    stats = empty_stats()
    nominations = table.for_film_year(film_year)
    with engine.connect() as conn:
        window = sql.movies_released_between(conn, film_year - YEAR_WINDOW, film_year + YEAR_WINDOW)
        by_imdb = sql.movies_with_imdb_ids(
            conn, [film.imdb_id for n in nominations for film in n.films if film.imdb_id]
        )
    matcher = MovieMatcher(_candidates(window), _candidates(by_imdb))

    planned: list[tuple[Nomination, dict]] = []
    for nomination in nominations:
        stats["nominations"] += 1
        stats["winners"] += int(nomination.winner)
        films = nomination.films or (None,)
        for film in films:
            match = matcher.match(film, film_year) if film is not None else NO_FILM
            if film is not None:
                stats["film_nominations"] += 1
            if match.matched:
                stats[f"matched_by_{match.method}"] += 1
            else:
                stats[f"unmatched_{match.unmatched_reason}"] += 1
                if match.candidates and log is not None:
                    log(
                        f"{film.title!r} ({nomination.canonical_category}, {film_year}) is ambiguous: "
                        f"movies {', '.join(map(str, match.candidates))} fit equally well; not guessed"
                    )
            planned.append((nomination, _nomination_row(nomination, film, match)))

    linked_movies = {
        row["tmdb_id"] for nomination, row in planned
        if row["tmdb_id"] is not None and nomination.award_class in PERSON_CLASSES
    }
    with engine.connect() as conn:
        credit_rows = sql.movie_credits(conn, linked_movies) if linked_movies else {}
    credits = {tmdb_id: [Credit(**c) for c in rows] for tmdb_id, rows in credit_rows.items()}

    rows: list[dict] = []
    for nomination, row in planned:
        movie_credits = credits.get(row["tmdb_id"], []) if row["tmdb_id"] is not None else []
        nominees = []
        for nominee in nomination.nominees:
            link = NOT_LINKED
            if nomination.award_class in PERSON_CLASSES and row["tmdb_id"] is not None:
                stats["person_nominees"] += 1
                link = link_nominee(nominee, nomination.award_class, movie_credits)
                stats["persons_linked"] += int(link.tmdb_person_id is not None)
            nominees.append({
                "position": nominee.position,
                "name": nominee.name,
                "imdb_person_id": nominee.imdb_id,
                "tmdb_person_id": link.tmdb_person_id,
                "link_method": link.method,
            })
        rows.append({**row, "nominees": nominees})

    with engine.begin() as conn:
        written = sql.replace_oscar_nominations_for_year(conn, film_year, rows)
    stats["table_rows"] = len(rows)
    for what in ("inserted", "updated", "deleted", "unchanged"):
        stats[f"rows_{what}"] = written[what]
    return stats
