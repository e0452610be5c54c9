#!/usr/bin/python3
"""A phone-sized WebKit browser for WebKitGTK's WebDriver (WebKitWebDriver starts it, with --automation).

Why not Debian's MiniBrowser: in automation mode it keeps website data in memory only, so IndexedDB, the
service worker and cookies are gone when it closes, and a phone's closed-and-reopened browser cannot be
tested. This is WebKitGTK (the engine of Safari; WebKit 2.50 here) in a bare window whose web view is
390x844 CSS pixels, with its data in --profile=DIR, kept across launches, like Safari's.

Safari has the Storage API (navigator.storage.persist/persisted/estimate) on; WebKitGTK ships it off, so it
is switched on here to match. Console messages go to --log=FILE (the tests fail on JavaScript errors).

Run by Debian's python3 with python3-gi and gir1.2-webkit2-4.1 (make webkit installs them); not the venv.
"""

import ctypes
import os
import signal
import sys

import gi

gi.require_version("Gtk", "3.0")
gi.require_version("WebKit2", "4.1")
from gi.repository import Gtk, WebKit2  # noqa: E402

WIDTH, HEIGHT = 390, 844
NAME = "itb-phone"  # the browserName the tests ask WebKitWebDriver for
SAFARI_FEATURES = ("StorageAPI", "StorageAPIEstimate")


def main() -> None:
    # Never outlive the driver that started us: a browser left running after its session (seen when the end of
    # a session raced a loaded machine) keeps the profile, and the same phone opened again would find its
    # IndexedDB and service worker held by the old one. Linux: a signal when the parent process dies.
    ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    if os.getppid() == 1:  # the parent died before that
        sys.exit(0)
    options = dict(a[2:].split("=", 1) for a in sys.argv[1:] if a.startswith("--") and "=" in a)
    profile = options["profile"]
    os.makedirs(profile, exist_ok=True)
    if "log" in options:  # this process's output and its web processes' (they inherit it)
        log = os.open(options["log"], os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
        os.dup2(log, 1)
        os.dup2(log, 2)

    manager = WebKit2.WebsiteDataManager(base_data_directory=os.path.join(profile, "data"),
                                         base_cache_directory=os.path.join(profile, "cache"))
    manager.get_cookie_manager().set_persistent_storage(os.path.join(profile, "cookies.sqlite"),
                                                        WebKit2.CookiePersistentStorage.SQLITE)
    context = WebKit2.WebContext(website_data_manager=manager)
    context.set_automation_allowed(True)

    settings = WebKit2.Settings()
    settings.set_enable_write_console_messages_to_stdout(True)
    features = WebKit2.Settings.get_all_features()
    for i in range(features.get_length()):
        feature = features.get(i)
        if feature.get_identifier() in SAFARI_FEATURES:
            settings.set_feature_enabled(feature, True)

    windows: list[Gtk.Window] = []

    def closed(window: Gtk.Window) -> None:
        windows.remove(window)
        if not windows:  # the session's last window: the browser is closed
            Gtk.main_quit()

    def new_view(_session):  # type: ignore[no-untyped-def]
        view = WebKit2.WebView(web_context=context, settings=settings, is_controlled_by_automation=True)
        window = Gtk.Window(title="ITB phone")
        window.set_default_size(WIDTH, HEIGHT)
        window.add(view)
        window.show_all()
        windows.append(window)
        window.connect("destroy", closed)
        view.connect("close", lambda _v: window.destroy())
        return view

    def started(_context, session):  # type: ignore[no-untyped-def]
        info = WebKit2.ApplicationInfo()
        info.set_name(NAME)
        info.set_version(WebKit2.get_major_version(), WebKit2.get_minor_version(), WebKit2.get_micro_version())
        session.set_application_info(info)
        session.connect("create-web-view", new_view)

    context.connect("automation-started", started)
    Gtk.main()


if __name__ == "__main__":
    main()
