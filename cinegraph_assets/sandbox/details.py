"""Full TMDb movie details generated from (seed, id, version): the base object and every append.

Speed matters here (the sandbox must never be what a benchmark measures), so the heavy parts
(credits, images) are assembled as JSON text from pre-serialized per-person fragments instead of
building hundreds of dicts and encoding them, and finished bodies are cached by the server.

What stays stable for a movie across versions: its people, images, genres, companies. What a new
version changes: votes and popularity (from the index), sometimes the title, and a line of overview.
"""

from __future__ import annotations

import base64
import json
import random
from json.encoder import encode_basestring as jstr  # the C encoder: a JSON string literal, unicode kept
from functools import lru_cache

from cinegraph_assets.sandbox import words
from cinegraph_assets.sandbox.catalog import NO_DATE, Catalog, from_day, imdb_id, mix

_B62 = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
TITLE_VARIANTS = ["", " (Restored)", ": Redux", " (Extended Cut)", " - Director's Cut", " Reloaded"]
SMALL_LIMITS = {"cast": 5, "crew": 4, "images": 2, "videos": 1, "translations": 2, "countries": 2,
                "keywords": 3, "similar": 2}
PERSON_POOL = {"demo": 30_000, "bench": 150_000}
LANGUAGE_NAMES = {code: (english, native) for code, english, native, _ in words.LANGUAGES}
APPENDABLE = ("credits", "videos", "images", "keywords", "release_dates", "external_ids",
              "watch/providers", "recommendations", "similar", "alternative_titles", "translations",
              "changes", "reviews", "lists", "releases")


_ENCODER = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"))  # one instance: no per-call setup


def dumps(value) -> str:
    return _ENCODER.encode(value)


@lru_cache(maxsize=65536)
def image_path(*key: int) -> str:
    h = mix(*key)
    chars = []
    for x in (h, mix(h, 98), mix(h, 99)):
        for _ in range(9):
            chars.append(_B62[x % 62])
            x //= 62
    return "/" + "".join(chars) + ".jpg"  # 27 characters, like TMDb's paths


_ALNUM = bytes.maketrans(b"-_", b"aZ")


def random_path(rng: random.Random) -> str:
    """A 27-character base62-looking file path from a per-movie generator (cheap in loops)."""
    return "/" + base64.urlsafe_b64encode(rng.randbytes(21)).translate(_ALNUM)[:27].decode() + ".jpg"


def hex_id(*key: int) -> str:
    return f"{mix(*key):016x}{mix(*key, 1) & 0xFFFFFFFF:08x}"


def iso(day: int) -> str:
    return "" if day == NO_DATE else from_day(day).isoformat()


