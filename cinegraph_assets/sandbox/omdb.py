"""/omdb/?i=tt...&apikey=...: OMDb's by-id lookup for the catalog's IMDb ids, in OMDb's real shapes.

Two shapes, as OMDb serves: the modern one (Ratings array, DVD, BoxOffice, Production, Website) and
an older one without them (../shared/data/omdb/captures/james-bond.json). Every missing value is the
string "N/A"; numbers are strings ("1,234,567", "$123,456", "7.4/10", "85%", "70/100"). Awards agree
with the sandbox's Oscar source and come in both real forms ("... Another 5 wins & 9 nominations."
and "... 12 wins & 30 nominations total").

Errors are OMDb's bodies: unknown id "Movie not found!" (HTTP 200), malformed id "Incorrect IMDb ID."
(HTTP 200), missing key "No API key provided." and bad key "Invalid API key!" (HTTP 401), and past
the daily limit "Request limit reached!" with HTTP 401. The limit counts requests per sandbox day and
resets when /_sandbox/advance moves the clock past midnight.
"""

from __future__ import annotations

import random
import re
import threading

from cinegraph_assets.sandbox import responses as r
from cinegraph_assets.sandbox import words
from cinegraph_assets.sandbox.catalog import NO_DATE, from_day, imdb_number, mix, movie_id_of_imdb

IMDB_ID = re.compile(r"^tt(\d{7,8})$")
RATINGS = ["G", "PG", "PG-13", "R", "NC-17", "Not Rated", "Unrated", "TV-14", "Approved", "Passed"]


def thousands(n: int) -> str:
    return f"{n:,}"


