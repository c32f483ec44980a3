"""The OMDb parser against every real capture in ../shared/data/omdb, and the awards sentences."""

from __future__ import annotations

import json

import pytest

from cinegraph_assets.omdb.parse import (
    Awards,
    OmdbError,
    OmdbParseError,
    OmdbTitle,
    classify_error,
    error_message_of,
    parse_awards,
    parse_dollars,
    parse_int,
    parse_rating_value,
    parse_response,
)
from cinegraph_assets_tests.support.shared_data import shared_data


def capture(name: str) -> str:
    return shared_data("omdb", "captures", name).read_text(encoding="utf-8")


def error_bodies() -> list[dict]:
    path = shared_data("omdb", "error_bodies", "omdb_error_bodies.json")
    return json.loads(path.read_text(encoding="utf-8"))["errors"]


def ratings_of(title: OmdbTitle) -> dict[str, tuple]:
    return {r.source: (r.value_raw, r.value_0_100, r.votes) for r in title.ratings}


def test_modern_shape_gives_three_sources_with_votes_and_awards():
    title = parse_response(capture("toxic-avenger.json"))
    assert isinstance(title, OmdbTitle)
    assert title.imdb_id == "tt0090191"
    assert ratings_of(title) == {
        "imdb": ("6.2/10", 62.0, 24519),
        "rotten_tomatoes": ("70%", 70.0, None),
        "metacritic": ("42/100", 42.0, None),
    }
    assert title.rated == "R"
    assert title.box_office_usd is None  # "N/A": missing, not zero
    assert title.awards_text == "1 nomination."
    assert title.awards == Awards(oscar_wins=0, oscar_nominations=0, total_wins=0, total_nominations=1)
    assert title.raw["Production"] == "Troma"


def test_older_shape_without_ratings_array_still_gives_imdb():
    title = parse_response(capture("james-bond.json"))
    assert isinstance(title, OmdbTitle)
    # Metascore "N/A" gives no metacritic row at all (never a zero score).
    assert ratings_of(title) == {"imdb": ("5.5/10", 55.0, 107)}
    assert title.rated is None
    assert title.awards == Awards(None, None, None, None)


def test_series_and_episode_captures_parse_with_their_votes():
    series = parse_response(capture("how-I-met-your-mother.json"))
    assert ratings_of(series) == {"imdb": ("8.4/10", 84.0, 450097)}
    assert series.rated == "TV-14"
    assert series.awards == Awards(oscar_wins=0, oscar_nominations=0, total_wins=25, total_nominations=90)
    episode = parse_response(capture("mother-ep.json"))
    assert ratings_of(episode) == {"imdb": ("8.3/10", 83.0, 1616)}


@pytest.mark.parametrize("name", ["toxic-avenger-search.json", "how-I-met-your-mother-episodes.json"])
def test_non_title_answers_yield_no_ratings_rather_than_crash(name):
    parsed = parse_response(capture(name))
    assert isinstance(parsed, OmdbTitle)
    assert parsed.ratings == [] and parsed.imdb_id is None


def test_every_real_error_body_is_classified_or_reported_as_a_parse_error():
    seen = {}
    for entry in error_bodies():
        body = entry["body_raw"]
        if body is None:
            assert classify_error(entry["error"]) == "omdb_error"
            continue
        try:
            parsed = parse_response(body)
        except OmdbParseError as exc:
            seen[entry["error"]] = ("parse_error", str(exc))
            continue
        assert isinstance(parsed, OmdbError)
        seen[entry["error"]] = (parsed.reason, parsed.message)
    assert seen["Movie not found!"] == ("not_found", "Movie not found!")
    assert seen["Error getting data."][0] == "not_found"
    assert seen["Incorrect IMDb ID."][0] == "incorrect_imdb_id"
    assert seen["Invalid API key!"][0] == "invalid_key"
    assert seen["No API key provided."][0] == "invalid_key"
    assert seen["Request limit reached!"][0] == "quota"
    assert seen["Something went wrong."][0] == "omdb_error"
    # The plain-text quota answer and the unescaped-quotes body are not JSON: recorded, not crashed.
    assert seen["Daily request limit reached!"][0] == "parse_error"
    conversion = next(k for k in seen if k.startswith("Conversion from string"))
    assert seen[conversion][0] == "parse_error" and "invalid JSON" in seen[conversion][1]


