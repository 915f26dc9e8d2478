"""Helpers shared by tests."""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

from painpoints.discovery import store


def rows(db: Path, sql: str, params: list | None = None) -> list[tuple]:
    """All rows of ``sql`` on a read-only connection to ``db``."""
    con = store.connect(db, read_only=True)
    try:
        return store.query(con, sql, params)[1]
    finally:
        con.close()


@dataclass(frozen=True)
class Golden:
    """The session's golden database (see ``golden`` in conftest.py) and what building it printed."""

    path: Path  # the shared master: never write to it, tests get a private copy (fixture ``golden_db``)
    ingest_output: list[str]  # `painpoints ingest` output, one per bundled file in GOLDEN_SOURCES order
    run_output: str  # `painpoints run` output
    stamp: tuple[int, int]  # (size, mtime_ns) of the master when it was built

    def copy_to(self, folder: Path, name: str = "golden.duckdb") -> Path:
        """A private copy of the golden DB in ``folder``, after checking nobody wrote to the master."""
        st = self.path.stat()
        assert (st.st_size, st.st_mtime_ns) == self.stamp, (
            "a test wrote to the shared golden DB: write to a copy (fixture golden_db) instead"
        )
        out = folder / name
        shutil.copyfile(self.path, out)
        wal = self.path.with_name(self.path.name + ".wal")
        if wal.exists():
            shutil.copyfile(wal, out.with_name(out.name + ".wal"))
        return out


def chrome(tmp_path: Path, height: int = 2400):  # -> selenium WebDriver
    """Headless Chromium (Debian's chromium + chromium-driver, installed by `make test`) with browser
    logs captured; skips locally without it, fails in CI."""
    import os

    import pytest

    browser, driver_path = shutil.which("chromium"), shutil.which("chromedriver")
    if not (browser and driver_path):
        if os.environ.get("CI"):
            pytest.fail("chromium/chromedriver missing: `make test` installs the Debian packages")
        pytest.skip("chromium/chromedriver not installed (make test installs them)")
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    opts = webdriver.ChromeOptions()
    opts.binary_location = browser
    for flag in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        f"--user-data-dir={tmp_path / 'chrome'}",
        f"--window-size=1280,{height}",
    ):
        opts.add_argument(flag)
    opts.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    return webdriver.Chrome(service=Service(driver_path), options=opts)
