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
    assert answer.json() == {"oversized": [big], "mistyped": [odd], "oversized_bytes": 5 * 1024 * 1024}

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
