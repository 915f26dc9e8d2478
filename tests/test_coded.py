"""``Coded``: a per-segment column of few values held as one-byte codes, read as the values."""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from painpoints.discovery.coded import Coded, mask_of
from painpoints.discovery.columns import as_dictionary, dictionary_codes


def test_reads_and_writes_like_a_list_of_shared_values() -> None:
    tone = Coded.filled(5, "neutral")
    tone[np.array([1, 3])] = "negative"
    tone[4] = "positive"
    assert list(tone) == ["neutral", "negative", "neutral", "negative", "positive"]
    assert tone == ["neutral", "negative", "neutral", "negative", "positive"]
    assert tone[1] is tone[3]  # the one value object, not a copy per row
    assert tone.codes.dtype == np.int8 and tone.codes.nbytes == 5
    assert list(tone[1:3]) == ["negative", "neutral"]
    assert mask_of(tone, "negative").tolist() == [False, True, False, True, False]
    assert mask_of(tone, "praise").tolist() == [False] * 5  # a value no row holds
    assert mask_of(["a", "b", "a"], "a").tolist() == [True, False, True]  # a plain list too


def test_codes_widen_past_127_values_and_none_is_a_null() -> None:
    ids = Coded.of([f"t{i}" for i in range(300)] + [None])
    assert ids.codes.dtype == np.int16 and ids[299] == "t299" and ids[300] is None
    encoded = ids.dictionary()
    assert encoded.null_count == 1 and encoded.to_pylist() == [f"t{i}" for i in range(300)] + [None]
    idx, names = dictionary_codes(ids)
    assert idx[-1] == -1 and [names[i] for i in idx[:-1]] == [f"t{i}" for i in range(300)]


def test_a_column_with_none_in_the_middle_writes_the_values_it_reads() -> None:
    kinds = Coded.of(["problem", None, "praise", "problem", None])
    assert as_dictionary(kinds, 5).to_pylist() == ["problem", None, "praise", "problem", None]
    assert as_dictionary(kinds, 5).type == pa.dictionary(pa.int8(), pa.string())


def test_made_from_codes_and_mapped_value_by_value() -> None:
    """A clustering's labels (−1 = unassigned) become theme ids by one lookup; a merge maps two ids to
    one, which then share a code; ``used`` names only the values some row still holds."""
    labels = np.array([0, -1, 2, 1, 0, 2], np.int64)
    themes = Coded.of_codes(labels, ["T1", "T2", "T3"])
    assert themes == ["T1", None, "T3", "T2", "T1", "T3"] and themes.codes.dtype == np.int8
    calls: list[str | None] = []
    merged = themes.mapped(lambda t: calls.append(t) or ("T1" if t == "T3" else t))
    assert merged == ["T1", None, "T1", "T2", "T1", "T1"]
    assert sorted(map(str, calls)) == ["None", "T1", "T2", "T3"]  # once per value
    assert merged.is_("T1").tolist() == [True, False, True, False, True, True]  # one code for both
    assert themes == ["T1", None, "T3", "T2", "T1", "T3"]  # the original is untouched
    merged[np.array([3])] = "T1"
    assert sorted(map(str, merged.used())) == ["None", "T1"]
    wide = Coded.of_codes(np.arange(300), [f"t{i}" for i in range(300)])
    assert wide.codes.dtype == np.int16 and wide[299] == "t299"


def test_rows_read_by_mask_and_set_row_by_row_from_another_column() -> None:
    """A clustering's ``how`` of the leftovers lands on their rows: rows taken by a mask or positions
    are a ``Coded``; set from a ``Coded`` or an object array, each row gets its own value, and values
    new to the column get codes (widening when they pass 127)."""
    how = Coded.filled(6, "outlier")
    leftovers = Coded.of(["cluster", "assigned", "outlier"])
    how[np.array([1, 3, 5])] = leftovers
    assert how == ["outlier", "cluster", "outlier", "assigned", "outlier", "outlier"]
    assert how[np.array([True, True, False, False, False, False])] == ["outlier", "cluster"]
    assert how[np.array([3, 1])] == ["assigned", "cluster"]
    how[np.array([0, 2])] = np.array(["kept", "reassigned"], dtype=object)
    assert how == ["kept", "cluster", "reassigned", "assigned", "outlier", "outlier"]
    wide = Coded.filled(3, "a")
    wide[np.array([0, 1, 2])] = Coded.of_codes(np.array([0, 150, 299]), [f"t{i}" for i in range(300)])
    assert wide == ["t0", "t150", "t299"] and wide.codes.dtype == np.int16
