"""TMDb's credit rules, written once as data; the Python check and the PostgreSQL SQL come from them.

A details payload's `credits` holds two lists, `cast` and `crew`. Every entry must be an object
whose fields, where present and not null, have the type below (`id` must be there). An entry that
breaks a rule makes the whole movie malformed (recorded as a failure with the reason, fetched again
later); nothing is skipped silently. An entry whose credit_id repeats an earlier one of its list is
checked like any other, then dropped when written (the table's key).

Two checkers are generated from the same rules:
- Python (`Rule.ok`, used by tmdb/parse.py) for the SQLite path, where the credits are parsed;
- PostgreSQL (`staged_credit_problems`), where the credits never leave the staged JSONB: a jsonpath
  finds the suspect movies of a batch in C, then one set-based query names each one's first
  problem, in the order the Python parser meets them.
cinegraph_assets_tests/warehouse/test_credit_rules.py runs both over the same payloads.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, Sequence

from sqlalchemy.engine import Connection

INT_MAX = 2**31 - 1  # PostgreSQL INTEGER, the type of every credit number column


@dataclass(frozen=True)
class Field:
    """One field of a credit: "text" (a string) or "integer" (a whole number in low..high); null
    or absent is fine unless `required`."""

    name: str
    kind: str
    low: int = 0
    high: int = 0
    required: bool = False

    def python(self) -> str:
        """A Python expression over the credit `c`, true when this field is fine."""
        get = f"(v := c.get({self.name!r}))"
        if self.kind == "text":
            test = f"type({get}) is str"
        else:
            test = f"(type({get}) is int and {self.low} <= v <= {self.high})"
        return test if self.required else f"({get} is None or {test.replace(get, 'v')})"

    def sql(self) -> str:
        """A PostgreSQL condition over the credit `c.v` (jsonb), true when this field is fine."""
        typeof = f"jsonb_typeof(c.v -> '{self.name}')"
        if self.kind == "text":
            test = f"{typeof} = 'string'"
        else:
            text = f"(c.v ->> '{self.name}')"
            test = (f"({typeof} = 'number' AND {text} ~ '^-?[0-9]{{1,19}}$' "
                    f"AND {text}::numeric BETWEEN {self.low} AND {self.high})")
        if self.required:  # absent: jsonb_typeof is NULL, and NOT (NULL ...) would pass it
            return f"coalesce({test}, false)"
        return f"(coalesce({typeof}, 'null') = 'null' OR {test})"

    def jsonpath_bad(self) -> str:
        """A jsonpath filter over one credit `@`, true when this field breaks the rule."""
        f = f"@.{self.name}"
        if self.kind == "text":
            wrong = f'{f}.type() != "string"'
        else:
            wrong = f'({f}.type() != "number" || {f}.floor() != {f} || {f} < {self.low} || {f} > {self.high})'
        if self.required:
            return f"(!(exists({f})) || {wrong})"
        return f'(exists({f}) && {f}.type() != "null" && {wrong})'


@dataclass(frozen=True)
class Rule:
    """Fields checked together, with the reason a credit breaking any of them gets.

    `expected` set: a one-field rule whose reason names the field ("<where>.<field>: expected ...").
    """

    fields: tuple[Field, ...]
    reason: str = ""
    expected: str = ""
    ok: Callable[[dict], bool] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        # Compiled once: the check runs for every credit (about 300 a movie) on the SQLite path.
        source = "lambda c: " + " and ".join(f.python() for f in self.fields)
        object.__setattr__(self, "ok", eval(source, {}))  # noqa: S307 - built from the constants below

    def sql_reason(self) -> str:
        """The reason as a PostgreSQL text expression (after "credits.<part>[<i>]")."""
        if self.expected:
            return f"'.{self.fields[0].name}: expected {self.expected}'"
        return f"': {self.reason}'"


def _text(name: str) -> Field:
    return Field(name, "text")


# ------------------------------------------------------------------------------------ the rules
#: In the order a credit is checked; the first broken rule is the reason.
ID = Rule((Field("id", "integer", 1, INT_MAX, required=True),), expected="a positive integer")
CREDIT_ID = Rule((_text("credit_id"),), expected="a string")
PERSON = Rule(
    (_text("name"), _text("original_name"), Field("gender", "integer", -999, 999),
     _text("known_for_department"), _text("profile_path")),
    reason="name, original_name, known_for_department and profile_path must be strings or null, "
           "gender a small integer or null",
)
#: What each list adds to the rules every credit shares.
PART_RULES = {
    "cast": Rule((Field("order", "integer", -INT_MAX, INT_MAX), _text("character")),
                 reason="order must be an integer and character a string"),
    "crew": Rule((_text("department"), _text("job")), reason="department and job must be strings"),
}
PARTS = tuple(PART_RULES)  # cast before crew: the order the parser reads them
SHARED_RULES = (ID, CREDIT_ID, PERSON)


def rules_of(part: str) -> tuple[Rule, ...]:
    return (*SHARED_RULES, PART_RULES[part])


# ------------------------------------------------------------------------------------ PostgreSQL
#: The staged credits of a batch (`%(ids)s`), one row per movie and list; shared with the write.
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


def _sql_entry_problem() -> str:
    whens = []
    for part in PARTS:
        for rule in rules_of(part):
            guard = "" if rule in SHARED_RULES else f"l.part = '{part}' AND "
            condition = " AND ".join(f.sql() for f in rule.fields)
            whens.append(f"WHEN {guard}NOT ({condition}) THEN {rule.sql_reason()}")
    unique = list(dict.fromkeys(whens))  # the shared rules once
    return "CASE WHEN jsonb_typeof(c.v) <> 'object' THEN ': expected an object'\n        " + \
        "\n        ".join(unique) + "\n    END"


# Python's parser checks that every entry of a list is an object before it reads any of them, so a
# non-object entry is the list's reason even after an earlier entry with a bad field (entry_rank).
_PG_CREDIT_PROBLEMS_SQL = f"""
WITH {STAGED_CREDITS_CTE}, problem AS (
    SELECT tmdb_id, -1 AS part_rank, 0 AS entry_rank, 0 AS ord, 'credits: expected an object' AS reason
    FROM staged WHERE coalesce(jsonb_typeof(credits), 'null') NOT IN ('object', 'null')
    UNION ALL
    SELECT tmdb_id, part_rank, 0, 0, 'credits.' || part || ': expected a list'
    FROM lists
    WHERE credits_type = 'object' AND coalesce(jsonb_typeof(list), 'null') NOT IN ('array', 'null')
    UNION ALL
    SELECT l.tmdb_id, l.part_rank, CASE WHEN jsonb_typeof(c.v) = 'object' THEN 1 ELSE 0 END, c.ord,
           'credits.' || l.part || '[' || (c.ord - 1) || ']' || {_sql_entry_problem()}
    FROM lists l CROSS JOIN LATERAL jsonb_array_elements(l.list) WITH ORDINALITY AS c(v, ord)
    WHERE l.credits_type = 'object' AND jsonb_typeof(l.list) = 'array'
)
SELECT DISTINCT ON (tmdb_id) tmdb_id, reason FROM problem WHERE reason IS NOT NULL
ORDER BY tmdb_id, part_rank, entry_rank, ord
"""


def _jsonpath_credit_check(part: str) -> str:
    """A jsonpath that finds any entry of a list that breaks a rule (a fast first pass: it runs in
    C over each list, where the row-by-row reasons cost three times as much)."""
    checks = ['@.type() != "object"'] + [f.jsonpath_bad() for rule in rules_of(part) for f in rule.fields]
    return "lax $[*] ? (" + " || ".join(checks) + ")"


_PG_CREDIT_SUSPECTS_SQL = f"""
WITH {STAGED_CREDITS_CTE}
SELECT DISTINCT tmdb_id FROM lists
WHERE coalesce(credits_type, 'null') NOT IN ('object', 'null')
   OR (credits_type = 'object' AND coalesce(jsonb_typeof(list), 'null') NOT IN ('array', 'null'))
   OR (jsonb_typeof(list) = 'array' AND (jsonb_path_exists(
           list, CASE part WHEN 'cast' THEN CAST(%(cast_check)s AS jsonpath)
                           ELSE CAST(%(crew_check)s AS jsonpath) END)
           -- lax mode unwraps an entry that is itself a list, so strict mode looks for those
           OR jsonb_path_exists(list, 'strict $[*] ? (@.type() == "array")')))
"""
_PG_CREDIT_CHECKS = {"cast_check": _jsonpath_credit_check("cast"), "crew_check": _jsonpath_credit_check("crew")}


def staged_credit_problems(conn: Connection, ids: Sequence[int]) -> dict[int, str]:
    """{tmdb_id: reason} for the staged movies whose credits break a rule (PostgreSQL).

    Quick for the whole batch (a jsonpath per list), then with reasons for the few that look wrong.
    """
    suspects = suspect_ids(conn, ids)
    return credit_problems(conn, suspects) if suspects else {}


def suspect_ids(conn: Connection, ids: Sequence[int]) -> list[int]:
    """The fast pass: staged ids among `ids` whose credits may break a rule."""
    return list(conn.exec_driver_sql(_PG_CREDIT_SUSPECTS_SQL, {"ids": list(ids), **_PG_CREDIT_CHECKS}).scalars())


def credit_problems(conn: Connection, ids: Sequence[int]) -> dict[int, str]:
    """The reasons: {tmdb_id: the first rule its staged credits break} for the ids that break one."""
    return dict(conn.exec_driver_sql(_PG_CREDIT_PROBLEMS_SQL, {"ids": list(ids)}).all())
