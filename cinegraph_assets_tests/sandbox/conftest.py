"""Helpers for the sandbox's own tests: a tiny HTTP client that never raises on error statuses."""

from __future__ import annotations

import pytest
import requests

KEY = {"api_key": "sandbox"}


class Client:
    def __init__(self, base: str):
        self.base = base
        self.session = requests.Session()

    def get(self, path: str, params: dict | None = None, auth: bool = True, **kwargs) -> requests.Response:
        query = {**(KEY if auth else {}), **(params or {})}
        return self.session.get(self.base + path, params=query, timeout=30, **kwargs)


@pytest.fixture(scope="module")
def demo(demo_sandbox) -> Client:
    """A client for the module's demo sandbox, keyed with the sandbox's default TMDb key."""
    return Client(demo_sandbox.url)
