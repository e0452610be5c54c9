"""The parent's page in English and Spanish (Flask-Babel): chosen from Accept-Language, switched with ?lang= and
carried on the page's links and form (no cookie); every string of the page in the catalogues, none left in
English on the Spanish page; dates, times and numbers per language; staff pages stay English; the compiled
catalogue is the one in the repository."""

from __future__ import annotations

import re
from decimal import Decimal
from html import unescape
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po
from sqlalchemy import select

from server.extensions import db
from server.trials.models import Trial
from tests.parents.conftest import token_in

ROOT = Path(__file__).resolve().parents[2]
TRANSLATIONS = ROOT / "server" / "translations"
KEYWORDS = {"_": None, "gettext": None, "_l": None, "lazy_gettext": None}


def _catalogue(lang: str):  # type: ignore[no-untyped-def]
    with open(TRANSLATIONS / lang / "LC_MESSAGES" / "messages.po", "rb") as f:
        return read_po(f)


def _extracted() -> set[str]:
    """Every message the parents' code and templates ask for, read from the sources as `make
    translations-extract` does (babel.cfg)."""
    with open(ROOT / "babel.cfg") as f:
        method_map, options_map = parse_mapping_cfg(f)
    return {msg[2] for msg in extract_from_dir(str(ROOT), method_map, options_map, keywords=KEYWORDS)
            if isinstance(msg[2], str)}


def _visible(html: str) -> str:
    body = html[html.index("<body"):]
    return unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", body)))


@pytest.fixture
def pages(app, client, signed_in, child, staff):  # type: ignore[no-untyped-def]
    """A link to a child whose day 1 has a dose, checks and a decision (so day 1 is kept), and whose day 2 is today
    with a form; the family sent day 1's observation before the decision."""
    from datetime import timedelta

    from server.parents.models import ParentObservation
    from server.parents.services import hash_token
    from server.web import clock

    with app.app_context():
        yesterday = clock.today() - timedelta(days=1)
    c = child("Ada", start=yesterday)
    signed_in("surgeon")
    response = client.post(f"/trials/{c.trial_id}/parent-links", data={"label": "Mum", "expires_in_days": "14"})
    token = token_in(response.get_data(as_text=True))
    client.post("/logout")
    with app.app_context():
        from server.parents.models import ParentLink

        link = db.session.scalar(select(ParentLink).where(ParentLink.token_hash == hash_token(token)))
        trial = db.session.get(Trial, c.trial_id)
        db.session.add(ParentObservation(trial_day_id=trial.days[0].id, link_id=link.id, comfort=2, sleep=4, care=3,
                                         movement=5, note="Una nota.", language="es"))
        db.session.commit()
    return token


def test_the_language_comes_from_accept_language_then_the_switch(client, pages) -> None:  # type: ignore[no-untyped-def]
    token = pages
    cases = [({}, "", "en"), ({"Accept-Language": "es"}, "", "es"), ({"Accept-Language": "es-MX,es;q=0.9"}, "", "es"),
             ({"Accept-Language": "fr-FR,fr;q=0.9"}, "", "en"), ({"Accept-Language": "es"}, "?lang=en", "en"),
             ({}, "?lang=es", "es"), ({"Accept-Language": "es"}, "?lang=xx", "es")]
    for headers, query, lang in cases:
        html = client.get(f"/p/{token}{query}", headers=headers).get_data(as_text=True)
        assert f'<html lang="{lang}">' in html, (headers, query)
        assert ("La prueba de Ada" in html) == (lang == "es")


def test_the_switch_and_the_form_carry_the_choice_without_a_cookie(client, pages) -> None:  # type: ignore[no-untyped-def]
    token = pages
    response = client.get(f"/p/{token}?lang=en", headers={"Accept-Language": "es"})
    html = response.get_data(as_text=True)
    assert "Set-Cookie" not in response.headers
    assert f'<a class="parent-lang" href="/p/{token}?lang=es" hreflang="es" lang="es">Español</a>' in html
    assert '<span class="parent-lang" aria-current="true" lang="en">English</span>' in html
    assert re.search(rf'action="/p/{token}/days/\d+/observation\?lang=en"', html)
    spanish = client.get(f"/p/{token}", headers={"Accept-Language": "es"}).get_data(as_text=True)
    assert re.search(rf'action="/p/{token}/days/\d+/observation"', spanish)  # no choice made: none carried
    form_token = re.search(r'name="csrf_token" value="([0-9a-f]+)"', html).group(1)  # type: ignore[union-attr]
    day_id = re.search(r"/days/(\d+)/observation", html).group(1)  # type: ignore[union-attr]
    sent = client.post(f"/p/{token}/days/{day_id}/observation?lang=en", data={"sleep": "3", "csrf_token": form_token},
                       headers={"Accept-Language": "es"}, csrf=False)
    assert sent.status_code == 303 and sent.headers["Location"] == f"/p/{token}?lang=en&saved=2#day-2"
    refused = client.post(f"/p/{token}/days/{day_id}/observation?lang=es",
                          data={"sleep": "7", "csrf_token": form_token}, csrf=False)
    assert refused.status_code == 422 and "Elija una de las cinco respuestas." in refused.get_data(as_text=True)


