"""HTTP responses and the exact error bodies TMDb and OMDb write.

Bodies are copied from real captures (../shared/data/tmdb/captures, error_bodies/tmdb_status_codes.tsv
and ../shared/data/omdb/error_bodies): a client tested here must meet the same text in production.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field


@dataclass
class Response:
    status: int
    body: bytes
    content_type: str = "application/json;charset=utf-8"
    headers: dict[str, str] = field(default_factory=dict)
    json_body: bool = True  # faults may truncate JSON bodies only


def json_response(status: int, value, headers: dict[str, str] | None = None) -> Response:
    body = json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    return Response(status, body, headers=dict(headers or {}))


def tmdb_error(status: int, code: int, message: str, success: bool = True) -> Response:
    """TMDb's error envelope. `success=False` drops the key, as the real 404 (code 34) body does."""
    value = {"success": False, "status_code": code, "status_message": message} if success else \
        {"status_code": code, "status_message": message}
    return json_response(status, value)


# TMDb (messages verbatim from TMDb's status-code table and real captured bodies)
def invalid_api_key() -> Response:
    return tmdb_error(401, 7, "Invalid API key: You must be granted a valid key.")


def not_found() -> Response:
    # The real captured body for code 34 has no "success" key.
    return tmdb_error(404, 34, "The resource you requested could not be found.", success=False)


def invalid_page() -> Response:
    return tmdb_error(400, 22, "Invalid page: Pages start at 1 and max at 500. They are expected to be an integer.")


def invalid_date() -> Response:
    return tmdb_error(400, 23, "Invalid date: Format needs to be YYYY-MM-DD.")


def invalid_date_range() -> Response:
    return tmdb_error(422, 20, "Invalid date range: Should be a range no longer than 14 days.")


def too_many_appends() -> Response:
    return tmdb_error(400, 27, "Too many append to response objects: The maximum number of remote calls is 20.")


def rate_limited(retry_after: int) -> Response:
    response = tmdb_error(429, 25, "Your request count (#) is over the allowed limit of (40).")
    response.headers["Retry-After"] = str(retry_after)
    return response


def internal_error() -> Response:
    return tmdb_error(500, 11, "Internal error: Something went wrong, contact TMDB.")


def service_offline() -> Response:
    return tmdb_error(503, 9, "Service offline: This service is temporarily offline, try again later.")


def bad_gateway() -> Response:
    # A CDN-generated 502 is HTML, not JSON: clients must not assume every error body parses.
    body = (b"<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n"
            b"<center><h1>502 Bad Gateway</h1></center>\r\n<hr><center>openresty</center>\r\n</body>\r\n</html>\r\n")
    return Response(502, body, content_type="text/html", json_body=False)


def cdn_not_found() -> Response:
    # A 404 from a cache or edge node in front of TMDb: HTML, no TMDb status code. Real clients see
    # these now and then for resources that exist; only code 34 means TMDb itself has no such movie.
    body = (b"<html>\r\n<head><title>404 Not Found</title></head>\r\n<body>\r\n"
            b"<center><h1>404 Not Found</h1></center>\r\n<hr><center>openresty</center>\r\n</body>\r\n</html>\r\n")
    return Response(404, body, content_type="text/html", json_body=False)


# OMDb (bodies verbatim from ../shared/data/omdb/error_bodies/omdb_error_bodies.json)
def omdb_error(status: int, message: str) -> Response:
    return json_response(status, {"Response": "False", "Error": message})


OMDB_NOT_FOUND = "Movie not found!"
OMDB_INCORRECT_ID = "Incorrect IMDb ID."
OMDB_INVALID_KEY = "Invalid API key!"
OMDB_NO_KEY = "No API key provided."
OMDB_LIMIT = "Request limit reached!"


def text_response(status: int, text: str, content_type: str = "text/plain; charset=utf-8") -> Response:
    return Response(status, text.encode("utf-8"), content_type=content_type, json_body=False)
