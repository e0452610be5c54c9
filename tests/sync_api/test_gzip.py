"""POST /api/sync with a gzip body (`Content-Encoding: gzip`, as the outbox sends where the browser compresses):
the same answers and rows as plain JSON; a body that is not gzip, is cut short, inflates past the size limit or
comes in another encoding gets a clear 4xx and writes nothing."""

from __future__ import annotations

import gzip
import json
import os
import zlib
from typing import Any

import pytest

from server.sync_api.models import SyncLedger
from server.trials.models import Patient
from tests.conftest import app_with
from tests.sync_api.test_push import _patient_handler, count, entry


@pytest.fixture
def app(database_url: str):  # type: ignore[no-untyped-def]
    yield from app_with(database_url, SYNC_EXTRA_KINDS={"test.patient": (_patient_handler, ("pt",))},
                        MAX_CONTENT_LENGTH=64 * 1024)


def body(*entries: dict[str, Any]) -> bytes:
    return json.dumps({"protocol_version": 1, "device_id": "phone-1", "entries": list(entries)}).encode()


def post(client, data: bytes, encoding: str | None = "gzip", content_type: str = "application/json"):  # type: ignore[no-untyped-def]
    headers = {"Content-Encoding": encoding} if encoding else {}
    return client.post("/api/sync", data=data, content_type=content_type, headers=headers)


def test_a_gzip_push_is_answered_as_the_same_push_in_plain_json(app, client, signed_in) -> None:  # type: ignore[no-untyped-def]
    pt = signed_in("pt")
    first, second = entry(pt, first_name="Ann", mrn="G-1"), entry(pt, first_name="Bo", mrn="G-2")
    zipped = post(client, gzip.compress(body(first, second)))
    assert zipped.status_code == 200
    assert [r["status"] for r in zipped.get_json()["results"]] == ["applied", "applied"]
    assert count(app, Patient) == 2 and count(app, SyncLedger) == 2
    # The same entries again, once plain and once compressed: duplicates, with the same records.
    plain = post(client, body(first, second), encoding=None).get_json()["results"]
    again = post(client, gzip.compress(body(first, second))).get_json()["results"]
    assert [r["status"] for r in plain] == [r["status"] for r in again] == ["duplicate", "duplicate"]
    assert [r["record"] for r in plain] == [r["record"] for r in again] == [
        r["record"] for r in zipped.get_json()["results"]]
    assert count(app, Patient) == 2 and count(app, SyncLedger) == 2


def test_the_encoding_name_is_read_without_regard_to_case_or_spaces(app, client, signed_in) -> None:  # type: ignore[no-untyped-def]
    pt = signed_in("pt")
    response = post(client, gzip.compress(body(entry(pt, first_name="Cy", mrn="G-3"))), encoding=" GZIP ")
    assert response.status_code == 200 and response.get_json()["results"][0]["status"] == "applied"


def _bomb(size: int) -> bytes:
    return gzip.compress(b"[" + b" " * size + b"]", 9)


@pytest.mark.parametrize(("data", "status", "needle"), [
    (b"not gzip at all", 400, "is not"),  # says gzip, is not
    (gzip.compress(b'{"protocol_version": 1}')[:-6], 400, "cut short"),  # the trailer cut off
    (gzip.compress(b"{}") + b"trailing", 400, "after its end"),
    (_bomb(10 * 1024 * 1024), 413, "once inflated"),  # ~10 KB that inflates to 10 MB
    (gzip.compress(b"hello"), 400, "Send a JSON object"),  # gzip, but not JSON
    (gzip.compress(b"\xff\xfe\x00garbage"), 400, "Send a JSON object"),  # not UTF-8 either
    (gzip.compress(b"[" * 5000 + b"]" * 5000), 400, "Send a JSON object"),  # too deep
    (gzip.compress(b'{"protocol_version": NaN}'), 400, "Send a JSON object"),
], ids=["not-gzip", "truncated", "trailing-data", "bomb", "not-json", "not-utf8", "too-deep", "nan"])
def test_a_bad_gzip_body_is_a_clear_4xx_and_writes_nothing(app, client, signed_in, data, status, needle) -> None:  # type: ignore[no-untyped-def]
    signed_in("pt")
    response = post(client, data)
    assert response.status_code == status, response.get_data(as_text=True)
    assert needle in response.get_json()["message"]
    assert count(app, Patient) == 0 and count(app, SyncLedger) == 0


@pytest.mark.parametrize("encoding", ["deflate", "br", "gzip, deflate", "x" * 500])
def test_another_encoding_is_415_and_writes_nothing(app, client, signed_in, encoding) -> None:  # type: ignore[no-untyped-def]
    pt = signed_in("pt")
    data = body(entry(pt, first_name="Di", mrn="G-4"))
    response = post(client, zlib.compress(data) if encoding == "deflate" else data, encoding=encoding)
    assert response.status_code == 415
    assert "gzip or plain JSON" in response.get_json()["message"]
    assert response.headers["Accept-Encoding"] == "gzip"  # what it does read (RFC 7694)
    assert count(app, Patient) == 0 and count(app, SyncLedger) == 0


def test_a_gzip_body_over_the_limit_before_inflating_is_413(app, client, signed_in) -> None:  # type: ignore[no-untyped-def]
    signed_in("pt")
    response = post(client, gzip.compress(os.urandom(100 * 1024), 1))  # random bytes do not shrink
    assert response.status_code == 413
    assert count(app, SyncLedger) == 0


def test_a_gzip_body_of_another_content_type_is_not_read(app, client, signed_in) -> None:  # type: ignore[no-untyped-def]
    pt = signed_in("pt")
    response = post(client, gzip.compress(body(entry(pt, first_name="Ed", mrn="G-5"))), content_type="text/plain")
    assert response.status_code == 400
    assert count(app, Patient) == 0