class DetailRenderer:
    """Renders TMDb-shaped JSON for one catalog. `size` is "full" (real sizes) or "small" (tests)."""

    def __init__(self, catalog: Catalog, size: str = "full"):
        if size not in ("full", "small"):
            raise ValueError("detail size must be 'full' or 'small'")
        self.catalog = catalog
        self.seed = catalog.seed
        self.small = size == "small"
        self.pool = PERSON_POOL[catalog.options.scale]
        # Every person of the pool, pre-rendered once (warm_people): plain lists index fastest.
        self.person_names: list[str] = [""]
        self.person_genders: list[int] = [0]
        self.person_prefixes: list[str] = [""]
        self._static = lru_cache(maxsize=200_000)(self._static_uncached)
        self._characters: dict[tuple, str] = {}

    # ------------------------------------------------------------------ people
    def warm_people(self) -> None:
        """Pre-render every person's credit prefix (about a second at bench scale) so that
        generating a movie's credits is list lookups and string joins."""
        if len(self.person_names) > self.pool:
            return
        people = [self._person_uncached(pid) for pid in range(1, self.pool + 1)]
        self.person_names = [""] + [p[0] for p in people]
        self.person_genders = [0] + [p[1] for p in people]
        self.person_prefixes = [""] + [p[2] for p in people]

    def _person(self, pid: int) -> tuple[str, int, str]:
        self.warm_people()
        return self.person_names[pid], self.person_genders[pid], self.person_prefixes[pid]

    def person_name(self, pid: int) -> str:
        self.warm_people()
        return self.person_names[pid]

    def _person_uncached(self, pid: int) -> tuple[str, int, str]:
        """(name, gender, JSON prefix of a credit entry up to and including profile_path)."""
        h = mix(self.seed, pid, 0xBEEF)
        if h % 97 == 0:
            name = words.NATIVE_NAMES[h // 97 % len(words.NATIVE_NAMES)] + f" {pid % 100}"
        else:
            name = f"{words.FIRST_NAMES[h % len(words.FIRST_NAMES)]} {words.LAST_NAMES[(h >> 16) % len(words.LAST_NAMES)]}"
            if (h >> 40) % 5 == 0:  # a middle initial keeps same-name collisions realistic but rarer
                name = name.replace(" ", f" {'ABCDEFGHJKLMNPRSTW'[(h >> 44) % 18]}. ", 1)
        gender = (h >> 8) % 3
        dept = ("Acting", "Directing", "Writing", "Production", "Camera", "Sound")[(h >> 24) % 6]
        popularity = round(((h >> 32) % 10000) / 1000 + 0.1, 3)
        profile = "null" if (h >> 20) % 4 == 0 else '"' + random_path(random.Random(h)) + '"'
        name_json = jstr(name)
        prefix = (f'{{"adult":false,"gender":{gender},"id":{pid},"known_for_department":"{dept}",'
                  f'"name":{name_json},"original_name":{name_json},"popularity":{popularity},'
                  f'"profile_path":{profile},')
        return name, gender, prefix

    def people(self, movie_id: int, popularity: float) -> tuple[list, list]:
        """The movie's cast [(pid, name, character)] and crew [(pid, name, department, job)].

        Directing/writing/producing come first in the crew and the leads first in the cast, so the
        small detail size (a prefix) keeps the people the Oscar source nominates.
        """
        rng = random.Random(mix(self.seed, movie_id, 3))
        if rng.random() < 0.04:
            return [], []
        mean = 25 * max(popularity, 0.6) ** 0.5
        total = int(min(300, max(1, rng.lognormvariate(0, 0.7) * mean)))
        n_cast = max(1, int(total * rng.uniform(0.35, 0.6)))
        n_crew = total - n_cast
        self.warm_people()
        pool = self.pool
        names = self.person_names
        bits = rng.getrandbits
        characters = self._characters
        n_templates, n_first, n_last = len(words.CHARACTER_NAMES), len(words.FIRST_NAMES), len(words.LAST_NAMES)
        cast = []
        for _ in range(n_cast):
            h = bits(64)
            pid = 1 + h % pool
            key = ((h >> 20) % n_templates, (h >> 28) % n_first, (h >> 36) % n_last)
            character = characters.get(key)
            if character is None:
                t, f, last = key
                character = words.CHARACTER_NAMES[t].format(first=words.FIRST_NAMES[f], last=words.LAST_NAMES[last], n=f % 9 + 1)
                characters[key] = character
            cast.append((pid, names[pid], character))
        crew = []
        n_jobs = len(words.CREW_JOBS)
        for k in range(n_crew):
            h = bits(64)
            pid = 1 + h % pool
            if k < 3:
                dept, job = (("Directing", "Director"), ("Writing", "Screenplay"), ("Production", "Producer"))[k]
            else:
                dept, job = words.CREW_JOBS[(h >> 24) % n_jobs]
            crew.append((pid, names[pid], dept, job))
        return cast, crew

    # ------------------------------------------------------------------ static per-movie facts
    def _static_uncached(self, movie_id: int) -> dict:
        rng = random.Random(mix(self.seed, movie_id, 2))
        genres = rng.sample(words.GENRES, rng.choice((1, 1, 2, 2, 3, 4)))
        place, job, adj = rng.choice(words.PLACES), rng.choice(words.JOBS), rng.choice(words.OVERVIEW_ADJ)
        name = f"{rng.choice(words.FIRST_NAMES)}"
        sentences = rng.sample(words.OVERVIEW_SENTENCES, rng.choice((0, 1, 2, 2, 3)))
        overview = " ".join(s.format(name=name, place=place, job=job, adj=adj) for s in sentences)
        return {
            "genres": genres,
            "overview": overview,
            "backdrop_path": None if rng.random() < 0.25 else random_path(rng),
            "poster_path": None if rng.random() < 0.12 else random_path(rng),
            "runtime": 0 if rng.random() < 0.1 else int(rng.gauss(98, 25)) if rng.random() < 0.8 else rng.randint(3, 30),
            "budget": 0 if rng.random() < 0.7 else rng.randrange(10_000, 250_000_000, 1000),
            "revenue": 0 if rng.random() < 0.75 else rng.randrange(1_000, 2_000_000_000),
            "tagline": rng.choice(words.TAGLINES),
            "companies": rng.sample(words.COMPANIES, rng.choice((0, 1, 1, 2, 3, 5))),
            "collection": self._collection_of(movie_id, rng.random()),
            "homepage": "" if rng.random() < 0.6 else f"https://www.example-films.com/{movie_id}",
        }

    def _collection_of(self, movie_id: int, draw: float) -> int | None:
        """Like TMDb's franchises: a fifth of the blocks of 8 neighbouring ids hold a collection,
        and about 40% of a block's movies belong to it (so about 8% of movies, a few per collection)."""
        block = movie_id // 8
        if mix(self.seed, block, 30) % 5 or draw < 0.6:
            return None
        return 10 + block

    def collection(self, cid: int) -> dict:
        """The collection's own facts: the same for every movie in it, whatever their titles."""
        noun = words.TITLE_NOUNS[mix(self.seed, cid, 32) % len(words.TITLE_NOUNS)]
        return {"id": cid, "name": f"The {noun} Collection", "poster_path": image_path(self.seed, cid, 30),
                "backdrop_path": image_path(self.seed, cid, 31)}

    def titles(self, movie_id: int, lang: str, variant: int) -> tuple[str, str]:
        """(title, original_title): English title; original in the film's own language."""
        k = mix(self.seed, movie_id, 21)  # titles are needed in bulk (sorting, exports): keep them cheap
        pattern = words.TITLE_PATTERNS[k % len(words.TITLE_PATTERNS)]
        title = pattern.format(
            adj=words.TITLE_ADJECTIVES[(k >> 4) % len(words.TITLE_ADJECTIVES)],
            noun=words.TITLE_NOUNS[(k >> 10) % len(words.TITLE_NOUNS)],
            noun2=words.TITLE_NOUNS[(k >> 16) % len(words.TITLE_NOUNS)],
            roman=words.ROMAN[(k >> 22) % len(words.ROMAN)])
        if lang == "en":
            original = title
        else:
            n = k >> 32
            native = words.NATIVE_TITLE_WORDS[lang]
            original = native[n % len(native)] + words.NATIVE_SUFFIXES[(n >> 8) % len(words.NATIVE_SUFFIXES)]
        suffix = TITLE_VARIANTS[variant % len(TITLE_VARIANTS)] if variant else ""
        return title + suffix, original + suffix

    # ------------------------------------------------------------------ list items
    def list_item(self, row: dict, popularity: float | None = None) -> dict:
        s = self._static(row["id"])
        title, original = self.titles(row["id"], row["lang"], row["title_variant"])
        return {
            "adult": row["adult"],
            "backdrop_path": s["backdrop_path"],
            "genre_ids": [g for g, _ in s["genres"]],
            "id": row["id"],
            "original_language": row["lang"],
            "original_title": original,
            "overview": s["overview"],
            "popularity": round(popularity if popularity is not None else row["popularity"], 3),
            "poster_path": s["poster_path"],
            "release_date": iso(row["day"]),
            "title": title,
            "video": row["video"],
            "vote_average": row["vote_average"],
            "vote_count": row["vote_count"],
        }

    # ------------------------------------------------------------------ base object
    def base(self, row: dict) -> dict:
        movie_id = row["id"]
        s = self._static(movie_id)
        title, original = self.titles(movie_id, row["lang"], row["title_variant"])
        country = words.COUNTRY_OF_LANGUAGE[row["lang"]]
        overview = s["overview"]
        if row["version"] > 1 and mix(self.seed, movie_id, row["version"]) % 3 == 0:
            overview = (overview + " A new edition restores scenes cut from the original release.").strip()
        day = row["day"]
        today = self.catalog.today
        if day == NO_DATE:
            status = "Rumored" if movie_id % 3 else "Planned"
        elif day <= today:
            status = "Released"
        else:
            status = ("Post Production", "In Production", "Planned")[movie_id % 3]
        collection = None if s["collection"] is None else self.collection(s["collection"])
        lang_name = LANGUAGE_NAMES[row["lang"]]
        return {
            "adult": row["adult"],
            "backdrop_path": s["backdrop_path"],
            "belongs_to_collection": collection,
            "budget": s["budget"],
            "genres": [{"id": g, "name": n} for g, n in s["genres"]],
            "homepage": s["homepage"],
            "id": movie_id,
            "imdb_id": imdb_id(movie_id) if row["has_imdb"] else None,
            "origin_country": [country[0]],
            "original_language": row["lang"],
            "original_title": original,
            "overview": overview,
            "popularity": row["popularity"],
            "poster_path": s["poster_path"],
            "production_companies": [
                {"id": cid, "logo_path": image_path(self.seed, cid, 40) if cid % 3 else None, "name": name,
                 "origin_country": cc} for cid, name, cc in s["companies"]],
            "production_countries": [{"iso_3166_1": country[0], "name": country[1]}],
            "release_date": iso(day),
            "revenue": s["revenue"],
            "runtime": max(0, s["runtime"]),
            "spoken_languages": [{"english_name": lang_name[0], "iso_639_1": row["lang"], "name": lang_name[1]}],
            "status": status,
            "tagline": s["tagline"],
            "title": title,
            "video": row["video"],
            "vote_average": row["vote_average"],
            "vote_count": row["vote_count"],
        }

    # ------------------------------------------------------------------ appends (JSON text)
    def credits_json(self, row: dict, with_id: bool) -> str:
        movie_id = row["id"]
        cast, crew = self.people(movie_id, row["popularity"])
        if self.small:
            cast, crew = cast[:SMALL_LIMITS["cast"]], crew[:SMALL_LIMITS["crew"]]
        prefix = self.person_prefixes
        parts = []
        bits = random.Random(mix(self.seed, movie_id, 13)).getrandbits
        for order, (pid, _name, character) in enumerate(cast):
            parts.append(f'{prefix[pid]}"cast_id":{order + 1},"character":{jstr(character)},'
                         f'"credit_id":"{bits(96):024x}","order":{order}}}')
        cast_json = ",".join(parts)
        parts = []
        for pid, _name, dept, job in crew:
            parts.append(f'{prefix[pid]}"credit_id":"{bits(96):024x}",'
                         f'"department":"{dept}","job":"{job}"}}')
        head = f'{{"id":{movie_id},' if with_id else "{"
        return f'{head}"cast":[{cast_json}],"crew":[{",".join(parts)}]}}'

    def images_json(self, row: dict, with_id: bool) -> str:
        movie_id = row["id"]
        rng = random.Random(mix(self.seed, movie_id, 4))
        n = int(min(150, rng.lognormvariate(0, 0.8) * 8 * max(row["popularity"], 0.6) ** 0.4))
        if self.small:
            n = min(n, SMALL_LIMITS["images"])
        groups = {"backdrops": [], "logos": [], "posters": []}
        langs = (None, "en", None, row["lang"], "en")
        for k in range(n):
            kind = ("backdrops", "posters", "posters", "logos")[k % 4]
            w, h, ar = {"backdrops": (1920, 1080, 1.778), "posters": (2000, 3000, 0.667), "logos": (1000, 400, 2.5)}[kind]
            lang = langs[rng.randrange(5)]
            va = round(rng.uniform(0, 10), 3) if rng.random() < 0.5 else 0
            groups[kind].append(
                f'{{"aspect_ratio":{ar},"height":{h},"iso_639_1":{"null" if lang is None else jstr(lang)},"file_path":"{random_path(rng)}",'
                f'"vote_average":{va},"vote_count":{0 if va == 0 else rng.randrange(1, 40)},"width":{w}}}')
        head = f'{{"id":{movie_id},' if with_id else "{"
        return head + ",".join(f'"{k}":[{",".join(v)}]' for k, v in groups.items()) + "}"

    def videos(self, row: dict) -> dict:
        movie_id = row["id"]
        rng = random.Random(mix(self.seed, movie_id, 5))
        n = rng.choice((0, 0, 1, 1, 2, 3, 5, 8))
        if self.small:
            n = min(n, SMALL_LIMITS["videos"])
        base_day = row["day"] if row["day"] != NO_DATE else self.catalog.start_day
        results = []
        for k in range(n):
            vtype = words.VIDEO_TYPES[rng.randrange(len(words.VIDEO_TYPES))]
            results.append({
                "iso_639_1": "en", "iso_3166_1": "US", "name": f"Official {vtype} {k + 1}" if k else f"Official {vtype}",
                "key": random_path(rng)[1:12], "site": "YouTube",
                "size": rng.choice((720, 1080, 2160)), "type": vtype, "official": rng.random() < 0.8,
                "published_at": from_day(base_day - rng.randrange(0, 200)).isoformat() + "T16:00:00.000Z",
                "id": f"{rng.getrandbits(96):024x}",
            })
        return {"results": results}

    def keywords(self, row: dict) -> dict:
        rng = random.Random(mix(self.seed, row["id"], 6))
        n = rng.choice((0, 1, 2, 3, 5, 8))
        if self.small:
            n = min(n, SMALL_LIMITS["keywords"])
        return {"keywords": [{"id": k, "name": name} for k, name in rng.sample(words.KEYWORDS, n)]}

    def _countries(self, row: dict) -> list[str]:
        rng = random.Random(mix(self.seed, row["id"], 7))
        home = words.COUNTRY_OF_LANGUAGE[row["lang"]][0]
        others = [c for c in words.CERTIFICATIONS if c != home]
        countries = [home] + rng.sample(others, rng.choice((0, 1, 2, 3, 5)))
        return countries[:SMALL_LIMITS["countries"]] if self.small else countries

    def release_dates(self, row: dict) -> dict:
        rng = random.Random(mix(self.seed, row["id"], 8))
        if row["day"] == NO_DATE:
            return {"results": []}
        results = []
        for k, country in enumerate(self._countries(row)):
            certs = words.CERTIFICATIONS.get(country, [""])
            day = row["day"] + (0 if k == 0 else rng.randrange(0, 120))
            entries = [{"certification": rng.choice(certs), "descriptors": [], "iso_639_1": "", "note": "",
                        "release_date": from_day(day).isoformat() + "T00:00:00.000Z", "type": 3}]
            if rng.random() < 0.4:
                entries.append({"certification": "", "descriptors": [], "iso_639_1": "", "note": "Digital",
                                "release_date": from_day(day + 90).isoformat() + "T00:00:00.000Z", "type": 4})
            if k == 0 and rng.random() < 0.3:
                entries.insert(0, {"certification": "", "descriptors": [], "iso_639_1": "", "note": "Festival",
                                   "release_date": from_day(day - 30).isoformat() + "T00:00:00.000Z", "type": 1})
            results.append({"iso_3166_1": country, "release_dates": entries})
        return {"results": results}

    def external_ids(self, row: dict, with_id: bool) -> dict:
        movie_id = row["id"]
        h = mix(self.seed, movie_id, 9)
        value = {"imdb_id": imdb_id(movie_id) if row["has_imdb"] else None,
                 "wikidata_id": f"Q{h % 90_000_000 + 1000}" if h % 3 else None,
                 "facebook_id": None, "instagram_id": None, "twitter_id": None}
        return {"id": movie_id, **value} if with_id else value

    def watch_providers(self, row: dict) -> dict:
        rng = random.Random(mix(self.seed, row["id"], 10))
        results = {}
        for country in self._countries(row):
            if rng.random() < 0.4:
                continue
            entry = {"link": f"https://www.themoviedb.org/movie/{row['id']}/watch?locale={country}"}
            for kind in ("flatrate", "rent", "buy"):
                if rng.random() < 0.5:
                    entry[kind] = [{"logo_path": logo, "provider_id": pid, "provider_name": name,
                                    "display_priority": rank}
                                   for rank, (pid, name, logo) in enumerate(rng.sample(words.WATCH_PROVIDERS, 2))]
            results[country] = entry
        return {"results": results}

    def alternative_titles(self, row: dict) -> dict:
        title, original = self.titles(row["id"], row["lang"], row["title_variant"])
        titles = [{"iso_3166_1": c, "title": f"{title} ({c})", "type": ""} for c in self._countries(row)[1:]]
        if original != title:
            titles.insert(0, {"iso_3166_1": "US", "title": title, "type": "English title"})
        return {"titles": titles}

    def translations(self, row: dict) -> dict:
        title, _ = self.titles(row["id"], row["lang"], row["title_variant"])
        s = self._static(row["id"])
        out = []
        for code, english, native, _ in words.LANGUAGES[: (SMALL_LIMITS["translations"] if self.small else 6)]:
            country = words.COUNTRY_OF_LANGUAGE[code][0]
            out.append({"iso_3166_1": country, "iso_639_1": code, "name": native, "english_name": english,
                        "data": {"homepage": "", "overview": s["overview"], "runtime": max(0, s["runtime"]),
                                 "tagline": s["tagline"], "title": title if code == "en" else ""}})
        return {"translations": out}

    def related(self, row: dict, salt: int) -> dict:
        """recommendations / similar: a page of other live movies of nearby years."""
        rng = random.Random(mix(self.seed, row["id"], salt))
        n = 0 if rng.random() < 0.3 else rng.choice((2, 5, 10, 20))
        if self.small:
            n = min(n, SMALL_LIMITS["similar"])
        cat = self.catalog
        with cat.lock:
            size = len(cat.ids)
            slots = [rng.randrange(size) for _ in range(n)]
            rows = [cat._row(i) for i in slots if not cat.deleted[i] and int(cat.ids[i]) != row["id"]]
        results = []
        for other in rows:
            item = self.list_item(other)
            if salt == 11:
                item["media_type"] = "movie"
            results.append(item)
        return {"page": 1, "results": results, "total_pages": 1 if results else 0, "total_results": len(results)}

    def changes(self, row: dict) -> dict:
        out = {}
        for day, kind in self.catalog.movie_history(row["id"]):
            key = {"title": "title", "release_date": "release_dates", "created": "general"}.get(kind, "popularity")
            stamp = f"{from_day(day).isoformat()} {mix(row['id'], day) % 24:02d}:{mix(day, row['id']) % 60:02d}:00 UTC"
            out.setdefault(key, []).append({"id": hex_id(row["id"], day), "action": "updated", "time": stamp,
                                            "iso_639_1": "", "iso_3166_1": "", "value": kind})
        return {"changes": [{"key": k, "items": v} for k, v in out.items()]}

    def part(self, row: dict, name: str, with_id: bool) -> str:
        """One sub-resource (an append, or the body of /movie/{id}/<name>) as JSON text."""
        if name == "credits":
            return self.credits_json(row, with_id)
        if name == "images":
            return self.images_json(row, with_id)
        if name == "external_ids":
            return dumps(self.external_ids(row, with_id))
        value = {
            "videos": self.videos, "keywords": self.keywords, "release_dates": self.release_dates,
            "watch/providers": self.watch_providers, "alternative_titles": self.alternative_titles,
            "translations": self.translations, "changes": self.changes,
        }.get(name)
        if value is not None:
            body = value(row)
        elif name == "recommendations":
            body = self.related(row, 11)
        elif name == "similar":
            body = self.related(row, 12)
        elif name in ("reviews", "lists"):
            body = {"page": 1, "results": [], "total_pages": 0, "total_results": 0}
        elif name == "releases":
            body = {"countries": [{"certification": d["release_dates"][0]["certification"], "iso_3166_1": d["iso_3166_1"],
                                   "primary": i == 0, "release_date": d["release_dates"][0]["release_date"][:10]}
                                  for i, d in enumerate(self.release_dates(row)["results"])]}
        else:
            raise KeyError(name)
        if with_id and name != "changes":
            body = {"id": row["id"], **body}
        return dumps(body)

    def render(self, row: dict, appends: list[str]) -> bytes:
        """The /3/movie/{id} body with its appends, as TMDb nests them (key = append name)."""
        text = dumps(self.base(row))
        extra = [f'"{name}":{self.part(row, name, with_id=False)}' for name in appends if name in APPENDABLE]
        if extra:
            text = text[:-1] + "," + ",".join(extra) + "}"
        return text.encode("utf-8")
