"""Areas above themes (``discovery.areas``) on synthetic vectors: no model, no UMAP, no store.

Theme centroids are built around a few orthogonal "product" directions, so the right grouping is
known; the figures on real mixed feeds are ``benchmarks/areas.py``.
"""

from __future__ import annotations

import numpy as np
import pytest

from painpoints.discovery import areas
from painpoints.discovery.components import HashEncoder
from painpoints.discovery.lazy_vectors import StoredVectors


def theme_centroids(per_group: list[int], dim: int = 32, spread: float = 0.08, seed: int = 0) -> np.ndarray:
    """Unit theme centroids: ``per_group[g]`` themes scattered around axis ``g``."""
    rng = np.random.default_rng(seed)
    rows = [np.eye(dim)[g] + spread * rng.standard_normal(dim) for g, n in enumerate(per_group) for _ in range(n)]
    C = np.array(rows, dtype=np.float32)
    return C / np.linalg.norm(C, axis=1, keepdims=True)


def test_three_separated_groups_give_three_areas_largest_first() -> None:
    C = theme_centroids([4, 6, 3])
    sizes = np.array([10] * 4 + [50] * 6 + [20] * 3)
    area = areas.find_areas(C, sizes)
    assert area.tolist() == [2] * 4 + [0] * 6 + [1] * 3  # 300 items, 60, 40: numbered by items, not themes


def test_cap_and_small_inputs() -> None:
    C = theme_centroids([2, 2, 2, 2])
    sizes = np.ones(8, dtype=int)
    assert len(np.unique(areas.find_areas(C, sizes))) == 4
    capped = areas.find_areas(C, sizes, max_areas=2)
    assert len(np.unique(capped)) == 2
    assert all(len(set(capped[i : i + 2])) == 1 for i in range(0, 8, 2))  # a cap merges groups, never splits one
    assert areas.find_areas(C[:1], sizes[:1]).tolist() == [0]
    assert areas.find_areas(C[:0], sizes[:0]).tolist() == []
    # few themes get the same cut: two products stay apart, two themes of one product join
    assert sorted(areas.find_areas(C[[0, 2]], np.array([1, 3])).tolist()) == [0, 1]
    assert areas.find_areas(C[[0, 1]], np.array([1, 3])).tolist() == [0, 0]
    with pytest.raises(ValueError):
        areas.find_areas(C, sizes[:3])


def test_same_partition_same_numbers() -> None:
    C = theme_centroids([3, 3, 3], seed=1)
    sizes = np.arange(1, 10)
    order = np.random.default_rng(2).permutation(9)
    once, again = areas.find_areas(C, sizes), areas.find_areas(C[order], sizes[order])
    assert (once[order] == again).all()


def test_area_centroids_weight_by_items() -> None:
    C = np.array([[1, 0], [0, 1], [0, 1]], dtype=np.float32)
    out = areas.area_centroids(C, np.array([3, 1, 1]), np.array([0, 0, 1]))
    assert np.allclose(out[1], [0, 1])
    assert out[0][0] > out[0][1] and np.isclose(np.linalg.norm(out[0]), 1)


def test_ids_stable_when_centroids_move_slightly() -> None:
    C = theme_centroids([3, 3, 3])
    sizes = np.full(9, 5)
    first = areas.find_areas(C, sizes)
    A1 = areas.area_centroids(C, sizes, first)
    ids1 = areas.identify_areas(A1, {}, threshold=0.8)
    assert ids1 == ["A01", "A02", "A03"]

    rng = np.random.default_rng(5)
    C2 = C + 0.03 * rng.standard_normal(C.shape).astype(np.float32)
    C2 /= np.linalg.norm(C2, axis=1, keepdims=True)
    sizes2 = np.array([5, 5, 5, 1, 1, 1, 9, 9, 9])  # sizes change, so the area numbers do too
    second = areas.find_areas(C2, sizes2)
    A2 = areas.area_centroids(C2, sizes2, second)
    ids2 = areas.identify_areas(A2, dict(zip(ids1, A1, strict=True)), threshold=0.8)
    by_theme1 = [ids1[a] for a in first]
    by_theme2 = [ids2[a] for a in second]
    assert by_theme1 == by_theme2


