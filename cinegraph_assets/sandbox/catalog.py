"""The synthetic movie catalog: a compact index in numpy arrays, and the sandbox clock.

A full-size catalog (about a million movies) is never held as dicts. Each movie is one slot in a few
parallel arrays (id, primary release day, popularity, vote count, language, flags, version); its
full TMDb details are generated on demand from (seed, id, version) by `details.py`. Everything is a
pure function of `--seed` and the days advanced, so two sandboxes with the same options agree.

Time: the clock starts at `start_date`; `advance(days)` walks day by day and, for each new day,
changes a share of the live movies (new version: votes, popularity, sometimes the title, rarely the
release date moves to another year), deletes a few and adds new ones. Every touched id is logged for
that day, which is what /3/movie/changes serves; the day each movie was created and deleted is kept,
which is what the daily id exports (exports.py) list.

Like the real catalog, a few per cent of the movies have no release date (`NO_DATE`: announced,
rumoured, never dated), more of them among the recent, high ids; they belong to no year, so no
date-filtered discover ever returns them. `video` and `adult` entries are flagged; discover leaves
them out unless asked (include_video, include_adult).
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass, field
from datetime import date, timedelta

import numpy as np

from cinegraph_assets.sandbox import words

NO_DATE = np.iinfo(np.int32).min  # a movie without a release date belongs to no year
NEVER = np.iinfo(np.int32).max  # the deletion day of a live movie
EPOCH = date(1970, 1, 1)
FIRST_YEAR = 1874

# Per-year movie counts of the bench scale (interpolated between anchors), shaped like real TMDb:
# a handful before 1890, a few hundred a year before 1930, about 38,000 in each recent year.
_BENCH_ANCHORS = [(1874, 3), (1889, 3), (1890, 150), (1899, 200), (1900, 300), (1929, 700),
                  (1930, 1500), (1969, 4000), (1999, 10000), (2000, 12000), (2014, 30000), (2015, 38000)]
_RECENT = 38000
DEMO_RECENT = 1500  # demo: a recent year is materialized in seconds
NO_DATE_SHARE = 0.02
#: Undated movies are commoner among recent entries (announced films nobody has dated yet): this
#: share of the undated slots outside the newest tenth of the ids is moved into that tenth, so about
#: 40% of them sit among the newest 10% of ids.
UNDATED_TO_RECENT = 1 / 3
RECENT_IDS_SHARE = 0.10
ADULT_SHARE = 0.03
VIDEO_SHARE = 0.02
SCALES = ("demo", "bench")


def to_day(value: date) -> int:
    return (value - EPOCH).days


def from_day(day: int) -> date:
    return EPOCH + timedelta(days=int(day))


def year_bounds(year: int) -> tuple[int, int]:
    """First and last day number of a calendar year (inclusive)."""
    return to_day(date(year, 1, 1)), to_day(date(year, 12, 31))


_MASK64 = (1 << 64) - 1


def mix(*values: int) -> int:
    """A splitmix64-style hash of integers: the per-movie source of every generated detail."""
    h = 0x9E3779B97F4A7C15
    for v in values:
        h = (h ^ (int(v) & _MASK64)) * 0xBF58476D1CE4E5B9 & _MASK64
        h = (h ^ (h >> 27)) * 0x94D049BB133111EB & _MASK64
        h ^= h >> 31
    return h


def np_unit_hash(ids: np.ndarray, salt: int) -> np.ndarray:
    """Vectorized hash of ids into [0, 1): per-request popularity noise without a Python loop."""
    x = ids.astype(np.uint64) * np.uint64(0x9E3779B97F4A7C15) + np.uint64(salt & _MASK64)
    x ^= x >> np.uint64(30)
    x *= np.uint64(0xBF58476D1CE4E5B9)
    x ^= x >> np.uint64(27)
    x *= np.uint64(0x94D049BB133111EB)
    x ^= x >> np.uint64(31)
    return (x >> np.uint64(11)).astype(np.float64) / float(1 << 53)


def base_year_counts(scale: str, start_year: int) -> dict[int, int]:
    """Movies per release year before overrides: up to next year (announced films)."""
    years = np.arange(FIRST_YEAR, start_year + 1)
    xs, ys = zip(*_BENCH_ANCHORS)
    bench = np.interp(years, xs, ys)
    bench[years >= 2015] = _RECENT
    factor = 1.0 if scale == "bench" else DEMO_RECENT / _RECENT
    counts = {int(y): max(1, int(round(c * factor))) for y, c in zip(years, bench)}
    counts[start_year + 1] = max(1, int(round(3000 * factor)))
    return counts


@dataclass
class CatalogOptions:
    seed: int = 7
    scale: str = "demo"
    start_date: date = field(default_factory=lambda: date.today())
    year_sizes: dict[int, int] = field(default_factory=dict)
    crowded_dates: dict[date, int] | None = None  # None: the scale's default
    change_rate: float = 0.005  # share of live movies changed per sandbox day (real: ~5,700/1.2M)
    delete_rate: float = 0.0002
    new_per_day: int | None = None  # None: 5 (demo) or 300 (bench)
    #: movies a day whose release date is corrected across New Year (Dec 31 <-> Jan 1), as happens
    #: with end-of-year premieres: each leaves one year for the next or the previous
    new_year_moves: int = 0

    def resolved_crowded(self) -> dict[date, int]:
        if self.crowded_dates is not None:
            return dict(self.crowded_dates)
        if self.scale == "bench":
            # A placeholder date like real TMDb's: no date window alone can get under 10,000.
            return {date(self.start_date.year - 1, 1, 1): 12000}
        return {}

    def resolved_new_per_day(self) -> int:
        if self.new_per_day is not None:
            return self.new_per_day
        return 300 if self.scale == "bench" else 5


class Catalog:
    """The index of every movie plus the clock. All public methods are thread-safe."""

    def __init__(self, options: CatalogOptions):
        if options.scale not in SCALES:
            raise ValueError(f"unknown scale {options.scale!r}; use one of {', '.join(SCALES)}")
        self.options = options
        self.seed = options.seed
        self.lock = threading.RLock()
        self.start_day = to_day(options.start_date)
        self.today = self.start_day
        self.state_version = 0
        self.changes_by_day: dict[int, list[tuple[int, bool | None]]] = {}
        self.history: dict[int, list[tuple[int, str]]] = {}
        self._query_cache: OrderedDict = OrderedDict()
        self._by_day: np.ndarray | None = None
        self._build()

    # ------------------------------------------------------------------ generation
    def _build(self) -> None:
        o = self.options
        rng = np.random.default_rng(o.seed)
        counts = base_year_counts(o.scale, o.start_date.year)
        for year, n in o.year_sizes.items():
            counts[int(year)] = int(n)
        crowded = o.resolved_crowded()
        slots: list[np.ndarray] = []
        for year, n in sorted(counts.items()):
            if n <= 0:
                continue
            lo, hi = year_bounds(year)
            slots.append(rng.integers(lo, hi + 1, size=n, dtype=np.int64))
        crowded_total = 0
        for day_value, n in sorted(crowded.items()):
            slots.append(np.full(int(n), to_day(day_value), dtype=np.int64))
            crowded_total += int(n)
        dated = int(sum(len(s) for s in slots))
        no_date = max(1, int(round(dated * NO_DATE_SHARE)))
        slots.append(np.full(no_date, NO_DATE, dtype=np.int64))
        all_days = np.concatenate(slots)
        total = len(all_days)

        id_space = np.arange(2, int(total * 1.25) + 100, dtype=np.int64)
        ids = np.sort(rng.choice(id_space, size=total, replace=False))
        order = rng.permutation(total)
        days = np.empty(total, dtype=np.int32)
        days[order] = all_days.astype(np.int32)
        _crowd_undated_toward_recent_ids(days, np.random.default_rng([o.seed, 0x0DA7E]))

        # Power-law popularity, higher for recent films; votes follow popularity with lots of zeros.
        year_of = np.where(days == NO_DATE, 1900, 1970 + days // 365)
        recency = np.clip((year_of - 1900) / 120.0, 0.05, 1.2)
        popularity = np.round(0.6 + rng.pareto(1.3, total) * 1.5 * recency, 3)
        votes = np.floor(np.exp(rng.normal(np.log(popularity) * 1.6, 1.6)) - 1).clip(0, 40000)
        is_crowded = np.isin(days, [to_day(d) for d in crowded]) if crowded else np.zeros(total, bool)
        if crowded_total:
            # Placeholder-date films must still split by vote_count ranges (each value well < 10,000).
            votes[is_crowded] = np.floor(np.exp(rng.uniform(0, 9, int(is_crowded.sum()))) - 1)
        vote_average = np.where(votes > 0, np.round(np.clip(rng.normal(6.2, 1.3, total), 1, 10), 3), 0.0)
        weights = np.array([w for *_, w in words.LANGUAGES], dtype=float)
        lang = rng.choice(len(words.LANGUAGES), size=total, p=weights / weights.sum()).astype(np.uint8)
        adult = rng.random(total) < ADULT_SHARE
        video = rng.random(total) < VIDEO_SHARE
        p_imdb = np.where(popularity > 4, 0.97, 0.5)
        has_imdb = rng.random(total) < p_imdb

        self.ids = ids
        self.day = days
        self.popularity = popularity.astype(np.float64)
        self.vote_count = votes.astype(np.int64)
        self.vote_average = vote_average.astype(np.float64)
        self.lang = lang
        self.adult = adult
        self.video = video
        self.has_imdb = has_imdb
        self.version = np.ones(total, dtype=np.int32)
        self.title_variant = np.zeros(total, dtype=np.int16)
        self.deleted = np.zeros(total, dtype=bool)
        self.deleted_day = np.full(total, NEVER, dtype=np.int32)
        self.created_day = np.full(total, self.start_day - 1, dtype=np.int32)
        self.next_id = int(ids[-1]) + 1

    # ------------------------------------------------------------------ lookups
    def __len__(self) -> int:
        return len(self.ids)

    def index_of(self, movie_id: int) -> int | None:
        """Slot of an id, or None. Deleted movies still have a slot (check `deleted`)."""
        i = int(np.searchsorted(self.ids, movie_id))
        if i < len(self.ids) and int(self.ids[i]) == movie_id:
            return i
        return None

    def row(self, movie_id: int) -> dict | None:
        """A snapshot of one live movie's index fields, or None if unknown or deleted."""
        with self.lock:
            i = self.index_of(movie_id)
            if i is None or self.deleted[i]:
                return None
            return self._row(i)

    def _row(self, i: int) -> dict:
        return {
            "id": int(self.ids[i]), "day": int(self.day[i]), "popularity": float(self.popularity[i]),
            "vote_count": int(self.vote_count[i]), "vote_average": float(self.vote_average[i]),
            "lang": words.LANGUAGE_CODES[int(self.lang[i])], "adult": bool(self.adult[i]),
            "video": bool(self.video[i]), "has_imdb": bool(self.has_imdb[i]),
            "version": int(self.version[i]), "title_variant": int(self.title_variant[i]),
        }

    def rows(self, indices) -> list[dict]:
        with self.lock:
            return [self._row(int(i)) for i in indices]

    @property
    def today_date(self) -> date:
        return from_day(self.today)

    def by_day(self) -> np.ndarray:
        """Slots ordered by (release day, id): date ranges become contiguous slices."""
        if self._by_day is None:
            self._by_day = np.argsort(self.day, kind="stable")
            self._sorted_days = self.day[self._by_day]
        return self._by_day

    def slots_between(self, lo: int | None, hi: int | None) -> np.ndarray:
        """Slots whose release day is within [lo, hi] (None = open); no-date movies only if both open."""
        order = self.by_day()
        if lo is None and hi is None:
            return order
        days = self._sorted_days
        start = int(np.searchsorted(days, NO_DATE + 1 if lo is None else lo, side="left"))
        stop = len(days) if hi is None else int(np.searchsorted(days, hi, side="right"))
        return order[start:stop]

    # ------------------------------------------------------------------ truth
    def truth_year(self, year: int, include_adult: bool = False, include_video: bool = False) -> list[int]:
        """Ids whose primary release day is in `year` today, not deleted, filtered like discover."""
        lo, hi = year_bounds(year)
        with self.lock:
            slots = self.slots_between(lo, hi)
            keep = ~self.deleted[slots]
            if not include_adult:
                keep &= ~self.adult[slots]
            if not include_video:
                keep &= ~self.video[slots]
            return sorted(int(x) for x in self.ids[slots[keep]])

    def truth_catalog(self) -> dict:
        """The whole catalog today: every live id with its release year (None when undated), the
        live ids flagged adult or video, and the ids deleted so far (each answers 404, code 34)."""
        with self.lock:
            live = ~self.deleted
            ids = self.ids[live]
            days = self.day[live]
            dated = days != NO_DATE
            years = np.zeros(len(days), dtype=np.int64)
            years[dated] = days[dated].astype("datetime64[D]").astype("datetime64[Y]").astype(np.int64) + 1970
            return {
                "today": self.today_date.isoformat(),
                "count": int(len(ids)),
                "ids": ids.tolist(),
                "years": [int(y) if d else None for y, d in zip(years.tolist(), dated.tolist())],
                "adult": ids[self.adult[live]].tolist(),
                "video": ids[self.video[live]].tolist(),
                "deleted": self.ids[self.deleted].tolist(),
            }

    def in_export(self, day: int) -> np.ndarray:
        """Whether each slot is listed in the id export of `day`: created by then, not yet deleted."""
        with self.lock:
            return (self.created_day <= day) & (self.deleted_day > day)

    def live_count(self) -> int:
        with self.lock:
            return int((~self.deleted).sum())

    # ------------------------------------------------------------------ time
    def advance(self, days: int) -> dict:
        """Move the clock forward `days` days, applying each day's changes, deletions and additions."""
        if days < 0:
            raise ValueError("days must be 0 or more")
        summary = {"changed": 0, "deleted": 0, "added": 0, "moved_year": 0}
        with self.lock:
            for _ in range(days):
                self.today += 1
                for key, value in self._simulate_day(self.today).items():
                    summary[key] += value
            self.state_version += 1
            self._query_cache.clear()
            self._by_day = None
        return {"today": self.today_date.isoformat(), **summary}

    def _log(self, day: int, movie_id: int, adult: bool | None, kind: str) -> None:
        self.changes_by_day.setdefault(day, []).append((movie_id, adult))
        self.history.setdefault(movie_id, []).append((day, kind))

    def _simulate_day(self, day: int) -> dict:
        o = self.options
        rng = np.random.default_rng([self.seed, day, 1])
        live = np.flatnonzero(~self.deleted)
        n_change = int(round(len(live) * o.change_rate))
        n_delete = int(round(len(live) * o.delete_rate))
        if o.delete_rate > 0 and n_delete == 0 and rng.random() < len(live) * o.delete_rate:
            n_delete = 1
        picked = rng.choice(live, size=min(len(live), n_change + n_delete), replace=False)
        changed, doomed = picked[:n_change], picked[n_change:]
        moved = 0
        events: list[tuple[int, bool | None, str]] = []
        for i in changed:
            i = int(i)
            self.version[i] += 1
            self.vote_count[i] += int(rng.integers(0, 5 + self.vote_count[i] // 20 + 1))
            if self.vote_count[i] > 0 and self.vote_average[i] == 0:
                self.vote_average[i] = round(float(rng.uniform(4, 8)), 3)
            self.popularity[i] = round(max(0.6, self.popularity[i] * float(rng.uniform(0.8, 1.3))), 3)
            kind = "updated"
            roll = rng.random()
            if roll < 0.1:
                self.title_variant[i] += 1
                kind = "title"
            elif roll < 0.12 and self.day[i] != NO_DATE:
                # Rare: the primary release date is corrected into another year.
                shift = int(rng.choice([-400, -366, 366, 400, 730]))
                self.day[i] = max(self.day[i] + shift, to_day(date(FIRST_YEAR, 1, 1)))
                kind = "release_date"
                moved += 1
            adult_flag: bool | None = bool(self.adult[i])
            if rng.random() < 0.01:
                adult_flag = None  # real change lists carry a few "adult": null entries
            events.append((int(self.ids[i]), adult_flag, kind))
        for i in doomed:
            i = int(i)
            self.deleted[i] = True
            self.deleted_day[i] = day
            self.version[i] += 1
            events.append((int(self.ids[i]), None, "deleted"))
        moved += self._move_across_new_year(day, o.new_year_moves, events)
        added = self._add_new(day, rng, o.resolved_new_per_day(), events)
        order = rng.permutation(len(events))  # the real list is in no particular order
        for k in order:
            movie_id, adult_flag, kind = events[int(k)]
            self._log(day, movie_id, adult_flag, kind)
        return {"changed": len(changed), "deleted": len(doomed), "added": added, "moved_year": moved}

    def _move_across_new_year(self, day: int, n: int, events: list) -> int:
        """Move `n` live movies dated within a week of a recent New Year to the other side of it:
        Dec 31 - k becomes Jan 1 + k of the next year and back (its own random stream, so the
        other changes of the day are the same with or without these)."""
        if n <= 0:
            return 0
        rng = np.random.default_rng([self.seed, day, 2])
        year = from_day(day).year
        boundaries = np.array([to_day(date(y, 1, 1)) for y in (year - 1, year, year + 1)])
        near = np.abs(self.day[:, None].astype(np.int64) - boundaries[None, :]).min(axis=1) <= 7
        candidates = np.flatnonzero(near & ~self.deleted & (self.day != NO_DATE))
        if len(candidates) == 0:
            return 0
        for i in rng.choice(candidates, size=min(n, len(candidates)), replace=False):
            i = int(i)
            current = from_day(int(self.day[i]))
            if current.month == 12:  # Dec 31 - k -> Jan 1 + k
                new = date(current.year + 1, 1, 1) + timedelta(days=31 - current.day)
            else:  # Jan 1 + k -> Dec 31 - k
                new = date(current.year - 1, 12, 31) - timedelta(days=current.day - 1)
            self.day[i] = to_day(new)
            self.version[i] += 1
            events.append((int(self.ids[i]), bool(self.adult[i]), "release_date"))
        return min(n, len(candidates))

    def edit(self, movie_id: int, release_date: str) -> dict:
        """An editor corrects a live movie's primary release date today ("" removes it); the edit
        shows in today's changes, read once the day is over."""
        new_day = NO_DATE if release_date == "" else to_day(date.fromisoformat(release_date))
        with self.lock:
            i = self.index_of(movie_id)
            if i is None or self.deleted[i]:
                raise ValueError(f"no live movie {movie_id}")
            self.day[i] = new_day
            self.version[i] += 1
            self._log(self.today, movie_id, bool(self.adult[i]), "release_date")
            self.state_version += 1
            self._query_cache.clear()
            self._by_day = None
            return self._row(i)

    def _add_new(self, day: int, rng: np.random.Generator, n: int, events: list) -> int:
        if n <= 0:
            return 0
        today = from_day(day)
        new_days = np.empty(n, dtype=np.int32)
        for k in range(n):
            roll = rng.random()
            if roll < 0.55:  # upcoming or just released
                new_days[k] = day + int(rng.integers(-60, 365))
            elif roll < 0.93:  # someone adds an older film
                year = int(rng.integers(1900, today.year))
                lo, hi = year_bounds(year)
                new_days[k] = int(rng.integers(lo, hi + 1))
            else:
                new_days[k] = NO_DATE
        new_ids = np.arange(self.next_id, self.next_id + n, dtype=np.int64)
        self.next_id += n
        popularity = np.round(0.6 + rng.pareto(1.5, n), 3)
        weights = np.array([w for *_, w in words.LANGUAGES], dtype=float)
        self.ids = np.concatenate([self.ids, new_ids])
        self.day = np.concatenate([self.day, new_days])
        self.popularity = np.concatenate([self.popularity, popularity])
        self.vote_count = np.concatenate([self.vote_count, np.zeros(n, dtype=np.int64)])
        self.vote_average = np.concatenate([self.vote_average, np.zeros(n)])
        self.lang = np.concatenate([self.lang, rng.choice(len(weights), size=n, p=weights / weights.sum()).astype(np.uint8)])
        self.adult = np.concatenate([self.adult, rng.random(n) < ADULT_SHARE])
        self.video = np.concatenate([self.video, rng.random(n) < VIDEO_SHARE])
        self.has_imdb = np.concatenate([self.has_imdb, rng.random(n) < 0.5])
        self.version = np.concatenate([self.version, np.ones(n, dtype=np.int32)])
        self.title_variant = np.concatenate([self.title_variant, np.zeros(n, dtype=np.int16)])
        self.deleted = np.concatenate([self.deleted, np.zeros(n, dtype=bool)])
        self.deleted_day = np.concatenate([self.deleted_day, np.full(n, NEVER, dtype=np.int32)])
        self.created_day = np.concatenate([self.created_day, np.full(n, day, dtype=np.int32)])
        for k in range(n):
            events.append((int(new_ids[k]), bool(self.adult[-n + k]), "created"))
        return n

    def changed_ids(self, start_day: int, end_day: int) -> list[tuple[int, bool | None]]:
        """Distinct ids changed on days start..end inclusive, in the order they changed."""
        seen: dict[int, bool | None] = {}
        with self.lock:
            for day in range(start_day, end_day + 1):
                for movie_id, adult in self.changes_by_day.get(day, ()):
                    seen.pop(movie_id, None)
                    seen[movie_id] = adult
        return list(seen.items())

    def movie_history(self, movie_id: int) -> list[tuple[int, str]]:
        with self.lock:
            return list(self.history.get(movie_id, ()))

    # ------------------------------------------------------------------ query cache
    def cached_query(self, key, compute):
        """Memoize a sorted discover result until the catalog changes."""
        with self.lock:
            full_key = (self.state_version, key)
            hit = self._query_cache.get(full_key)
            if hit is not None:
                self._query_cache.move_to_end(full_key)
                return hit
            value = compute()
            self._query_cache[full_key] = value
            while len(self._query_cache) > 64:
                self._query_cache.popitem(last=False)
            return value


def _crowd_undated_toward_recent_ids(days: np.ndarray, rng: np.random.Generator) -> None:
    """Swap a share of the undated slots outside the newest ids with dated slots among them (slots
    are in id order). Per-year counts stay as they were; only which ids are undated changes."""
    recent_start = int(len(days) * (1 - RECENT_IDS_SHARE))
    older_undated = np.flatnonzero(days[:recent_start] == NO_DATE)
    recent_dated = recent_start + np.flatnonzero(days[recent_start:] != NO_DATE)
    n = min(int(round(len(older_undated) * UNDATED_TO_RECENT)), len(recent_dated))
    if n == 0:
        return
    moved = rng.choice(older_undated, size=n, replace=False)
    into = rng.choice(recent_dated, size=n, replace=False)
    days[moved], days[into] = days[into], NO_DATE


def imdb_number(movie_id: int) -> int:
    """A bijection id -> 7-digit-ish IMDb number, so OMDb can map tt ids back to movies."""
    return (movie_id * IMDB_MULTIPLIER) % IMDB_MODULUS


def movie_id_of_imdb(number: int) -> int:
    return (number * IMDB_INVERSE) % IMDB_MODULUS


IMDB_MODULUS = 9_999_991  # prime
IMDB_MULTIPLIER = 7_919_021
IMDB_INVERSE = pow(IMDB_MULTIPLIER, -1, IMDB_MODULUS)


def imdb_id(movie_id: int) -> str:
    return f"tt{imdb_number(movie_id):07d}"
