"""Languages (Flask-Babel): the parents' pages speak the family's language; staff pages stay English.

The languages offered are English (the source text) and every catalogue under server/translations/ (one folder
per language, e.g. es/LC_MESSAGES/messages.po, compiled to messages.mo by `make`): adding a language is adding
a catalogue. On a page under LOCALIZED_PREFIXES the language is the `lang` query parameter when it names one of
them (the switch on the page, carried on its links and forms: no cookie), else the best match of the browser's
Accept-Language, else English. Everywhere else it is English.

Dates, times and numbers are formatted for the chosen language by Babel, in the hospital's time zone.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal
from functools import cache
from pathlib import Path

from babel import Locale
from babel.dates import format_date
from flask import Flask, has_request_context, request
from flask_babel import Babel, format_decimal, format_time, get_locale, get_timezone

from .clock import hospital_tz

SOURCE_LANGUAGE = "en"
TRANSLATIONS = Path(__file__).resolve().parent.parent / "translations"
LOCALIZED_PREFIXES = ("/p/",)
LANG_PARAM = "lang"

babel = Babel()


@cache
def languages() -> tuple[str, ...]:
    """English first, then each language with a catalogue, e.g. ("en", "es")."""
    found = sorted(p.name for p in TRANSLATIONS.iterdir() if (p / "LC_MESSAGES" / "messages.po").is_file()) \
        if TRANSLATIONS.is_dir() else []
    return (SOURCE_LANGUAGE, *[code for code in found if code != SOURCE_LANGUAGE])


def language_name(code: str) -> str:
    """The language's own name, e.g. "Español", for the switch."""
    name = Locale.parse(code).get_display_name(code) or code
    return name[:1].upper() + name[1:]


def localized_request() -> bool:
    return has_request_context() and request.path.startswith(LOCALIZED_PREFIXES)


def chosen_language() -> str | None:
    """The `lang` query parameter when it names an offered language (a choice made on the page), else None."""
    if not localized_request():
        return None
    value = request.args.get(LANG_PARAM, "")
    return value if value in languages() else None


def select_locale() -> str:
    if not localized_request():
        return SOURCE_LANGUAGE
    return chosen_language() or request.accept_languages.best_match(languages()) or SOURCE_LANGUAGE


def _locale() -> Locale:
    return get_locale() or Locale.parse(SOURCE_LANGUAGE)


def current_language() -> str:
    locale = get_locale()
    return locale.language if locale is not None else SOURCE_LANGUAGE


# --- formats for the chosen language (Babel) ----------------------------------------------------------------

def day_words(value: date) -> str:
    """A date in full, e.g. "Tuesday, November 3, 2026" (en) or "martes, 3 de noviembre de 2026" (es)."""
    return format_date(value, "full", locale=_locale())


def time_words(value: datetime) -> str:
    """A time of day in hospital time, e.g. "9:05 AM" (en) or "9:05" (es). In the repeated hour of a daylight-saving
    change the zone's name is added (as web.clock.local_label does), so two instants never read the same."""
    local = value.astimezone(hospital_tz())
    text = format_time(value, "short")
    if local.replace(fold=1 - local.fold).utcoffset() != local.utcoffset():
        text += f" {local.tzname()}"
    return text


def date_words(value: datetime) -> str:
    """The hospital date of an aware date-time, in full (as day_words)."""
    return day_words(value.astimezone(get_timezone()).date())


def number_words(value: Decimal | int, places: int = 1) -> str:
    """A number with at most `places` decimals (rounded half up, as scoring.fmt), in the language's own pattern,
    e.g. 1,234.5 (en), 12,5 and 1.000 (es)."""
    return format_decimal(Decimal(value).quantize(Decimal(1).scaleb(-places), ROUND_HALF_UP))


def init_app(app: Flask) -> None:
    app.config.setdefault("BABEL_DEFAULT_LOCALE", SOURCE_LANGUAGE)
    app.config.setdefault("BABEL_DEFAULT_TIMEZONE", app.config["HOSPITAL_TIMEZONE"])
    app.config.setdefault("BABEL_TRANSLATION_DIRECTORIES", str(TRANSLATIONS))
    babel.init_app(app, locale_selector=select_locale)
    app.jinja_env.globals.update(current_language=current_language, languages=languages,
                                 language_name=language_name)
    app.jinja_env.filters.update(day_words=day_words, time_words=time_words, date_words=date_words,
                                 number_words=number_words)