def test_new_area_gets_a_fresh_id_never_reused() -> None:
    known = {"A01": np.array([1, 0, 0], np.float32), "A02": np.array([0, 1, 0], np.float32)}
    new = np.array([[0, 0.995, 0.1], [0, 0, 1]], dtype=np.float32)
    new /= np.linalg.norm(new, axis=1, keepdims=True)
    # A05 was used once and retired: the new area gets A06; A01 has no match and is not handed out
    assert areas.identify_areas(new, known, threshold=0.8, existing_ids=["A05", "T003"]) == ["A02", "A06"]
    assert areas.identify_areas(new[:0], known, threshold=0.8) == []
    assert list(zip(range(3), areas.fresh_area_ids([]), strict=False)) == [(0, "A01"), (1, "A02"), (2, "A03")]


def test_moves_override_the_computed_area() -> None:
    computed = {"T001": "A01", "T002": "A01", "T003": "A02"}
    moved = areas.apply_moves(computed, {"T002": "A02", "T009": "A01", "T003": "A07"})
    assert moved == {"T001": "A01", "T002": "A02", "T003": "A07"}  # T009 is not in this run
    assert computed["T002"] == "A01"  # the input is left alone


def _feed() -> tuple[list[str], np.ndarray, np.ndarray]:
    """Segments of two products (billing, app), three themes; one segment unassigned."""
    texts = (
        ["refund never arrived on my card", "refund still missing from my card", "card refund takes weeks"] * 3
        + ["invoice shows double charge", "double charge on the invoice again"] * 3
        + ["app crashes on login screen", "login screen freezes the app", "app crash after update"] * 3
        + ["hello"]
    )
    labels = np.array([0] * 9 + [1] * 6 + [2] * 9 + [-1])
    X = np.zeros((len(texts), 4), np.float32)
    X[:15, 0], X[15:24, 1], X[24:, 2] = 1, 1, 1
    return texts, labels, X


def test_names_come_from_each_areas_distinctive_phrases() -> None:
    texts, labels, X = _feed()
    names = areas.name_areas(texts, labels, np.array([0, 0, 1]), ["Refund", "Double charge", "App crash"], X)
    assert len(names) == 2 and len({n.lower() for n in names}) == 2
    assert names[0][0].isupper() and names[1][0].isupper()
    assert any(w in names[0].lower() for w in ("refund", "card", "charge", "invoice"))
    assert any(w in names[1].lower() for w in ("app", "login", "crash"))
    with_encoder = areas.name_areas(
        texts, labels, np.array([0, 0, 1]), ["Refund", "Double charge", "App crash"], X, encode=HashEncoder(4).encode
    )
    assert len(set(with_encoder)) == 2


def test_names_fall_back_to_the_largest_theme_and_stay_unique() -> None:
    texts = ["it is the one"] * 6  # stop words only: no usable phrase
    labels = np.array([0, 0, 0, 1, 2, 2])
    X = np.eye(6, dtype=np.float32)
    names = areas.name_areas(texts, labels, np.array([0, 1, 1]), ["Refunds", "Login", "Refunds"], X)
    assert names == ["Refunds", "Refunds (2)"]  # area 1's largest theme is theme 2, whose label is taken


def test_naming_a_large_area_reads_a_sample_of_its_vectors_not_all() -> None:
    """An incremental run that needs one new area name must not read every stored vector: the
    centre comes from the same capped sample as the phrases."""
    texts = ["refund never arrived on my card"] * 300 + ["app crashes on login screen"] * 300
    labels = np.array([0] * 300 + [1] * 300)
    rows = np.eye(2, dtype=np.float32)[labels]
    X = StoredVectors([str(i) for i in range(600)], 2, "m", lambda _model, hashes: {h: rows[int(h)] for h in hashes})
    names = areas.name_areas(texts, labels, np.array([0, 1]), ["Refund", "Crash"], X, encode=HashEncoder(2).encode,
                             max_texts_per_area=50)  # fmt: skip
    assert len(names) == 2 and X.rows_read <= 100
