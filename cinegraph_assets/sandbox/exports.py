"""TMDb's daily ID exports: /p/exports/movie_ids_MM_DD_YYYY.json.gz (and adult_movie_ids_...).

As files.tmdb.org serves them: gzip of newline-delimited JSON objects (not an array),
`{"adult":false,"id":..,"original_title":"..","popularity":..,"video":false}`, ids ascending except a
few out of order at the top (a quirk of the real files, see ../shared/data/tmdb/daily_export_sample).
The movie file lists every movie that is not adult, dated or not, `video` ones included; the adult
file holds the adult films with popularity 0.0. No auth.

A file exists for each sandbox day from the start date to today, but today's only from
`export_publish_time` (08:00 UTC, as TMDb publishes them) on the sandbox's `time_of_day`: before
that it answers 404 and yesterday's is the newest. The file of a day lists the movies created by
that day and not deleted by then (a day listed in `export_skipped_days` has no file: TMDb skipped it), so an id leaves the export the day it is deleted (and its details
answer 404, code 34, from then on); titles and popularity are today's.

Faults (the `export_faults` setting, /_sandbox/config), applied to every file served while set:
`truncated` cuts the gzip short (the HTTP answer itself is complete), `malformed` adds three lines
that are not movie records, `small` serves only the first half of the lines.
"""

from __future__ import annotations

import gzip
import re
from json.encoder import encode_basestring as jstr
import threading
from collections import OrderedDict
from datetime import date

import numpy as np

from cinegraph_assets.sandbox import responses as r
from cinegraph_assets.sandbox.catalog import to_day
from cinegraph_assets.sandbox.words import LANGUAGE_CODES

FILE = re.compile(r"^/p/exports/(movie_ids|adult_movie_ids)_(\d{2})_(\d{2})_(\d{4})\.json\.gz$")
#: Where the `truncated` fault cuts the gzip: past its middle, so a reader has already seen most ids.
TRUNCATED_AT = 0.6
#: The `malformed` fault's lines, by where they go (index into the good lines) and what they hold:
#: a line cut short, a line that is not JSON, an id that is not a number.
MALFORMED_LINES = ((1, '{"adult":false,"id":'), (0.5, "<html>not a record</html>"),
                   (-1, '{"adult":false,"id":"tt0000001","original_title":"Bad id","popularity":1.0,"video":false}'))


class DailyExports:
    prefix = "/p/exports"

    def __init__(self, sandbox):
        self.sb = sandbox
        self._lock = threading.Lock()
        self._cache: OrderedDict = OrderedDict()

    def handle(self, path: str, params: dict[str, str], headers) -> r.Response:
        match = FILE.match(path)
        if not match:
            return r.text_response(404, "Not Found\n")
        kind, month, day, year = match.groups()
        try:
            when = date(int(year), int(month), int(day))
        except ValueError:
            return r.text_response(404, "Not Found\n")
        cat = self.sb.catalog
        settings = self.sb.settings
        if not cat.start_day <= to_day(when) <= cat.today:
            return r.text_response(404, "Not Found\n")
        not_yet = to_day(when) == cat.today and not settings.export_published()
        if not_yet or settings.export_skipped(when.isoformat()):
            return r.text_response(404, "Not Found\n")
        faults = frozenset(f for f in settings.export_faults.split(",") if f)
        key = (kind, when, cat.state_version, faults)
        with self._lock:  # one build at a time: a bench-scale file is large
            body = self._cache.get(key)
            if body is None:
                body = self._build(kind == "adult_movie_ids", to_day(when), faults)
                self._cache[key] = body
                while len(self._cache) > 4:
                    self._cache.popitem(last=False)
        return r.Response(200, body, content_type="application/octet-stream", json_body=False)

    def _build(self, adult: bool, day: int, faults: frozenset) -> bytes:
        cat = self.sb.catalog
        titles = self.sb.renderer.titles
        with cat.lock:
            keep = cat.in_export(day) & (cat.adult if adult else ~cat.adult)
            slots = np.flatnonzero(keep)
            ids = cat.ids[slots].tolist()
            popularity = [0.0] * len(ids) if adult else cat.popularity[slots].tolist()
            video = cat.video[slots].tolist()
            langs = [LANGUAGE_CODES[k] for k in cat.lang[slots].tolist()]
            variants = cat.title_variant[slots].tolist()
        order = list(range(len(ids)))
        if len(ids) > 5:
            # The real files start with a few ids out of ascending order.
            quirk = sorted(order, key=lambda k: ids[k] % 7919)[:5]
            moved = set(quirk)
            order = quirk + [k for k in order if k not in moved]
        flag = "true" if adult else "false"
        # Lines are written by hand (not json.dumps per line): a bench-scale file has a million.
        lines = [f'{{"adult":{flag},"id":{ids[k]},"original_title":{jstr(titles(ids[k], langs[k], variants[k])[1])},'
                 f'"popularity":{popularity[k]},"video":{"true" if video[k] else "false"}}}' for k in order]
        if "small" in faults:
            lines = lines[: len(lines) // 2]
        if "malformed" in faults:
            for where, text in MALFORMED_LINES:
                at = int(where * len(lines)) if isinstance(where, float) else where % (len(lines) + 1)
                lines.insert(at, text)
        # mtime 0: a day's file is the same bytes whenever it is built, like everything here a pure
        # function of the seed (a fault's file then starts exactly as the good one does).
        body = gzip.compress(("\n".join(lines) + "\n").encode("utf-8"), compresslevel=3, mtime=0)
        if "truncated" in faults:
            body = body[: int(len(body) * TRUNCATED_AT)]
        return body


def mount(sandbox) -> DailyExports:
    return DailyExports(sandbox)
