"""Exactly-once, in-order text of a generation from its persisted state plus live pieces.

The database holds the text up to a sequence number; the channel layer carries numbered pieces
that may arrive before the reader has seen the database, twice, or after a gap. A Relay keeps
what one reader has and says what to give it next. It knows no transport: the WebSocket
consumers and the `generate` command both use it.
"""

from dataclasses import dataclass, field


@dataclass
class Relay:
    seq: int = 0  # the reader has every piece up to this one...
    length: int = 0  # ...which is this many characters of text
    pending: dict[int, dict] = field(default_factory=dict)  # pieces that arrived early

    def catch_up(self, state: dict) -> str | None:
        """The text of a persisted (or final) state that the reader lacks; None if it has it all."""
        if state["seq"] <= self.seq:
            return None
        text = state["text"][self.length :]
        self.seq, self.length = state["seq"], len(state["text"])
        return text

    def receive(self, piece: dict) -> list[dict]:
        """Take a live piece; return the pieces that can now be given, in order (maybe none)."""
        if piece["seq"] > self.seq:
            self.pending[piece["seq"]] = piece
        return self.ready()

    def ready(self) -> list[dict]:
        """Pending pieces that now follow on, in order; drops those already covered."""
        for seq in [s for s in self.pending if s <= self.seq]:
            del self.pending[seq]
        out = []
        while self.seq + 1 in self.pending:
            piece = self.pending.pop(self.seq + 1)
            self.seq, self.length = piece["seq"], self.length + len(piece["text"])
            out.append(piece)
        return out

    @property
    def has_gap(self) -> bool:
        """Pieces are waiting for an earlier one: read the database to fill the gap."""
        return bool(self.pending)
