"""PM and analyst surfaces against the demo database: every example query, both notebooks (executed
with nbclient), the HTML report in headless Chromium, and the file opened by pandas and polars with
no painpoints import."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest
from click.testing import CliRunner

from painpoints.cli import main
from tests.helpers import chrome
from tests.helpers import rows as q

ROOT = Path(__file__).resolve().parents[1]
pytestmark = pytest.mark.slow
HOSTILE = '<script>window.__pwned = 1</script><img src=x onerror="window.__pwned = 2">'


@pytest.fixture(scope="module")
def demo_db(prefect_harness, tmp_path_factory: pytest.TempPathFactory) -> Path:
    db = tmp_path_factory.mktemp("demo") / "demo.duckdb"
    result = CliRunner().invoke(main, ["demo", "--db", str(db)])
    assert result.exit_code == 0, result.output
    assert "Report:" in result.output and str(db) in result.output
    return db


@pytest.mark.parametrize("example", sorted((ROOT / "sql" / "examples").glob("*.sql")), ids=lambda p: p.stem)
def test_example_query_runs_on_the_demo(demo_db: Path, example: Path) -> None:
    result = CliRunner().invoke(main, ["query", "--file", str(example), "--db", str(demo_db), "--format", "json"])
    assert result.exit_code == 0, result.output
    out = json.loads(result.output)
    if example.stem.startswith(("01_", "05_", "06_", "09_", "13_", "14_", "16_", "17_", "18_")):
        assert out, f"{example.name} returned no rows on the demo data"


def test_demo_tells_pains_from_requests_and_praise(demo_db: Path) -> None:
    """No pain point is a theme whose segments are mostly praise or positive; requests and praise have
    their own non-empty views; every pain point sits in one of a handful of areas."""
    # pain_points holds problem themes only (contract): no row's theme is mostly praise or positive, over
    # all its segments; each row counts its theme's pain segments
    mostly_happy = q(
        demo_db,
        "select p.label from pain_points p join feedback_themes f using (theme_id) group by p.rank, p.label "
        "having avg((f.feedback_type = 'praise')::int) >= 0.5 or avg((f.sentiment = 'positive')::int) >= 0.5",
    )
    assert mostly_happy == []
    assert q(demo_db, "select distinct theme_type, pain_scope from pain_points") == [("problem", "theme")]
    counted = (
        "select p.items - count(f.*) from pain_points p left join pain_segments f using (theme_id) "
        "group by p.rank, p.items"
    )
    assert {d for (d,) in q(demo_db, counted)} == {0}
    # the complaints inside praised topics have their own view (the demo's happy app reviews hold some)
    assert q(demo_db, "select count(*) from pain_facets where theme_type = 'problem'") == [(0,)]
    assert q(demo_db, "select count(*) from feature_requests")[0][0] > 0
    # ranked by volume and the asking's own trend (score = 100 · share · trend_factor); no trend, factor 1
    requests = q(demo_db, "select score, share, trend, trend_factor from feature_requests order by rank")
    assert [r[0] for r in requests] == sorted((r[0] for r in requests), reverse=True)
    assert all(r[0] == pytest.approx(100 * r[1] * r[3]) and (r[2] is not None or r[3] == 1.0) for r in requests)
    assert q(demo_db, "select count(*) from praise")[0][0] > 0
    assert q(demo_db, "select count(*) from pain_points where area_id is null") == [(0,)]
    filler = r"\bx{2,}\b|\[|great|best|love|awesome|amazing|excellent|perfect"  # masks, [TOKEN]s, praise filler
    assert q(demo_db, "select label from pain_points where regexp_matches(lower(label), ?)", [filler]) == []
    assert 1 < q(demo_db, "select count(*) from theme_areas")[0][0] <= 20
    types = {t for (t,) in q(demo_db, "select distinct feedback_type from feedback_themes")}
    assert {"problem", "request", "praise"} <= types <= {"problem", "request", "question", "praise", "other"}


@pytest.mark.parametrize("name", ["explore", "evaluate"])
def test_notebook_executes(demo_db: Path, name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    import nbformat
    from nbclient import NotebookClient

    path = ROOT / "notebooks" / f"{name}.ipynb"
    nb = nbformat.read(path, as_version=4)
    assert all(not c.get("outputs") and not c.get("execution_count") for c in nb.cells if c.cell_type == "code"), (
        "commit notebooks with outputs stripped"
    )
    monkeypatch.setenv("PAINPOINTS_DB", str(demo_db))
    monkeypatch.setenv("PAINPOINTS_ROOT", str(ROOT))
    NotebookClient(nb, timeout=600, kernel_name="python3", resources={"metadata": {"path": str(path.parent)}}).execute()
    text = "\n".join(
        str(o.get("data", {}).get("text/plain", o.get("text", "")))
        for c in nb.cells
        if c.cell_type == "code"
        for o in c.outputs
    )
    if name == "explore":
        top = q(demo_db, "select label from pain_points where rank = 1")[0][0]
        assert top in text
        assert sum("image/png" in o.get("data", {}) for c in nb.cells if c.cell_type == "code" for o in c.outputs) == 2
    else:
        assert "NMI" in text and "macro-F1" in text


def test_db_opens_in_pandas_and_polars_without_painpoints(demo_db: Path) -> None:
    code = (
        "import sys, duckdb; con = duckdb.connect(sys.argv[1], read_only=True); "
        "df = con.sql('select * from pain_points').df(); pl = con.sql('select * from feedback_themes').pl(); "
        "assert 'painpoints' not in sys.modules and 'discovery' not in sys.modules; "
        "print(len(df), pl.height, df.columns[0])"
    )
    out = subprocess.run(
        [sys.executable, "-I", "-c", code, str(demo_db)], capture_output=True, text=True, check=True, cwd="/"
    )
    n_themes, n_segments, first = out.stdout.split()
    assert int(n_themes) >= 5 and int(n_segments) > 1000 and first == "rank"


def test_report_renders_in_headless_chromium(demo_db: Path, tmp_path: Path) -> None:
    from selenium.webdriver.common.by import By

    db = tmp_path / "hostile.duckdb"
    shutil.copy(demo_db, db)
    con = duckdb.connect(str(db))
    con.execute(
        "UPDATE theme_snapshots SET label = ? WHERE rank = 2 AND run_id = (SELECT run_id FROM latest_run)", [HOSTILE]
    )
    con.execute(
        "UPDATE theme_snapshots SET example_quotes = list_prepend(?, example_quotes) WHERE rank = 1 "
        "AND run_id = (SELECT run_id FROM latest_run)",
        ["</blockquote><script>window.__pwned = 3</script>"],
    )
    con.close()
    out = tmp_path / "report.html"
    result = CliRunner().invoke(main, ["report", "--db", str(db), "--out", str(out)])
    assert result.exit_code == 0, result.output
    html = out.read_text()
    assert "<script>window.__pwned" not in html and "&lt;script&gt;window.__pwned = 1" in html
    assert "http://" not in html.replace("http://www.w3.org", "") and "https://" not in html  # nothing remote

    driver = chrome(tmp_path)
    try:
        driver.get(out.as_uri())
        errors = [e for e in driver.get_log("browser") if e["level"] == "SEVERE"]
        assert errors == []
        assert driver.execute_script("return window.__pwned === undefined")
        top = q(db, "select label from pain_points where rank = 1")[0][0]
        body = driver.find_element(By.TAG_NAME, "body").text
        assert top in body and HOSTILE in body  # shown as text
        assert len(driver.find_elements(By.CSS_SELECTOR, "#ranked tbody tr")) == sum(
            q(db, f"select count(*) from {v}")[0][0] for v in ("pain_points", "pain_facets")
        )
        for table, view in (("areas", "theme_areas"), ("praise", "praise"), ("requests", "feature_requests")):
            rows_shown = len(driver.find_elements(By.CSS_SELECTOR, f"#{table} tbody tr"))
            assert rows_shown == q(db, f"select count(*) from {view}")[0][0] > 0
        assert len(driver.find_elements(By.CSS_SELECTOR, "#theme-map circle")) > 100
        assert driver.find_elements(By.CSS_SELECTOR, ".card svg.spark polyline")
        box = driver.find_element(By.ID, "filter")
        box.send_keys(top.split(" /")[0][:12].lower())
        shown = [c for c in driver.find_elements(By.CSS_SELECTOR, "#cards .card") if c.is_displayed()]
        assert 1 <= len(shown) < len(driver.find_elements(By.CSS_SELECTOR, "#cards .card"))
        shot = Path(os.environ.get("PAINPOINTS_SCREENSHOT_DIR", tmp_path)) / "report.png"
        driver.save_screenshot(str(shot))  # for humans: PAINPOINTS_SCREENSHOT_DIR=. make test
        assert shot.stat().st_size > 10_000
    finally:
        driver.quit()


def test_demo_search_finds_refunds_for_money_back(demo_db: Path) -> None:
    """Issue 19's check: searching the demo by meaning puts refund feedback first."""
    out = CliRunner().invoke(main, ["search", "money back for my order", "--db", str(demo_db), "--format", "json"])
    assert out.exit_code == 0, out.output
    top = json.loads(out.output)[:3]
    assert all(any(w in (h["text"] + " " + (h["theme_label"] or "")).lower() for w in ("refund", "money")) for h in top)
