"""/oscars/oscars.csv: the upstream Oscar TSV (DLu/oscar_data format) for the synthetic catalog.

Same 14 tab-separated columns as ../shared/data/oscars/oscars.csv, with its quirks: early years
written `1927/28`, rows naming several films with `|`, nominee ids `?` when unknown, films without
a FilmId (no IMDb id), short rows (trailing empty fields dropped), a Best Picture race every year,
and about one film in ten released on TMDb the year after the ceremony's film year. Acting,
directing, writing and Best Picture names are people from the film's own TMDb credits.

Built once from the catalog as it was at start (a ceremony's history does not change), lazily on the
first request, and served with an ETag and Last-Modified so a client can cache it. `--oscars-file`
serves a real file instead.
"""

from __future__ import annotations

import hashlib
import random
import threading
from collections import Counter
from datetime import date, datetime, timezone
from email.utils import format_datetime
from pathlib import Path

import numpy as np

from cinegraph_assets.sandbox import responses as r
from cinegraph_assets.sandbox.catalog import from_day, imdb_id, mix

COLUMNS = ["Ceremony", "Year", "Class", "CanonicalCategory", "Category", "Film", "FilmId", "Name",
           "Nominees", "NomineeIds", "Winner", "Detail", "Note", "Citation"]
CEREMONY_DAY = (3, 15)  # a year's films are honoured in March of the next year


def nominee_id(pid: int) -> str:
    return f"nm{(pid * 7_340_033) % 9_999_991:07d}"


def ceremonies_until(today: date) -> list[tuple[int, str, tuple[int, ...]]]:
    """(ceremony number, Year label, film years) for every ceremony held by `today`."""
    last_film_year = today.year - 1 if (today.month, today.day) >= CEREMONY_DAY else today.year - 2
    out = []
    for c in range(1, 200):
        if c <= 6:
            years = (1926 + c, 1927 + c)
            label = f"{years[0]}/{str(years[1])[2:]}"
        else:
            years = (1927 + c,)
            label = str(years[0])
        if years[-1] > last_film_year:
            break
        out.append((c, label, years))
    return out


