"""`painpoints ui` (issue 19): the pages in real headless Chromium against the app served by uvicorn on
127.0.0.1, curation round trips (preview → apply → the views at once → a rerun started from the page
keeps it), and the guards (Host header, cross-site posts, token, a run holding the database)."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.helpers import chrome
from tests.helpers import rows as q


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def serve(db: Path, *args: str) -> Iterator[str]:
    """The real `painpoints ui` process on a free loopback port (a separate process, as a PM runs it:
    DuckDB allows one configuration per file within a process, so the test reads from its own)."""
    port = _free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "painpoints.cli", "ui", "--db", str(db), "--port", str(port), *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.time() + 60
        while time.time() < deadline:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                assert proc.poll() is None, proc.stdout.read().decode() if proc.stdout else ""
                time.sleep(0.1)
        yield f"http://127.0.0.1:{port}"
    finally:
        proc.terminate()
        proc.wait(10)


@pytest.fixture
def ui(golden_db: Path) -> Iterator[tuple[str, Path]]:
    for url in serve(golden_db):
        yield url, golden_db


def click_and_wait(driver, by: str, selector: str) -> None:
    """Click, then wait until the browser has left the page (a form post and its redirect done)."""
    from selenium.common.exceptions import StaleElementReferenceException, WebDriverException
    from selenium.webdriver.support.ui import WebDriverWait

    def transient(e: WebDriverException) -> bool:
        # Chromium under load sometimes answers with "Node with given id does not belong to the document"
        # instead of a stale-element error: its DOM snapshot raced the page. Both mean the node is gone.
        return isinstance(e, StaleElementReferenceException) or "does not belong to the document" in str(e)

    page = driver.find_element("tag name", "html")

    def left(_driver) -> bool:
        """The page the click started on is gone (selenium's staleness_of, with Chromium's other wording)."""
        try:
            page.is_enabled()
        except WebDriverException as e:
            if transient(e):
                return True
            raise
        return False

    for attempt in range(3):
        try:
            driver.find_element(by, selector).click()
            break
        except WebDriverException as e:
            # find the element again and retry, unless the click went through and the browser left the page
            if transient(e) and left(driver):
                break
            if not transient(e) or attempt == 2:
                raise
            time.sleep(0.5)
    WebDriverWait(driver, 30).until(left)
    WebDriverWait(driver, 30).until(lambda d: d.execute_script("return document.readyState") == "complete")


def test_browse_search_and_curate_in_chromium(ui: tuple[str, Path], tmp_path: Path) -> None:
    from selenium.webdriver.common.by import By

    url, db = ui
    top, second, small, big = [t for (t,) in q(db, "select theme_id from pain_points order by rank")][:4]
    driver = chrome(tmp_path)
    try:
        driver.get(url + "/")
        assert driver.find_element(By.TAG_NAME, "h1").text == "Pain points"
        rows = driver.find_elements(By.CSS_SELECTOR, "#pain-table tbody tr")
        assert len(rows) == min(100, q(db, "select count(*) from pain_points")[0][0])
        driver.get(rows[0].find_element(By.TAG_NAME, "a").get_attribute("href"))  # the first row's theme page
        assert (
            driver.find_element(By.ID, "theme-label").text
            == q(db, "select label from pain_points where rank = 1")[0][0]
        )
        assert (
            driver.find_elements(By.CSS_SELECTOR, "#segment-table tbody tr")
            and "segments" in driver.find_element(By.ID, "trend").text
        )
        # rename: preview, then apply; the views say so at once
        box = driver.find_element(By.CSS_SELECTOR, "form.curate-rename input[name=value]")
        box.clear()
        box.send_keys("Checkout fails <b>now</b>")
        click_and_wait(driver, By.CSS_SELECTOR, "form.curate-rename button")
        assert "Checkout fails <b>now</b>" in driver.find_element(By.ID, "preview").text  # escaped, shown as text
        assert q(db, "select label from latest_themes where theme_id = ?", [top])[0][0] != "Checkout fails <b>now</b>"
        click_and_wait(driver, By.ID, "confirm")
        assert driver.find_element(By.ID, "theme-label").text == "Checkout fails <b>now</b>"
        assert "done" in driver.find_element(By.ID, "notice").text
        assert q(db, "select label from pain_points where theme_id = ?", [top]) == [("Checkout fails <b>now</b>",)]
        # hide another one
        driver.get(f"{url}/theme/{second}")
        click_and_wait(driver, By.CSS_SELECTOR, "form.curate-hide button")
        click_and_wait(driver, By.ID, "confirm")
        assert q(db, "select count(*) from pain_points where theme_id = ?", [second]) == [(0,)]
        # merge waits for a run: start one from the log page, then the merge and the rename both hold
        driver.get(f"{url}/theme/{small}")
        driver.find_element(By.CSS_SELECTOR, f"form.curate-merge option[value='{big}']").click()
        click_and_wait(driver, By.CSS_SELECTOR, "form.curate-merge button")
        assert "Pending" in driver.find_element(By.ID, "preview").text
        click_and_wait(driver, By.ID, "confirm")
        assert "next run" in driver.find_element(By.ID, "notice").text
        assert small in {t for (t,) in q(db, "select theme_id from latest_themes")}
        runs_before = q(db, "select count(*) from runs")[0][0]
        click_and_wait(driver, By.ID, "run-now")
        deadline = time.time() + 240
        while (
            time.time() < deadline
            and q(db, "select count(*) from runs where status = 'success'")[0][0] < runs_before + 1
        ):
            time.sleep(2)
        assert q(db, "select status from runs order by started_at desc limit 1") == [("success",)]
        themes = dict(q(db, "select theme_id, label from latest_themes"))
        assert small not in themes and big in themes and second not in themes
        assert themes[top] == "Checkout fails <b>now</b>"
        driver.get(url + "/curation")
        assert len(driver.find_elements(By.CSS_SELECTOR, "#log tbody tr")) == 3
        # one area's pains only
        area = q(db, "select area_id from theme_areas order by rank limit 1")[0][0]
        driver.get(f"{url}/?area={area}")
        shown = len(driver.find_elements(By.CSS_SELECTOR, "#pain-table tbody tr a"))
        assert shown == q(db, "select count(*) from pain_points where area_id = ?", [area])[0][0]
        # search by meaning
        driver.get(url + "/search?q=money+back+for+my+order")
        first = driver.find_element(By.CSS_SELECTOR, "#results tbody tr").text.lower()
        assert "refund" in first or "money" in first
        assert [e for e in driver.get_log("browser") if e["level"] == "SEVERE"] == []
    finally:
        driver.quit()


def test_guards(ui: tuple[str, Path], tmp_path: Path) -> None:
    url, db = ui
    theme = q(db, "select theme_id from pain_points where rank = 1")[0][0]
    with httpx.Client(base_url=url) as client:
        assert client.get("/").status_code == 200
        assert client.get("/", headers={"Host": "attacker.example"}).status_code == 400  # DNS rebinding
        page = client.get(f"/theme/{theme}").text
        csrf = page.split('name="csrf" value="')[1].split('"')[0]
        no_secret = client.post(f"/theme/{theme}/apply", data={"action": "hide"})
        cross_site = client.post(
            f"/theme/{theme}/apply", data={"action": "hide", "csrf": csrf}, headers={"Origin": "https://evil.example"}
        )
        assert no_secret.status_code == cross_site.status_code == 403
        assert q(db, "select count(*) from curation") == [(0,)]
        bad = client.post(f"/theme/{theme}/preview", data={"action": "move", "value": "A999", "csrf": csrf})
        assert bad.status_code == 400 and "unknown area" in bad.text
        assert client.get("/theme/T999").status_code == 404
        # a run holding the database: the page says so instead of hanging
        holder = subprocess.Popen(
            [
                sys.executable,
                "-c",
                f"import duckdb, time; c = duckdb.connect({str(db)!r}); print('held', flush=True); time.sleep(20)",
            ],
            stdout=subprocess.PIPE,
        )
        try:
            assert holder.stdout is not None and holder.stdout.readline().strip() == b"held"
            t0 = time.time()
            busy = client.get("/", timeout=30)
            assert busy.status_code == 503 and "busy" in busy.text and time.time() - t0 < 15
        finally:
            holder.kill()
            holder.wait()
        assert client.get("/").status_code == 200


def test_token_beyond_loopback(golden_db: Path) -> None:
    for url in serve(golden_db, "--token", "s3cret"):
        with httpx.Client(base_url=url) as client:
            assert client.get("/").status_code == 401
            first = client.get("/?token=s3cret")
            assert first.status_code == 303 and "token" not in first.headers["location"]
            assert client.get("/").status_code == 200  # the cookie now