def test_error_text_is_read_even_from_bodies_that_are_not_json():
    by_error = {e["error"]: e for e in error_bodies()}
    assert classify_error(error_message_of(by_error["Daily request limit reached!"]["body_raw"])) == "quota"
    assert classify_error(error_message_of(by_error["Request limit reached!"]["body_raw"])) == "quota"
    conversion = next(e for e in error_bodies() if e["error"].startswith("Conversion"))
    assert "011f8539" in error_message_of(conversion["body_raw"])
    assert error_message_of(capture("toxic-avenger.json")) is None


@pytest.mark.parametrize(
    "text, expected",
    [
        ("Won 2 Oscars. Another 5 wins & 9 nominations.", Awards(2, 2, 7, 9)),
        ("Won 2 Oscars. 12 wins & 30 nominations total", Awards(2, 2, 12, 30)),
        ("Nominated for 1 Oscar. Another 3 wins & 5 nominations.", Awards(0, 1, 3, 6)),
        ("Nominated for 3 Oscars. 10 wins & 41 nominations total", Awards(0, 3, 10, 41)),
        ("Won 1 Oscar.", Awards(1, 1, 1, 0)),
        ("Won 3 Primetime Emmys. 44 wins & 190 nominations total", Awards(0, 0, 44, 190)),
        ("Nominated for 2 Golden Globes. Another 25 wins & 88 nominations.", Awards(0, 0, 25, 90)),
        ("4 wins & 12 nominations.", Awards(0, 0, 4, 12)),
        ("1 win.", Awards(0, 0, 1, 0)),
        ("1 nomination.", Awards(0, 0, 0, 1)),
        ("1 win & 2 nominations total", Awards(0, 0, 1, 2)),
        ("N/A", Awards(None, None, None, None)),
        (None, Awards(None, None, None, None)),
        ("Something new and unknown", Awards(None, None, None, None)),
    ],
)
def test_awards_sentences(text, expected):
    assert parse_awards(text) == expected


def test_numbers_come_as_display_text():
    assert parse_int("1,234,567") == 1234567
    assert parse_int("N/A") is None
    assert parse_dollars("$123,456") == 123456
    assert parse_dollars("N/A") is None
    assert parse_rating_value("7.4/10") == 74.0
    assert parse_rating_value("85%") == 85.0
    assert parse_rating_value("70/100") == 70.0
    assert parse_rating_value("N/A") is None
    assert parse_rating_value("0/100") == 0.0  # a real zero stays zero


def test_modern_ratings_win_over_summary_fields_and_unknown_sources_are_kept():
    body = json.dumps({
        "Response": "True", "imdbID": "tt1", "imdbRating": "7.0", "Metascore": "60",
        "imdbVotes": "1,000", "BoxOffice": "$1,234,567", "Rated": "PG-13",
        "Ratings": [
            {"Source": "Internet Movie Database", "Value": "7.1/10"},
            {"Source": "Some New Site", "Value": "4/5"},
            {"Source": "Rotten Tomatoes", "Value": "N/A"},
        ],
    })
    title = parse_response(body)
    assert ratings_of(title) == {
        "imdb": ("7.1/10", 71.0, 1000),
        "some_new_site": ("4/5", 80.0, None),
        "metacritic": ("60/100", 60.0, None),
    }
    assert title.box_office_usd == 1234567 and title.rated == "PG-13"


@pytest.mark.parametrize(
    "body, field",
    [
        ('{"Response": "True", "Ratings": "8/10"}', "Ratings"),
        ('{"Response": "True", "Ratings": [1, 2]}', "Ratings"),
        ('{"Response": "True", "imdbVotes": {"n": 1}}', "imdbVotes"),
        ('{"Response": "True", "imdbVotes": "many"}', "imdbVotes"),
        ('{"Response": "True", "BoxOffice": ["$1"]}', "BoxOffice"),
        ('[1, 2, 3]', "JSON object"),
        ('{"Response": "True", "imdbRating": "7.', "invalid JSON"),
    ],
)
def test_unexpected_types_are_parse_errors_naming_the_field(body, field):
    with pytest.raises(OmdbParseError, match=field):
        parse_response(body)
