"""The protocol page shows every value with its source; the trial page links to dosing and monitoring."""

from __future__ import annotations

from decimal import Decimal

from server.protocol import DEFAULT_PROTOCOL


def test_protocol_page_shows_values_with_sources(client, signed_in) -> None:  # type: ignore[no-untyped-def]
    signed_in("pt")
    html = client.get("/protocol").get_data(as_text=True)
    for text in ("12.5 mcg (0.25 mL)", "100 mcg (2.00 mL)", "24 h", "50 mcg/mL",
                 "4 h after the dose (window 3 h to 5 h)",
                 "every 15 min \u00d7 4, every 30 min \u00d7 2, hourly to 8 h after the dose, every 4 h to 24 h after "
                 "the dose",
                 "16 checks", "PALS", "rapid-response escalation",
                 # each default's references, and whether the hospital has signed it off
                 '<a href="/protocol#ref-time_course">Time course of an ITB bolus in cerebral spasticity</a>',
                 '<a href="/protocol#ref-meythaler1996">Meythaler et al. 1996</a>',
                 '<a href="/protocol#ref-schn_itb">SCHN (Westmead) ITB guideline</a>',
                 "Hospital sign-off: pending",
                 # the references list, in full
                 '<li id="ref-gilmartin2000"><strong>Gilmartin et al. 2000</strong>. Gilmartin R, Bruce D, Storrs BB',
                 "Kiresuk TJ, Sherman RE. Goal attainment scaling",
                 "Lioresal Intrathecal (baclofen injection) for intrathecal injection, US prescribing information"):
        assert text in html, text
    for internal in ("DEFAULT", "UNVERIFIED", "[S", "brief"):
        assert internal not in html, internal


def test_volume_is_computed_at_the_configured_concentration() -> None:
    assert DEFAULT_PROTOCOL.volume_ml(Decimal("12.5")) == Decimal("0.25")
    assert DEFAULT_PROTOCOL.volume_ml(Decimal("75")) == Decimal("1.50")


def test_trial_detail_links_to_dosing(client, signed_in, make_trial) -> None:  # type: ignore[no-untyped-def]
    tid = make_trial()
    signed_in("nurse")
    html = client.get(f"/trials/{tid}").get_data(as_text=True)
    assert f'href="/trials/{tid}/dosing"' in html and "Today's monitoring" in html
    page = client.get(f"/trials/{tid}/dosing").get_data(as_text=True)
    assert "Day 1" in page and "Record dose given" not in page  # a nurse sees, the surgeon records


def test_nurse_lands_on_the_ward(client, make_user) -> None:  # type: ignore[no-untyped-def]
    make_user("nurse", username="nell")
    assert client.login("nell").headers["Location"] == "/ward"
    html = client.get("/ward").get_data(as_text=True)
    assert '<a href="/ward" aria-current="page">Ward</a>' in html
    assert "No trial doses are planned on the ward today." in html
