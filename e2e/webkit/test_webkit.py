"""WebKit (Safari's engine) at 390x844: sign-in for each role."""

from __future__ import annotations

import pytest

from e2e.test_foundation import HOMES


@pytest.mark.parametrize(("username", "path", "heading"), HOMES)
def test_each_role_signs_in_to_its_home_and_signs_out(phones, username: str, path: str, heading: str) -> None:  # type: ignore[no-untyped-def]
    phone = phones()
    phone.sign_in(username)
    assert phone.path == path
    phone.wait_heading(heading)
    assert phone.run("() => [innerWidth, innerHeight]") == [390, 844]
    assert "AppleWebKit" in phone.run("() => navigator.userAgent")
    phone.tap(phone.button("Sign out"))
    phone.wait_until("() => location.pathname === '/login'")
    phone.open(path)
    phone.wait_until("() => location.pathname === '/login'")
