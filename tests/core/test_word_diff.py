"""The word diff as the editor shows it (between revisions and in a conflict), with its summary."""

from core.diffing import diff_counts, word_diff


def test_word_diff_reads_back_both_texts_and_counts_the_words():
    old, new = "The quick brown fox.\nJumps high.", "The slow brown fox.\nJumps over it."
    runs = word_diff(old, new)
    assert "".join(r["text"] for r in runs if r["kind"] != "added") == old
    assert "".join(r["text"] for r in runs if r["kind"] != "removed") == new
    assert {"kind": "removed", "text": "quick"} in runs and {"kind": "added", "text": "slow"} in runs
    assert diff_counts(runs) == {"added": 3, "removed": 2}


def test_a_changed_phrase_shows_as_one_removal_and_one_insertion():
    runs = word_diff("charges all day.", "charges from dawn to dusk.")
    assert runs == [{"kind": "same", "text": "charges "}, {"kind": "removed", "text": "all day"},
                    {"kind": "added", "text": "from dawn to dusk"}, {"kind": "same", "text": "."}]
    assert diff_counts(runs) == {"added": 4, "removed": 2}
