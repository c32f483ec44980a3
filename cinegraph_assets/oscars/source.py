"""The Academy Awards source: download (cached, conditional GET) and parse the oscar_data table.

The upstream table (github.com/DLu/oscar_data, `oscars.csv`) is tab-separated despite its name. Its
quirks, all handled here:

- `Year` is `1927/28` for the first ceremonies: the film year is the first year, the text is kept.
- `Film`, `FilmId`, `Nominees`, `NomineeIds` and `Detail` may hold several `|`-separated values; a
  nomination naming several films becomes one `NominatedFilm` per film.
- An unknown IMDb id is `?`; `Winner` is `True`, empty, or missing altogether.
- Rows end early (trailing empty columns are dropped, down to 8 fields), so columns are read by name.
- Double quotes inside fields are backslash-escaped (`Barney \\"Chick\\" McGill`) and fields are
  never quoted, so the file is read with QUOTE_NONE (a quote is a character, never a delimiter)
  and `\\"` is turned back into `"`.
- Scientific/Technical and most Special awards name no film.

Plain Python: imports nothing of Dagster.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import os
import re
import tempfile
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Iterable
from urllib.parse import urlparse, urlunparse

import requests
from requests.adapters import HTTPAdapter
from urllib3.util.retry import Retry

COLUMNS = (
    "Ceremony", "Year", "Class", "CanonicalCategory", "Category", "Film", "FilmId", "Name",
    "Nominees", "NomineeIds", "Winner", "Detail", "Note", "Citation",
)
#: Columns without which a row means nothing; the others may be missing from short rows.
REQUIRED_COLUMNS = ("Ceremony", "Year", "Class", "CanonicalCategory", "Category")

_YEAR = re.compile(r"^(\d{4})(?:/(\d{2}|\d{4}))?$")
_IMDB_TITLE_ID = re.compile(r"^tt\d{5,}$")
_IMDB_NAME_OR_COMPANY_ID = re.compile(r"^(nm|co)\d{5,}$")
_UNKNOWN_ID = "?"
_ESCAPED_QUOTE = '\\"'


class OscarsSourceError(RuntimeError):
    """The Oscar source cannot be read or does not look like the oscar_data table.

    The message names the setting (OSCARS_SOURCE_URL) or the line of the file to fix.
    """


# ---------------------------------------------------------------------------------------------
# Parsed rows
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class NominatedFilm:
    """One film a nomination names (a row may name several)."""

    position: int  # 0-based position in the row's `Film` list
    title: str
    imdb_id: str | None  # tt..., None when unknown (`?`, empty, or ids not aligned with titles)
    detail: str | None  # this film's part of `Detail` when Detail lists one value per film


@dataclass(frozen=True)
class Nominee:
    position: int
    name: str
    imdb_id: str | None  # nm... (person) or co... (company); None when unknown


@dataclass(frozen=True)
class Nomination:
    """One row of the source: one nomination (possibly naming several films)."""

    line: int  # 1-based line number in the file (the header is line 1)
    ceremony: int
    year_label: str  # as written: "1927/28", "2004"
    film_year: int  # first year of year_label
    award_class: str  # Title, Acting, Directing, Writing, Music, Production, SciTech, Special
    canonical_category: str
    category: str
    films: tuple[NominatedFilm, ...]
    name: str | None
    nominees: tuple[Nominee, ...]
    winner: bool
    detail: str | None
    note: str | None
    citation: str | None
    key: str  # stable natural key of the row (see nomination_key)

    @property
    def names_film(self) -> bool:
        return bool(self.films)


@dataclass(frozen=True)
class Ceremony:
    number: int
    year: int  # the film year it honours (first year of year_label)
    year_label: str


@dataclass(frozen=True)
class Category:
    canonical_category: str
    award_class: str
    raw_names: tuple[str, ...]  # every wording used over the decades, in first-seen order


@dataclass
class OscarsTable:
    """The whole parsed source."""

    nominations: list[Nomination]
    ceremonies: list[Ceremony] = field(default_factory=list)
    categories: list[Category] = field(default_factory=list)

    def for_film_year(self, year: int) -> list[Nomination]:
        return [n for n in self.nominations if n.film_year == year]

    def film_years(self) -> list[int]:
        """Every film year the table names, in order."""
        return sorted({n.film_year for n in self.nominations})


# ---------------------------------------------------------------------------------------------
# Parsing
# ---------------------------------------------------------------------------------------------


def _clean(value: str | None) -> str | None:
    if value is None:
        return None
    value = value.strip()
    return value or None


def _split(value: str | None) -> list[str]:
    return [part.strip() for part in value.split("|")] if value else []


def _imdb_id(raw: str, pattern: re.Pattern[str]) -> str | None:
    raw = raw.strip()
    if not raw or raw == _UNKNOWN_ID or not pattern.match(raw):
        return None
    return raw


def _paired_ids(values: list[str], raw_ids: str | None, pattern: re.Pattern[str]) -> list[str | None]:
    """IMDb ids aligned with `values`; all None when the lists do not line up (cannot pair safely)."""
    ids = _split(raw_ids)
    if len(ids) != len(values):
        return [None] * len(values)
    return [_imdb_id(raw, pattern) for raw in ids]


#: What identifies a nomination; Winner and Note are facts about it that may be corrected later.
_IDENTITY_COLUMNS = ("Ceremony", "Category", "Film", "FilmId", "Name", "Nominees", "Detail", "Citation")


def _identity(fields: dict[str, str]) -> str:
    return "\x1f".join(fields.get(name, "").strip() for name in _IDENTITY_COLUMNS)


def nomination_key(fields: dict[str, str], occurrence: int = 0) -> str:
    """A natural key that survives re-reading the file, re-ordering of rows and winner updates.

    Built from what identifies a nomination (ceremony, category, films, who, detail, citation), not
    from its line number; `occurrence` separates the rare rows identical in all of these.
    """
    identity = _identity(fields)
    digest = hashlib.sha1(f"{identity}\x1e{occurrence}".encode("utf-8")).hexdigest()[:16]
    return f"{fields['Ceremony'].strip()}-{digest}"


def _parse_row(line: int, fields: dict[str, str], key: str) -> Nomination:
    try:
        ceremony = int(fields["Ceremony"])
    except ValueError:
        raise OscarsSourceError(
            f"line {line}: Ceremony {fields['Ceremony']!r} is not a number"
        ) from None
    year_label = fields["Year"].strip()
    match = _YEAR.match(year_label)
    if not match:
        raise OscarsSourceError(
            f"line {line}: Year {year_label!r} is neither a year (2004) nor a season (1927/28)"
        )
    titles = _split(fields.get("Film"))
    film_ids = _paired_ids(titles, fields.get("FilmId"), _IMDB_TITLE_ID)
    details = _split(fields.get("Detail"))
    per_film_detail = len(titles) > 1 and len(details) == len(titles)
    films = tuple(
        NominatedFilm(
            position=i,
            title=title,
            imdb_id=film_ids[i],
            detail=(details[i] or None) if per_film_detail else _clean(fields.get("Detail")),
        )
        for i, title in enumerate(titles)
        if title
    )
    names = [name for name in _split(fields.get("Nominees"))]
    nominee_ids = _paired_ids(names, fields.get("NomineeIds"), _IMDB_NAME_OR_COMPANY_ID)
    nominees = tuple(
        Nominee(position=i, name=name, imdb_id=nominee_ids[i])
        for i, name in enumerate(names)
        if name
    )
    return Nomination(
        line=line,
        ceremony=ceremony,
        year_label=year_label,
        film_year=int(match.group(1)),
        award_class=fields["Class"].strip(),
        canonical_category=fields["CanonicalCategory"].strip(),
        category=fields["Category"].strip(),
        films=films,
        name=_clean(fields.get("Name")),
        nominees=nominees,
        winner=(fields.get("Winner") or "").strip().lower() == "true",
        detail=_clean(fields.get("Detail")),
        note=_clean(fields.get("Note")),
        citation=_clean(fields.get("Citation")),
        key=key,
    )


def parse_oscars_tsv(text: str) -> OscarsTable:
    """Parse the whole oscar_data table. Every data line becomes exactly one Nomination.

    Raises OscarsSourceError naming the line when a row cannot be understood.
    """
    if text.startswith("\ufeff"):
        text = text[1:]
    reader = csv.reader(io.StringIO(text, newline=""), delimiter="\t", quoting=csv.QUOTE_NONE)
    try:
        header = [name.strip() for name in next(reader)]
    except StopIteration:
        raise OscarsSourceError("the Oscar source is empty; check OSCARS_SOURCE_URL") from None
    missing = [name for name in REQUIRED_COLUMNS if name not in header]
    if missing:
        raise OscarsSourceError(
            f"the Oscar source has no column(s) {', '.join(missing)} (header starts "
            f"{' | '.join(header[:5])[:120]!r}); OSCARS_SOURCE_URL must point at the tab-separated "
            "oscar_data table (oscars.csv)"
        )
    nominations: list[Nomination] = []
    seen: Counter[str] = Counter()
    for values in reader:
        line = reader.line_num
        if not values or (len(values) == 1 and not values[0].strip()):
            continue  # blank line (the trailing newline)
        if len(values) > len(header) and any(v.strip() for v in values[len(header):]):
            raise OscarsSourceError(
                f"line {line}: {len(values)} fields but the header has {len(header)}"
            )
        # Short rows simply stop early: the missing trailing columns are empty.
        fields = {
            name: (values[i].replace(_ESCAPED_QUOTE, '"') if i < len(values) else "")
            for i, name in enumerate(header)
        }
        missing_values = [name for name in REQUIRED_COLUMNS if not fields[name].strip()]
        if missing_values:
            raise OscarsSourceError(f"line {line}: no value for {', '.join(missing_values)}")
        identity = _identity(fields)
        seen[identity] += 1
        nominations.append(_parse_row(line, fields, nomination_key(fields, seen[identity] - 1)))
    return OscarsTable(
        nominations=nominations,
        ceremonies=_ceremonies(nominations),
        categories=_categories(nominations),
    )


def _ceremonies(nominations: Iterable[Nomination]) -> list[Ceremony]:
    by_number: dict[int, Ceremony] = {}
    for n in nominations:
        by_number.setdefault(n.ceremony, Ceremony(n.ceremony, n.film_year, n.year_label))
    return [by_number[number] for number in sorted(by_number)]


def _categories(nominations: Iterable[Nomination]) -> list[Category]:
    classes: dict[str, str] = {}
    raw_names: dict[str, list[str]] = {}
    for n in nominations:
        classes.setdefault(n.canonical_category, n.award_class)
        names = raw_names.setdefault(n.canonical_category, [])
        if n.category not in names:
            names.append(n.category)
    return [
        Category(name, classes[name], tuple(raw_names[name])) for name in sorted(raw_names)
    ]


# ---------------------------------------------------------------------------------------------
# Fetching, with a cache that only refreshes when the source changed
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SourceSnapshot:
    """The source file as this run read it, and how it compares to the previous read."""

    path: Path  # the local file parsed (the cached download, or the local source itself)
    sha256: str
    status: str  # downloaded | changed | unchanged | not_modified | local | cache_fallback
    changed: bool  # the content differs from the previous read (True on the first read)
    previous_sha256: str | None
    source: str  # the URL or path, with any query string / credentials removed
    fetched_at: str
    bytes: int
    error: str | None = None  # why the cached copy was used (cache_fallback only)

    def read_text(self) -> str:
        return self.path.read_text(encoding="utf-8")


def redact_source(source: str) -> str:
    """The source without user info, query or fragment (a signed URL's token must not be logged)."""
    parsed = urlparse(source)
    if parsed.scheme in {"http", "https"}:
        netloc = parsed.hostname or ""
        if parsed.port:
            netloc += f":{parsed.port}"
        return urlunparse((parsed.scheme, netloc, parsed.path, "", "", ""))
    return source


def _cache_paths(state_dir: Path, source: str) -> tuple[Path, Path]:
    folder = state_dir / "oscars_source"
    stem = hashlib.sha256(redact_source(source).encode("utf-8")).hexdigest()[:16]
    return folder / f"{stem}.tsv", folder / f"{stem}.json"


def _read_meta(meta_path: Path) -> dict:
    try:
        return json.loads(meta_path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}


def _write_atomically(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=path.name, suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def _check_looks_like_table(data: bytes, source: str) -> None:
    """Refuse an HTML error page or a different file before it replaces a good cached copy."""
    first_line = data[:4096].split(b"\n", 1)[0].decode("utf-8", errors="replace")
    header = [name.strip().lstrip("\ufeff") for name in first_line.split("\t")]
    if not all(name in header for name in REQUIRED_COLUMNS):
        raise OscarsSourceError(
            f"{redact_source(source)} is not the tab-separated oscar_data table (first line "
            f"{first_line[:80]!r}); set OSCARS_SOURCE_URL to the raw oscars.csv"
        )


def _session(retries: int) -> requests.Session:
    session = requests.Session()
    retry = Retry(
        total=retries,
        backoff_factor=0.5,
        status_forcelist=(429, 500, 502, 503, 504),
        allowed_methods=frozenset({"GET"}),
        respect_retry_after_header=True,
        raise_on_status=False,
    )
    session.mount("http://", HTTPAdapter(max_retries=retry))
    session.mount("https://", HTTPAdapter(max_retries=retry))
    return session


def fetch_oscars_source(
    source: str, state_dir: Path | str, timeout: float = 60.0, retries: int = 3
) -> SourceSnapshot:
    """Make the source available locally, downloading it only when it changed.

    An http(s) source is cached in `<state_dir>/oscars_source/` with its ETag, Last-Modified and
    sha256; the next call sends If-None-Match / If-Modified-Since and a 304 reuses the cache. A local
    path is read in place. Either way the sha256 is compared with the previous read, so `changed`
    says whether the content is new. If the server cannot be reached but a cached copy exists, the
    copy is used (status cache_fallback, with the error); without a copy this raises
    OscarsSourceError naming OSCARS_SOURCE_URL.
    """
    state_dir = Path(state_dir)
    cache_path, meta_path = _cache_paths(state_dir, source)
    meta = _read_meta(meta_path)
    previous = meta.get("sha256")
    shown = redact_source(source)
    parsed = urlparse(source)

    if parsed.scheme not in {"http", "https"}:
        local = Path(parsed.path if parsed.scheme == "file" else source).expanduser()
        try:
            data = local.read_bytes()
        except OSError as exc:
            raise OscarsSourceError(
                f"cannot read the Oscar source {local}: {exc.strerror or exc}; set "
                "OSCARS_SOURCE_URL to an existing file or an http(s) URL"
            ) from None
        _check_looks_like_table(data, source)
        sha = hashlib.sha256(data).hexdigest()
        fetched_at = _now()
        meta.update(sha256=sha, source=shown, fetched_at=fetched_at, bytes=len(data))
        _write_atomically(meta_path, json.dumps(meta, indent=2).encode("utf-8"))
        return SourceSnapshot(local, sha, "local", sha != previous, previous, shown, fetched_at, len(data))

    headers = {}
    if cache_path.exists() and previous:
        if meta.get("etag"):
            headers["If-None-Match"] = meta["etag"]
        if meta.get("last_modified"):
            headers["If-Modified-Since"] = meta["last_modified"]
    try:
        with _session(retries) as session:
            response = session.get(source, headers=headers, timeout=timeout)
        if response.status_code == 304 and cache_path.exists():
            fetched_at = _now()
            meta.update(checked_at=fetched_at)
            _write_atomically(meta_path, json.dumps(meta, indent=2).encode("utf-8"))
            return SourceSnapshot(
                cache_path, previous, "not_modified", False, previous, shown,
                meta.get("fetched_at", fetched_at), int(meta.get("bytes", 0)),
            )
        if response.status_code != 200:
            raise OscarsSourceError(
                f"GET {shown} answered HTTP {response.status_code}; check OSCARS_SOURCE_URL"
            )
        data = response.content
        _check_looks_like_table(data, source)
    except (requests.RequestException, OscarsSourceError) as exc:
        message = str(exc) if isinstance(exc, OscarsSourceError) else (
            f"cannot download the Oscar source {shown} ({type(exc).__name__}); check "
            "OSCARS_SOURCE_URL and the network"
        )
        if cache_path.exists() and previous:
            return SourceSnapshot(
                cache_path, previous, "cache_fallback", False, previous, shown,
                meta.get("fetched_at", _now()), int(meta.get("bytes", 0)), error=message,
            )
        raise OscarsSourceError(message) from None

    sha = hashlib.sha256(data).hexdigest()
    if previous is None:
        status = "downloaded"
    else:
        status = "unchanged" if sha == previous else "changed"
    if status != "unchanged" or not cache_path.exists():
        _write_atomically(cache_path, data)
    fetched_at = _now()
    meta = {
        "source": shown,
        "sha256": sha,
        "etag": response.headers.get("ETag"),
        "last_modified": response.headers.get("Last-Modified"),
        "fetched_at": fetched_at,
        "bytes": len(data),
    }
    _write_atomically(meta_path, json.dumps(meta, indent=2).encode("utf-8"))
    return SourceSnapshot(cache_path, sha, status, sha != previous, previous, shown, fetched_at, len(data))
