"""The relay's bookkeeping: persisted text plus live pieces, given exactly once and in order."""

from articles.relay import Relay


def piece(seq, text):
    return {"seq": seq, "text": text}


def give(relay, *pieces):
    return "".join(p["text"] for item in pieces for p in relay.receive(item))


def test_a_late_reader_gets_the_persisted_text_then_only_newer_pieces():
    relay = Relay()
    assert relay.catch_up({"seq": 2, "text": "Ahoy, "}) == "Ahoy, "
    assert give(relay, piece(1, "Ahoy"), piece(2, ", "), piece(3, "matey"), piece(3, "matey")) == "matey"
    assert relay.catch_up({"seq": 3, "text": "Ahoy, matey"}) is None  # nothing new
    assert (relay.seq, relay.length) == (3, len("Ahoy, matey"))


def test_early_pieces_wait_for_the_gap_and_the_database_fills_it():
    relay = Relay()
    relay.catch_up({"seq": 1, "text": "A"})
    assert give(relay, piece(3, "C"), piece(4, "D")) == "" and relay.has_gap
    assert relay.catch_up({"seq": 2, "text": "AB"}) == "B"
    assert "".join(p["text"] for p in relay.ready()) == "CD" and not relay.has_gap


def test_a_persisted_state_past_the_pending_pieces_drops_them():
    relay = Relay()
    give(relay, piece(2, "B"))
    assert relay.catch_up({"seq": 3, "text": "ABC"}) == "ABC"
    assert relay.ready() == [] and not relay.has_gap
    assert give(relay, piece(4, "D")) == "D"