class OscarSource:
    prefix = "/oscars"

    def __init__(self, sandbox):
        self.sb = sandbox
        self._lock = threading.Lock()
        self._rows: list[list[str]] | None = None
        self._body: bytes | None = None
        self._etag = ""
        self.last_modified = format_datetime(datetime.combine(
            sandbox.catalog.options.start_date, datetime.min.time(), tzinfo=timezone.utc), usegmt=True)

    # ------------------------------------------------------------------ generation
    def rows(self) -> list[list[str]]:
        with self._lock:
            if self._rows is None:
                self._rows = self._generate()
            return self._rows

    def _candidates(self, years: tuple[int, ...], rng: random.Random) -> list[dict]:
        cat = self.sb.catalog
        renderer = self.sb.renderer
        films = []
        with cat.lock:
            for year in years + (years[-1] + 1,):
                lo, hi = (int((date(year, 1, 1) - date(1970, 1, 1)).days), int((date(year, 12, 31) - date(1970, 1, 1)).days))
                slots = cat.slots_between(lo, hi)
                slots = slots[~cat.deleted[slots] & ~cat.adult[slots] & ~cat.video[slots]]
                slots = slots[np.argsort(-cat.popularity[slots], kind="stable")][:16]
                rows = cat.rows(slots)
                next_year = year not in years
                for row in rows:
                    if next_year and rng.random() > 0.12:
                        continue  # only some nominees are dated the next year on TMDb
                    if not row["has_imdb"] and rng.random() > 0.15:
                        continue  # most nominated films have an IMDb id (FilmId), a few do not
                    cast, crew = renderer.people(row["id"], row["popularity"])
                    if len(cast) >= 4 and len(crew) >= 3:
                        title, _ = renderer.titles(row["id"], row["lang"], row["title_variant"])
                        films.append({"row": row, "title": title, "cast": cast, "crew": crew,
                                      "film_id": imdb_id(row["id"]) if row["has_imdb"] else ""})
        rng.shuffle(films)
        return films

    def _generate(self) -> list[list[str]]:
        cat = self.sb.catalog
        out: list[list[str]] = []
        today = from_day(cat.start_day)
        for ceremony, label, years in ceremonies_until(today):
            rng = random.Random(mix(cat.seed, ceremony, 0x05CA))
            films = self._candidates(years, rng)
            if not films:
                continue
            early = ceremony <= 6

            def pick(n: int) -> list[dict]:
                return rng.sample(films, min(n, len(films)))

            def add(cls, canonical, category, entries):
                winner = rng.randrange(len(entries)) if entries else -1
                for k, (film_titles, film_ids, name, nominees, ids, detail) in enumerate(entries):
                    out.append([str(ceremony), label, cls, canonical, category, film_titles, film_ids, name,
                                nominees, ids, "True" if k == winner else "", detail, "", ""])

            def ids_of(pids):
                return "|".join("?" if rng.random() < 0.05 else nominee_id(p) for p in pids)

            n_best = 3 if early else 10 if ceremony >= 82 else 5
            best = []
            for film in pick(n_best):
                producers = [p for p in film["crew"] if p[3] == "Producer"][:3] or film["crew"][2:3]
                names = [p[1] for p in producers]
                best.append((film["title"], film["film_id"], ", ".join(names) + ", Producers",
                             "|".join(names), ids_of(p[0] for p in producers), ""))
            add("Title", "BEST PICTURE", "OUTSTANDING PICTURE" if early else "BEST PICTURE", best)

            add("Directing", "DIRECTING", "DIRECTING", [
                (f["title"], f["film_id"], f["crew"][0][1], f["crew"][0][1], ids_of([f["crew"][0][0]]), "")
                for f in pick(5)])

            acting = [("ACTOR IN A LEADING ROLE", "ACTOR"), ("ACTRESS IN A LEADING ROLE", "ACTRESS")]
            if ceremony >= 9:
                acting += [("ACTOR IN A SUPPORTING ROLE", "ACTOR IN A SUPPORTING ROLE"),
                           ("ACTRESS IN A SUPPORTING ROLE", "ACTRESS IN A SUPPORTING ROLE")]
            for canonical, early_name in acting:
                entries = []
                lead = "LEADING" in canonical
                gender = 2 if canonical.startswith("ACTOR") else 1
                for film in pick(5):
                    billed = film["cast"][:2] if lead else film["cast"][2:4]
                    matching = [c for c in billed if self.sb.renderer._person(c[0])[1] == gender]
                    pid, name, character = (matching or billed)[0]
                    titles, film_ids, detail = film["title"], film["film_id"], character
                    others = [f for f in films if f is not film and bool(f["film_id"]) == bool(film["film_id"])]
                    if early and rng.random() < 0.35 and others:
                        # Early ceremonies honoured a performance across several films.
                        other = rng.choice(others)
                        titles += "|" + other["title"]
                        film_ids = film_ids + "|" + other["film_id"] if film_ids else ""
                        detail += "|" + other["cast"][0][2]
                    entries.append((titles, film_ids, name, name, ids_of([pid]), detail))
                add("Acting", canonical, early_name if early else canonical, entries)

            for canonical in ("WRITING (Adapted Screenplay)", "WRITING (Original Screenplay)"):
                entries = []
                for film in pick(5):
                    pid, name, _dept, job = film["crew"][1]
                    entries.append((film["title"], film["film_id"], f"Screenplay by {name}", name, ids_of([pid]), ""))
                add("Writing", canonical, canonical, entries)

            entries = []
            for film in pick(5):
                dop = [p for p in film["crew"] if p[3] == "Director of Photography"][:1]
                if dop:
                    entries.append((film["title"], film["film_id"], dop[0][1], dop[0][1], ids_of([dop[0][0]]), ""))
            add("Production", "CINEMATOGRAPHY", "CINEMATOGRAPHY", entries)

            if rng.random() < 0.5:  # a sci-tech award names a company and no film
                company = rng.choice(["Fox Film Corporation", "Panavision Inc.", "Kodak Research Laboratories",
                                      "Dolby Laboratories, Inc."])
                out.append([str(ceremony), label, "SciTech", "SCIENTIFIC AND TECHNICAL AWARD (Technical Achievement Award)",
                            "SCIENTIFIC AND TECHNICAL AWARD (Technical Achievement Award)", "", "", company, company,
                            "?", "True", "", "", f"To {company.upper()} for the design of a camera system."])
        return [self._trim(row) for row in out]

    @staticmethod
    def _trim(row: list[str]) -> list[str]:
        """Drop trailing empty fields: the upstream file's rows end early like this."""
        end = len(row)
        while end > 8 and row[end - 1] == "":
            end -= 1
        return row[:end]

    def nominations_by_film(self) -> dict[str, tuple[int, int]]:
        """imdb id -> (nominations, wins), for OMDb's Awards text."""
        noms: Counter = Counter()
        wins: Counter = Counter()
        for row in self.rows():
            if len(row) < 7 or not row[6] or row[2] == "SciTech":
                continue
            for film_id in row[6].split("|"):
                noms[film_id] += 1
                if len(row) > 10 and row[10] == "True":
                    wins[film_id] += 1
        return {k: (noms[k], wins[k]) for k in noms}

    # ------------------------------------------------------------------ serving
    def body(self) -> bytes:
        if self._body is None:
            if self.sb.oscars_file:
                data = Path(self.sb.oscars_file).read_bytes()
            else:
                lines = ["\t".join(COLUMNS)] + ["\t".join(row) for row in self.rows()]
                data = ("\n".join(lines) + "\n").encode("utf-8")
            self._etag = '"' + hashlib.sha1(data).hexdigest()[:20] + '"'
            self._body = data
        return self._body

    def handle(self, path: str, params: dict[str, str], headers) -> r.Response:
        if path.rstrip("/") != "/oscars/oscars.csv":
            return r.text_response(404, "Not Found\n")
        body = self.body()
        cache_headers = {"ETag": self._etag, "Last-Modified": self.last_modified, "Cache-Control": "max-age=300"}
        if headers.get("If-None-Match") == self._etag or (
                headers.get("If-Modified-Since") == self.last_modified and not headers.get("If-None-Match")):
            return r.Response(304, b"", content_type="text/plain; charset=utf-8", headers=cache_headers, json_body=False)
        return r.Response(200, body, content_type="text/plain; charset=utf-8", headers=cache_headers, json_body=False)


def mount(sandbox) -> OscarSource:
    source = OscarSource(sandbox)
    sandbox.oscars = source
    return source
