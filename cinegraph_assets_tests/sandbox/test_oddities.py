"""/_sandbox/oddities: oversized and mistyped details for chosen ids, normal answers for the rest."""

from __future__ import annotations

import requests

from cinegraph_assets_tests.sandbox.conftest import Client


def test_chosen_ids_answer_oversized_or_mistyped_and_the_rest_stay_normal(sandbox_factory):
    sandbox = sandbox_factory(seed=3, year_size=["1990=30"], detail_size="small")
    client = Client(sandbox.url)
    ids = sorted(sandbox.truth(1990))[:3]
    big, odd, normal = ids
    answer = requests.post(sandbox.url + "/_sandbox/oddities", timeout=10,
                           json={"oversized": [big], "oversized_bytes": 5 * 1024 * 1024, "mistyped": [odd]})
    assert answer.json() == {"oversized": [big], "mistyped": [odd], "oversized_bytes": 5 * 1024 * 1024,
                             "broken": [], "transient_404": {}}

    large = client.get(f"/3/movie/{big}", {"append_to_response": "credits"})
    assert large.status_code == 200 and len(large.content) > 5 * 1024 * 1024
    cast = large.json()["credits"]["cast"]
    assert len({member["credit_id"] for member in cast}) == len(cast)  # valid data, just too much

    mistyped = client.get(f"/3/movie/{odd}", {"append_to_response": "credits"}).json()
    assert isinstance(mistyped["genres"], str) and isinstance(mistyped["title"], int)
    assert isinstance(mistyped["credits"]["cast"], dict)

    plain = client.get(f"/3/movie/{normal}", {"append_to_response": "credits"}).json()
    assert isinstance(plain["genres"], list) and isinstance(plain["credits"]["cast"], list)

    requests.post(sandbox.url + "/_sandbox/oddities", json={}, timeout=10)
    assert isinstance(client.get(f"/3/movie/{odd}").json()["genres"], list)
    refused = requests.post(sandbox.url + "/_sandbox/oddities", json={"huge": [1]}, timeout=10)
    assert refused.status_code == 400 and "huge" in refused.json()["error"]


def test_broken_ids_cdn_404s_outages_edits_and_new_year_moves(sandbox_factory):
    """What the long run's world needs: an id TMDb cannot build, a CDN's 404 without code 34 that
    passes, an outage of one endpoint, an editor moving a date, and moves across New Year."""
    sandbox = sandbox_factory(seed=3, start_date="2025-12-30", year_size=["2025=40", "2026=40"],
                              detail_size="small", new_year_moves=2)
    client = Client(sandbox.url)
    broken, flaky, moved = sorted(sandbox.truth(2025))[:3]
    sandbox.oddities(broken=[broken], transient_404={str(flaky): 2})

    assert client.get(f"/3/movie/{broken}").json()["status_code"] == 11
    cdn = [client.get(f"/3/movie/{flaky}") for _ in range(3)]
    assert [r.status_code for r in cdn] == [404, 404, 200] and "status_code" not in cdn[0].text

    sandbox.configure(outage="/3/movie/changes")
    assert client.get("/3/movie/changes").status_code == 503
    assert client.get(f"/3/movie/{moved}").status_code == 200  # only the changes feed is down
    sandbox.configure(outage="")

    sandbox.edit(moved, "2024-06-01")
    years = (2023, 2024, 2025, 2026)  # New Years around the sandbox's day: 2024, 2025 and 2026
    before = {y: sandbox.truth(y) for y in years}
    sandbox.advance(1)
    listed, page, pages = set(), 1, 1
    while page <= pages:
        changes = client.get("/3/movie/changes", {"start_date": "2025-12-30", "end_date": "2025-12-31",
                                                  "page": page}).json()
        listed |= {item["id"] for item in changes["results"]}
        pages, page = changes["total_pages"], page + 1
    assert moved in listed and moved in sandbox.truth(2024)
    after = {y: sandbox.truth(y) for y in years}
    crossed = set().union(*[(before[a] & after[b]) | (before[b] & after[a]) for a, b in zip(years, years[1:])])
    assert len(crossed) >= 2 and crossed <= listed  # (the day's ordinary date corrections may add some)
