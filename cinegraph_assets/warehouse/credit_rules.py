"""TMDb's credit rules on PostgreSQL: which cast and crew entries make a movie malformed.

On PostgreSQL the credits stay in the staged JSONB (staging.lock_staged leaves them out), so the
checks tmdb/parse.py makes in Python run here as set-based SQL over a whole batch.
"""

from __future__ import annotations

from typing import Sequence

from sqlalchemy.engine import Connection

# On PostgreSQL the credits (about 300 rows a movie, most of the bytes) go from the staged JSONB
# straight into movie_cast, movie_crew and people, without a trip through Python. These two
# statements repeat parse_movie's rules (see tmdb/parse.py _parse_credits), and a test compares
# both dialects' rows: every credit must be an object with a positive integer id, strings or null
# for the text fields, integers for gender and order; a person's row comes from their first credit,
# cast before crew (the highest tmdb_id of the batch wins, as the Python path's merge does); a
# credit_id twice in one list keeps its first entry; a missing one becomes
# "<cast|crew>:<person>:<index>".
STAGED_CREDITS_CTE = """
    staged AS MATERIALIZED (
        SELECT tmdb_id, payload -> 'credits' AS credits
        FROM tmdb_details_staging WHERE tmdb_id = ANY(%(ids)s)
    ), lists AS (
        SELECT s.tmdb_id, p.part, p.part_rank, jsonb_typeof(s.credits) AS credits_type,
               s.credits -> p.part AS list
        FROM staged s CROSS JOIN (VALUES ('cast', 0), ('crew', 1)) AS p(part, part_rank)
    )
"""


def _pg_text_or_null(field: str) -> str:
    return f"coalesce(jsonb_typeof(c.v -> '{field}'), 'null') IN ('string', 'null')"


_PG_CREDIT_PROBLEMS_SQL = f"""
WITH {STAGED_CREDITS_CTE}, problem AS (
    SELECT tmdb_id, -1 AS part_rank, 0 AS ord, 'credits: expected an object' AS reason
    FROM staged WHERE coalesce(jsonb_typeof(credits), 'null') NOT IN ('object', 'null')
    UNION ALL
    SELECT tmdb_id, part_rank, 0, 'credits.' || part || ': expected a list'
    FROM lists
    WHERE credits_type = 'object' AND coalesce(jsonb_typeof(list), 'null') NOT IN ('array', 'null')
    UNION ALL
    SELECT l.tmdb_id, l.part_rank, c.ord, 'credits.' || l.part || '[' || (c.ord - 1) || ']: ' || CASE
        WHEN jsonb_typeof(c.v) <> 'object' THEN 'expected an object'
        WHEN NOT (jsonb_typeof(c.v -> 'id') = 'number' AND (c.v ->> 'id') ~ '^[0-9]{{1,10}}$'
                  AND (c.v ->> 'id')::bigint BETWEEN 1 AND 2147483647)
            THEN 'id: expected a positive integer'
        WHEN NOT ({_pg_text_or_null("credit_id")})
            THEN 'credit_id: expected a string'
        WHEN NOT ({_pg_text_or_null("name")}
                  AND {_pg_text_or_null("original_name")}
                  AND {_pg_text_or_null("known_for_department")}
                  AND {_pg_text_or_null("profile_path")}
                  AND (c.v -> 'gender' IS NULL OR jsonb_typeof(c.v -> 'gender') = 'null'
                       OR (jsonb_typeof(c.v -> 'gender') = 'number' AND (c.v ->> 'gender') ~ '^-?[0-9]{{1,3}}$')))
            THEN 'name, original_name, known_for_department and profile_path must be strings or null, gender a small integer or null'
        WHEN l.part = 'cast' AND NOT (
                  (c.v -> 'order' IS NULL OR jsonb_typeof(c.v -> 'order') = 'null'
                   OR (jsonb_typeof(c.v -> 'order') = 'number' AND (c.v ->> 'order') ~ '^-?[0-9]{{1,10}}$'
                       AND abs((c.v ->> 'order')::bigint) <= 2147483647))
                  AND {_pg_text_or_null("character")})
            THEN 'order must be an integer and character a string'
        WHEN l.part = 'crew' AND NOT ({_pg_text_or_null("department")}
                                      AND {_pg_text_or_null("job")})
            THEN 'department and job must be strings'
        END
    FROM lists l CROSS JOIN LATERAL jsonb_array_elements(l.list) WITH ORDINALITY AS c(v, ord)
    WHERE l.credits_type = 'object' AND jsonb_typeof(l.list) = 'array'
)
SELECT DISTINCT ON (tmdb_id) tmdb_id, reason FROM problem WHERE reason IS NOT NULL
ORDER BY tmdb_id, part_rank, ord
"""
def _jsonpath_credit_check(part: str) -> str:
    """A jsonpath that finds any credit of a list that parse_movie would refuse (a fast first pass:
    it runs in C over each list, where the row-by-row reasons below cost three times as much)."""

    def text(field: str) -> str:
        return f'(exists(@.{field}) && @.{field}.type() != "string" && @.{field}.type() != "null")'

    def integer(field: str, low: int, high: int) -> str:
        return (f'(exists(@.{field}) && @.{field}.type() != "null" && (@.{field}.type() != "number"'
                f" || @.{field}.floor() != @.{field} || @.{field} < {low} || @.{field} > {high}))")

    checks = [
        '@.type() != "object"',
        '!(@.id.type() == "number")',
        "@.id < 1", "@.id > 2147483647", "@.id.floor() != @.id",
        *(text(f) for f in ("credit_id", "name", "original_name", "known_for_department", "profile_path")),
        integer("gender", -999, 999),
    ]
    if part == "cast":
        checks += [integer("order", -2147483647, 2147483647), text("character")]
    else:
        checks += [text("department"), text("job")]
    return "lax $[*] ? (" + " || ".join(checks) + ")"


_PG_CREDIT_SUSPECTS_SQL = f"""
WITH {STAGED_CREDITS_CTE}
SELECT DISTINCT tmdb_id FROM lists
WHERE coalesce(credits_type, 'null') NOT IN ('object', 'null')
   OR (credits_type = 'object' AND coalesce(jsonb_typeof(list), 'null') NOT IN ('array', 'null'))
   OR (jsonb_typeof(list) = 'array' AND jsonb_path_exists(
           list, CASE part WHEN 'cast' THEN CAST(%(cast_check)s AS jsonpath)
                           ELSE CAST(%(crew_check)s AS jsonpath) END))
"""
_PG_CREDIT_CHECKS = {"cast_check": _jsonpath_credit_check("cast"), "crew_check": _jsonpath_credit_check("crew")}


def staged_credit_problems(conn: Connection, ids: Sequence[int]) -> dict[int, str]:
    """{tmdb_id: reason} for the staged movies whose credits break a rule (PostgreSQL).

    Quick for the whole batch (a jsonpath per list), then with reasons for the few that look wrong.
    """
    suspects = conn.exec_driver_sql(_PG_CREDIT_SUSPECTS_SQL, {"ids": list(ids), **_PG_CREDIT_CHECKS}).scalars().all()
    if not suspects:
        return {}
    return dict(conn.exec_driver_sql(_PG_CREDIT_PROBLEMS_SQL, {"ids": list(suspects)}).all())
