"""``SortedKeys``: the exact, compact key set of ingest's dedupe."""

from __future__ import annotations

import random

import numpy as np
import pyarrow as pa
import pytest

from painpoints.discovery.sortedkeys import SortedKeys, SortedMap, from_binary, from_hex


def test_membership_matches_a_python_set_through_many_small_adds() -> None:
    rnd = random.Random(7)
    stored = [rnd.randbytes(4) for _ in range(500)] + [b"\x00\x00\x00\x00", b"ab\x00\x00", b"ab\x00\x01"]
    given = np.array(stored, "S4")
    keys = SortedKeys(4, given)
    assert keys.runs[0] is given and (np.diff(given.view(">u4").astype(np.int64)) >= 0).all()  # sorted in place
    truth = set(stored)
    for _ in range(60):  # batches of new keys, as ingest adds them
        batch = [rnd.randbytes(4) for _ in range(rnd.randint(0, 40))] + rnd.sample(stored, 5)
        arr = np.array(batch, "S4")
        assert keys.contains(arr).tolist() == [k in truth for k in batch]
        new = sorted(set(batch) - truth)
        keys.add(np.array(new, "S4"))
        truth |= set(new)
    assert len(keys) == len(truth)
    assert len(keys.runs) <= 2 + int(np.log2(len(truth)))  # merged as they grow: O(log n) runs
    empty = SortedKeys(4, np.empty(0, "S4"))
    assert empty.contains(np.array([b"ab\x00\x00"], "S4")).tolist() == [False] and len(empty) == 0
    probe = np.array([b"ab\x00\x00", b"ab\x00\x02"], "S4")  # keys ending in zero bytes are told apart
    assert keys.contains(probe).tolist() == [True, False]


def test_keys_of_another_width_are_refused() -> None:
    with pytest.raises(ValueError, match="S5"):
        SortedKeys(4, np.array([b"abcde"], "S5"))


def test_keys_come_from_hex_digests_and_from_arrow_binary_columns() -> None:
    hexes = ["00ff" * 5, "a1b2" * 5]
    arr = from_hex(hexes, 10)
    assert arr.dtype == np.dtype("S10") and arr.tobytes() == b"".join(bytes.fromhex(h) for h in hexes)
    col = pa.chunked_array([pa.array([bytes.fromhex(h) for h in hexes]).slice(1), pa.array([bytes(10)])])
    assert from_binary(col, 10).tobytes() == bytes.fromhex(hexes[1]) + bytes(10)
    with pytest.raises(ValueError, match="20 hex digits"):  # not cut to 10 bytes
        from_hex(["ab" * 11], 10)
    with pytest.raises(pa.ArrowInvalid):  # a key of another width is an error, not a miss
        from_binary(pa.array([b"short"]), 10)


def test_a_sorted_map_answers_stored_keys_and_the_changes_since() -> None:
    rnd = random.Random(3)
    ids = [rnd.randbytes(10) for _ in range(200)] + [b"\x01" * 9 + b"\x00"]
    values = [rnd.randbytes(20) for _ in range(200)] + [b"\x02" * 18 + b"\x00\x00"]  # trailing zero bytes kept
    m = SortedMap(np.array(ids, "S10"), np.array(values, "S20"))
    for k, v in zip(ids, values, strict=True):
        assert m.get(k.hex()) == v.hex()
    assert m.get(("01" * 9) + "02") is None and m.get(("01" * 9)[:-2] + "0000") is None
    m.set(ids[0].hex(), "ab" * 20)
    m.set(ids[1].hex(), None)
    m.set("ff" * 10, "cd" * 20)
    assert (m.get(ids[0].hex()), m.get(ids[1].hex()), m.get("ff" * 10)) == ("ab" * 20, None, "cd" * 20)
    assert SortedMap(np.empty(0, "S10"), np.empty(0, "S20")).get("00" * 10) is None
