"""The exports run a fixed number of SQL statements whatever the number of days, assessments, observations and
trials (no query per row)."""

from __future__ import annotations

from tests.exports.conftest import export
from tests.querycount import statements_for


def test_a_fixed_number_of_queries_whatever_the_size_of_the_trial(app, client, signed_in, build_trial):
    small = build_trial(days=1, assessments=1, observations=1)
    large = build_trial(days=3, assessments=3, observations=6)
    signed_in("admin")
    for make in (lambda t: lambda: export(client, trial_id=str(t)),
                 lambda t: lambda: export(client, trial_id=str(t), include_identifiers="1", file="measurements"),
                 lambda t: lambda: client.get(f"/trials/{t}/fhir")):
        counts = [statements_for(app, make(t)) for t in (small, large)]
        assert counts[0] == counts[1], counts
        assert counts[0] < 30


def test_a_fixed_number_of_queries_whatever_the_number_of_trials(app, client, signed_in, build_trial):
    build_trial(days=1)
    signed_in("surgeon")
    one = statements_for(app, lambda: export(client))
    build_trial(days=2, assessments=2)
    build_trial(days=3, observations=3)
    assert statements_for(app, lambda: export(client)) == one
