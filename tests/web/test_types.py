"""`UTCDateTime` on SQLite writes the text SQLAlchemy's own DATETIME writes, so rows stored before and after sort,
compare and read back alike."""

from __future__ import annotations

from datetime import UTC, datetime

from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import Column, Integer, MetaData, Table, create_engine, insert, select, text
from sqlalchemy.dialects import sqlite

from server.web.types import UTCDateTime, _SQLiteDateTime

DIALECT = sqlite.dialect()


@settings(max_examples=500)
@given(st.datetimes(min_value=datetime(1, 1, 1), max_value=datetime(9999, 12, 31, 23, 59, 59, 999999)))
def test_the_text_is_sqlalchemys_for_any_datetime(value: datetime) -> None:
    ours = _SQLiteDateTime().bind_processor(DIALECT)
    theirs = sqlite.DATETIME().bind_processor(DIALECT)
    assert ours(value) == theirs(value)
    assert ours(None) is None


def test_a_utc_column_on_sqlite_stores_that_text_and_reads_it_back() -> None:
    assert isinstance(UTCDateTime().dialect_impl(DIALECT).impl, _SQLiteDateTime)  # (the text alone cannot tell)
    engine = create_engine("sqlite://")
    table = Table("t", MetaData(), Column("id", Integer, primary_key=True), Column("at", UTCDateTime))
    table.metadata.create_all(engine)
    moments = [datetime(2026, 12, 6, 20, 12, 33, 0, tzinfo=UTC), datetime(2026, 12, 6, 20, 12, 33, 5, tzinfo=UTC),
               datetime(1999, 1, 2, 3, 4, 5, 123456, tzinfo=UTC)]
    with engine.begin() as conn:
        conn.execute(insert(table), [{"at": m} for m in moments])
        stored = conn.execute(text("SELECT at FROM t ORDER BY id")).scalars().all()
        read = conn.execute(select(table.c.at).order_by(table.c.id)).scalars().all()
        # A comparison with a bound datetime goes through the same text.
        later = conn.execute(select(table.c.id).where(table.c.at > moments[0]).order_by(table.c.id)).scalars().all()
    assert stored == ["2026-12-06 20:12:33.000000", "2026-12-06 20:12:33.000005", "1999-01-02 03:04:05.123456"]
    assert read == moments
    assert later == [2]
