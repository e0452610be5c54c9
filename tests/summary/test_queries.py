"""The summary runs a fixed number of SQL statements whatever the number of days, repeat assessments and their
corrections, dose corrections and sets of observations (no query per row)."""

from __future__ import annotations

from tests.querycount import counting, statements_for


def test_a_fixed_number_of_queries_whatever_the_size_of_the_trial(app, client, signed_in, build) -> None:  # type: ignore[no-untyped-def]
    small = build(days=1, assessments=1, observations=1, corrections=0)
    large = build(days=3, assessments=3, observations=6, corrections=2)
    signed_in("nurse")
    counts = [statements_for(app, lambda t=t: client.get(f"/trials/{t}/summary")) for t in (small, large)]
    assert counts[0] == counts[1], counts
    assert counts[0] < 40, counts


def test_the_pdf_runs_the_same_queries_as_the_page(app, client, signed_in, build) -> None:  # type: ignore[no-untyped-def]
    small = build(days=1)
    large = build(days=3, assessments=2, observations=4, corrections=1)
    signed_in("surgeon")
    with counting(app) as seen:
        assert client.get(f"/trials/{small}/summary").status_code == 200
    page = len(seen)
    counts = [statements_for(app, lambda t=t: client.get(f"/trials/{t}/summary.pdf")) for t in (small, large)]
    assert counts == [page, page]
