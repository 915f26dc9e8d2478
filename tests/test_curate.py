"""Curation that shows at once (discovery/curate.py): live actions change the latest run's views in the
transaction that records them; merge and split stay pending until the next run; previews say what will
change without writing; a refused action writes nothing."""

from __future__ import annotations

from pathlib import Path

import pytest

from painpoints.discovery import store
from painpoints.discovery.curate import curate, log, preview
from tests.helpers import rows as q


def test_live_actions_show_at_once_and_pending_ones_wait(golden_db: Path) -> None:
    db = golden_db
    ranked = [t for (t,) in q(db, "select theme_id from latest_themes order by overall_rank")]
    top, second, small = ranked[0], ranked[1], ranked[-1]
    areas = [a for (a,) in q(db, "select area_id from theme_areas order by rank")]
    (home,) = q(db, "select area_id from latest_themes where theme_id = ?", [top])[0]
    elsewhere = next(a for a in areas if a != home)
    before = q(db, "select theme_id, items from latest_themes order by theme_id")
    with store.connect(db) as con:
        lines = preview(con, "rename", top, value="Checkout fails")
        assert '"Checkout fails"' in lines[0] and top in lines[0]
        assert q_count(con) == 0  # a preview writes nothing
        assert curate(con, "rename", top, value="  Checkout fails ") == (log(con)[0][-1], True)
        curate(con, "hide", second)
        curate(con, "move", top, value=elsewhere)
        assert "Pending" in preview(con, "merge", small, target=top)[-1]
        _, live = curate(con, "merge", small, target=top)
        assert live is False
    labels = dict(q(db, "select theme_id, label from latest_themes"))
    assert labels[top] == "Checkout fails" and second not in labels
    assert q(db, "select label_method, area_id from latest_themes where theme_id = ?", [top]) == [
        ("curated", elsewhere)
    ]
    assert second not in {t for (t,) in q(db, "select theme_id from pain_points union all select theme_id from praise")}
    # the merge waits for the next run: the views' themes and counts are as before (but for the hidden one)
    assert q(db, "select theme_id, items from latest_themes order by theme_id") == [r for r in before if r[0] != second]
    assert [a for (a,) in q(db, "select action from curation order by created_at")] == [
        "rename",
        "hide",
        "move",
        "merge",
    ]


def test_refused_actions_write_nothing(golden_db: Path) -> None:
    with store.connect(golden_db) as con:
        for action, kwargs, message in [
            ("rename", {"value": " "}, "must not be empty"),
            ("move", {"value": "A999"}, "unknown area"),
            ("merge", {"target": "T999"}, "unknown theme"),
            ("split", {"value": "1"}, "2 to 10"),
            ("explode", {}, "unknown curation action"),
        ]:
            with pytest.raises(store.StoreError, match=message):
                curate(con, action, "T001", **kwargs)
        with pytest.raises(store.StoreError, match="unknown theme"):
            preview(con, "hide", "T999")
        assert q_count(con) == 0


def q_count(con) -> int:
    return con.execute("select count(*) from curation").fetchone()[0]
