"""Ids in URLs: a number beyond the database's INTEGER range is no record (404) on every route, never a 500.

PostgreSQL refuses such a number outright (`integer out of range`); the app's `int` converter stops it first.
"""

from __future__ import annotations

import re

import pytest
from flask import Flask

from server.auth.models import ROLES


def _int_rules(app: Flask) -> list[tuple[str, str]]:
    rules = []
    for rule in app.url_map.iter_rules():
        if "<int:" not in rule.rule:
            continue
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            rules.append((method, rule.rule))
    return rules


@pytest.mark.parametrize("number", [2**31, 2**40])
def test_an_id_beyond_the_integer_range_is_not_found_everywhere(app, client, signed_in, number) -> None:  # type: ignore[no-untyped-def]
    signed_in(*ROLES)
    rules = _int_rules(app)
    assert len(rules) > 20  # the walk covers the app's id routes
    answers = {}
    for method, rule in rules:
        url = re.sub(r"<int:[a-z_]+>", str(number), rule)
        response = client.open(url, method=method)
        answers[f"{method} {url}"] = response.status_code
    assert {k: v for k, v in answers.items() if v != 404} == {}


@pytest.mark.parametrize("n", [1, 9, 10, 99, 100, 305, 1000, 2**31 - 1])
def test_the_id_pattern_matches_exactly_the_numbers_up_to_its_bound(n: int) -> None:
    from server.web.routing import digits_up_to

    pattern = re.compile(f"(?:{digits_up_to(n)})")
    probes = {*range(0, 1200), n - 1, n, n + 1, n * 10, n + 10 ** len(str(n)), 2**31, 2**40}
    assert {k for k in probes if pattern.fullmatch(str(k))} == {k for k in probes if 0 <= k <= n}
