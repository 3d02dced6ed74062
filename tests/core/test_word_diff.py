"""The word diff that the editor shows between revisions, and in a conflict."""

from core.diffing import diff_counts, word_diff


def test_word_diff_reads_back_both_texts():
    old, new = "The quick brown fox.\nJumps high.", "The slow brown fox.\nJumps over it."
    runs = word_diff(old, new)
    assert "".join(r["text"] for r in runs if r["kind"] != "added") == old
    assert "".join(r["text"] for r in runs if r["kind"] != "removed") == new
    assert {"kind": "removed", "text": "quick"} in runs and {"kind": "added", "text": "slow"} in runs
    assert diff_counts(runs) == {"added": 3, "removed": 2}


def test_a_space_between_two_changes_joins_them():
    runs = word_diff("charges all day.", "charges from dawn to dusk.")
    assert runs == [{"kind": "same", "text": "charges "}, {"kind": "removed", "text": "all day."},
                    {"kind": "added", "text": "from dawn to dusk."}]


def test_empty_texts():
    assert word_diff("", "") == []
    assert word_diff("", "New.") == [{"kind": "added", "text": "New."}]