class OMDbApi:
    prefix = "/omdb"

    def __init__(self, sandbox):
        self.sb = sandbox
        self._lock = threading.Lock()
        self._day = sandbox.catalog.today
        self.used_today = 0

    def stats(self) -> dict:
        with self._lock:
            self._roll_day()
            return {"omdb_requests_today": self.used_today}

    def _roll_day(self) -> None:
        today = self.sb.catalog.today
        if today != self._day:
            self._day, self.used_today = today, 0

    def handle(self, path: str, params: dict[str, str], headers) -> r.Response:
        if path.rstrip("/") != "/omdb":
            return r.text_response(404, "Not Found\n")
        key = params.get("apikey")
        if not key:
            return r.omdb_error(401, r.OMDB_NO_KEY)
        if key != self.sb.omdb_api_key:
            return r.omdb_error(401, r.OMDB_INVALID_KEY)
        with self._lock:
            self._roll_day()
            if self.used_today >= self.sb.settings.omdb_daily_limit:
                return r.omdb_error(401, r.OMDB_LIMIT)
            self.used_today += 1
        match = IMDB_ID.match(params.get("i", ""))
        if not match:
            return r.omdb_error(200, r.OMDB_INCORRECT_ID)
        number = int(match.group(1))
        movie_id = movie_id_of_imdb(number)
        cat = self.sb.catalog
        with cat.lock:
            slot = cat.index_of(movie_id)
            if slot is None or not cat.has_imdb[slot] or imdb_number(movie_id) != number \
                    or cat.created_day[slot] > cat.today:
                return r.omdb_error(200, r.OMDB_NOT_FOUND)
            row = cat._row(slot)  # IMDb keeps films TMDb deleted: serve them anyway
        return r.json_response(200, self.movie(row, params.get("plot", "short")))

    def movie(self, row: dict, plot: str) -> dict:
        renderer = self.sb.renderer
        movie_id = row["id"]
        rng = random.Random(mix(self.sb.catalog.seed, movie_id, 0x0DB))
        title, _ = renderer.titles(movie_id, row["lang"], row["title_variant"])
        base = renderer.base(row)
        cast, crew = renderer.people(movie_id, row["popularity"])
        na = "N/A"
        day = row["day"]
        released = na if day == NO_DATE else from_day(day).strftime("%d %b %Y")
        year = na if day == NO_DATE else str(from_day(day).year)
        directors = ", ".join(p[1] for p in crew if p[3] == "Director") or na
        writers = ", ".join(f"{p[1]} ({p[3].lower()})" if p[3] != "Screenplay" else p[1]
                            for p in [c for c in crew if c[2] == "Writing"][:3]) or na
        actors = ", ".join(p[1] for p in cast[:4]) or na
        votes = row["vote_count"] * rng.randint(3, 40)
        rating = round(min(10.0, max(1.0, row["vote_average"] + rng.uniform(-0.6, 0.6))), 1) if votes else None
        overview = base["overview"]
        short_plot = overview.split(". ")[0] + ("." if ". " in overview else "") if overview else ""
        country = words.COUNTRY_OF_LANGUAGE[row["lang"]][1]
        if country == "United States of America":
            country = "United States"
        language = dict((c, e) for c, e, _n, _w in words.LANGUAGES)[row["lang"]]
        metascore = rng.randint(20, 98) if rng.random() < 0.45 else None
        rotten = rng.randint(5, 100) if rng.random() < 0.55 else None
        body = {
            "Title": title,
            "Year": year,
            "Rated": rng.choice(RATINGS) if rng.random() < 0.7 else na,
            "Released": released,
            "Runtime": f"{base['runtime']} min" if base["runtime"] else na,
            "Genre": ", ".join(g["name"] for g in base["genres"]) or na,
            "Director": directors,
            "Writer": writers,
            "Actors": actors,
            "Plot": (overview if plot == "full" else short_plot) or na,
            "Language": language,
            "Country": country,
            "Awards": self.awards(row, rng),
            "Poster": f"https://m.media-amazon.com/images/M/{base['poster_path'][1:-4]}._V1_SX300.jpg"
            if base["poster_path"] else na,
        }
        modern = mix(movie_id, 0x5A) % 100 >= 15  # about 15% keep OMDb's older shape
        if modern:
            ratings = []
            if rating is not None:
                ratings.append({"Source": "Internet Movie Database", "Value": f"{rating}/10"})
            if rotten is not None:
                ratings.append({"Source": "Rotten Tomatoes", "Value": f"{rotten}%"})
            if metascore is not None:
                ratings.append({"Source": "Metacritic", "Value": f"{metascore}/100"})
            body["Ratings"] = ratings
        body.update({
            "Metascore": str(metascore) if metascore is not None else na,
            "imdbRating": str(rating) if rating is not None else na,
            "imdbVotes": thousands(votes) if votes else na,
            "imdbID": f"tt{imdb_number(movie_id):07d}",
            "Type": "movie",
        })
        if modern:
            revenue = base["revenue"]
            body.update({
                "DVD": from_day(day + 120).strftime("%d %b %Y") if day != NO_DATE and rng.random() < 0.5 else na,
                "BoxOffice": f"${thousands(revenue // 3)}" if revenue else na,
                "Production": na if rng.random() < 0.6 else (base["production_companies"] or [{"name": na}])[0]["name"],
                "Website": na,
            })
        body["Response"] = "True"
        return body

    def awards(self, row: dict, rng: random.Random) -> str:
        oscars = getattr(self.sb, "oscars", None)
        noms_wins = oscars.nominations_by_film().get(f"tt{imdb_number(row['id']):07d}") if oscars else None
        other_wins = rng.choice((0, 0, 1, 2, 3, 5, 12)) if row["vote_count"] > 5 else 0
        other_noms = other_wins + rng.choice((0, 1, 2, 4, 9, 30)) if row["vote_count"] > 5 else 0
        total_form = rng.random() < 0.5
        if noms_wins:
            noms, wins = noms_wins
            head = f"Won {wins} Oscar{'s' if wins != 1 else ''}." if wins else \
                f"Nominated for {noms} Oscar{'s' if noms != 1 else ''}."
            other_wins += wins
            other_noms += noms
            if total_form:
                return f"{head} {other_wins} win{'s' if other_wins != 1 else ''} & {other_noms} nominations total"
            extra_w, extra_n = max(other_wins - wins, 0), max(other_noms - noms, 0)
            if extra_w == 0 and extra_n == 0:
                return head
            if extra_w == 0:
                return f"{head} Another {extra_n} nomination{'s' if extra_n != 1 else ''}."
            return f"{head} Another {extra_w} win{'s' if extra_w != 1 else ''} & {extra_n} nomination{'s' if extra_n != 1 else ''}."
        if other_noms == 0:
            return "N/A"
        if other_wins == 0:
            return f"{other_noms} nomination{'s' if other_noms != 1 else ''}."
        return f"{other_wins} win{'s' if other_wins != 1 else ''} & {other_noms} nomination{'s' if other_noms != 1 else ''}."


def mount(sandbox) -> OMDbApi:
    api = OMDbApi(sandbox)
    sandbox.omdb = api
    return api
