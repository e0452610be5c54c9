from __future__ import annotations

from collections.abc import Iterator

import pytest
from flask import Flask

from server.extensions import db


@pytest.fixture
def ctx(app: Flask) -> Iterator[Flask]:
    with app.app_context():
        yield app
        db.session.rollback()
