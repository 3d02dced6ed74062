"""Who wrote which part of an article: carried from revision to revision by a word diff."""

from articles.authorship import HUMAN, MACHINE, carry, machine_share


def test_machine_text_taken_in_is_all_machine_written():
    runs = carry("", [], "The tide rose over the pier.", MACHINE)
    assert runs == [[len("The tide rose over the pier."), MACHINE]]
    assert machine_share("The tide rose over the pier.", runs) == 1.0


def test_an_edit_makes_the_changed_words_human_and_keeps_the_rest():
    old = "The tide rose over the pier at dawn."
    runs = carry("", [], old, MACHINE)
    new = "The tide crept over the old pier at dawn."
    after = carry(old, runs, new, HUMAN)
    share = machine_share(new, after)
    # "crept" and "old" are the editor's; every other word is still the machine's
    human_chars = len("crept") + len("old")
    total = sum(not ch.isspace() for ch in new)
    assert share == round((total - human_chars) / total, 4)
    assert 0 < share < 1


def test_authorship_survives_several_revisions_and_a_rewrite_by_hand_leaves_no_machine_text():
    first = "One two three four."
    runs = carry("", [], first, MACHINE)
    second = first + " Five six."
    runs = carry(first, runs, second, HUMAN)
    assert machine_share(second, runs) == round(len("Onetwothreefour.") / len("Onetwothreefour.Fivesix."), 4)
    third = "Entirely different words here."
    runs = carry(second, runs, third, HUMAN)
    assert machine_share(third, runs) == 0.0


def test_machine_text_added_to_human_text_counts_as_machine():
    mine = "I wrote this."
    runs = carry("", [], mine, HUMAN)
    both = mine + " The machine wrote this."
    runs = carry(mine, runs, both, MACHINE)
    assert machine_share(both, runs) == round(len("Themachinewrotethis.") / len("Iwrotethis.Themachinewrotethis."), 4)


def test_runs_cover_the_text_exactly():
    old = "a b c"
    runs = carry("", [], old, MACHINE)
    new = "a  x\n\nc d"
    runs = carry(old, runs, new, HUMAN)
    assert sum(count for count, _ in runs) == len(new)
    assert machine_share("", []) == 0.0