def test_the_spanish_page_has_no_english_sentence_from_the_catalogue(client, pages) -> None:  # type: ignore[no-untyped-def]
    token = pages
    spanish = _visible(client.get(f"/p/{token}", headers={"Accept-Language": "es"}).get_data(as_text=True))
    english = _visible(client.get(f"/p/{token}").get_data(as_text=True))
    assert "Ada recibió una dosis de prueba de 50 microgramos a las 9:05." in spanish
    assert "El plan del equipo para el día 2: una dosis un poco más alta (75 microgramos)." in spanish
    assert "Lo que usted le contó al equipo" in spanish and "Cuéntele al equipo cómo estuvo Ada hoy" in spanish
    assert "Catéter" in spanish and "Microgramos" in spanish and "Rigidez" in spanish and "Dosis" in spanish
    fragments = {part.strip(" .:,()?") for msgid in _catalogue("es") if msgid.id
                 for part in re.split(r"%\(\w+\)s|\{\w+\}", str(msgid.id))}
    fragments = {f for f in fragments if len(f) >= 4}
    shown_in_english = {f for f in fragments if f in english}
    assert len(shown_in_english) > 40  # the same page in English does show them
    assert sorted(f for f in fragments if f in spanish) == []
    for path in (f"/p/{'C' * 43}", "/p/"):  # the page of a link that does not work
        page = _visible(client.get(path, headers={"Accept-Language": "es"}).get_data(as_text=True))
        assert "Este enlace ya no es válido" in page and not [f for f in fragments if f in page]


def test_dates_times_and_numbers_follow_the_language(app) -> None:  # type: ignore[no-untyped-def]
    from datetime import UTC, date, datetime

    from flask_babel import force_locale

    from server.web.i18n import day_words, number_words, time_words

    with app.test_request_context("/p/x"):
        at = datetime(2026, 11, 3, 9, 5, tzinfo=UTC)  # 09:05 in London
        with force_locale("en"):
            assert (day_words(date(2026, 11, 3)), time_words(at), number_words(Decimal("1234.5"))) == (
                "Tuesday, November 3, 2026", "9:05\u202fAM", "1,234.5")
        with force_locale("es"):
            assert (day_words(date(2026, 11, 3)), time_words(at), number_words(Decimal("12.5"))) == (
                "martes, 3 de noviembre de 2026", "9:05", "12,5")
            assert number_words(Decimal("2.25")) == "2,3" and number_words(Decimal(1000), 0) == "1.000"


def test_staff_pages_stay_english(client, signed_in, child) -> None:  # type: ignore[no-untyped-def]
    c = child("Ada")
    assert '<html lang="en">' in client.get("/login", headers={"Accept-Language": "es"}).get_data(as_text=True)
    signed_in("surgeon")
    html = client.get(f"/trials/{c.trial_id}?lang=es", headers={"Accept-Language": "es"}).get_data(as_text=True)
    assert '<html lang="en">' in html and "Make a parent link" in html


def test_every_message_of_the_parents_page_is_in_every_catalogue(app) -> None:  # type: ignore[no-untyped-def]
    wanted = _extracted()
    assert {"%(name)s's trial", "Send to the team", "Choose one of the five answers."} <= wanted
    with open(TRANSLATIONS / "messages.pot", "rb") as f:
        assert {m.id for m in read_po(f) if m.id} == wanted, "run `make translations-extract`"
    languages = sorted(p.name for p in TRANSLATIONS.iterdir() if (p / "LC_MESSAGES" / "messages.po").is_file())
    assert languages == ["es"]
    for lang in languages:
        catalogue = _catalogue(lang)
        assert {m.id for m in catalogue if m.id} == wanted, lang
        for m in catalogue:
            if not m.id:
                continue
            assert m.string and not m.fuzzy, (lang, m.id)
            placeholders = sorted(re.findall(r"%\(\w+\)s|\{\w+\}", m.id))
            assert sorted(re.findall(r"%\(\w+\)s|\{\w+\}", m.string)) == sorted(set(placeholders)) or \
                sorted(set(re.findall(r"%\(\w+\)s|\{\w+\}", m.string))) == sorted(set(placeholders)), (lang, m.id)


def test_the_compiled_catalogues_are_the_ones_in_the_repository() -> None:
    """`make` (install) compiles each messages.po to messages.mo; the app reads the .mo. Both must agree."""
    for po_path in TRANSLATIONS.glob("*/LC_MESSAGES/messages.po"):
        mo_path = po_path.with_suffix(".mo")
        assert mo_path.is_file(), f"{mo_path} is missing: run `make translations`"
        with open(po_path, "rb") as f:
            po = {m.id: m.string for m in read_po(f) if m.id}
        with open(mo_path, "rb") as f:
            mo = {m.id: m.string for m in read_mo(f) if m.id}
        assert mo == po, f"{mo_path} is out of date: run `make translations`"
