"""Stop sequences cut streamed text exactly, even when a stop string arrives split across pieces."""

from __future__ import annotations

from agents.worker.stopping import StopFilter


def run(stops: list[str], pieces: list[str]) -> tuple[str, bool]:
    stop = StopFilter(stops)
    out = "".join(stop.feed(p) for p in pieces) + stop.flush()
    return out, stop.hit


def test_cuts_before_the_first_stop_string() -> None:
    assert run(["END"], ["one two ", "END three"]) == ("one two ", True)


def test_finds_a_stop_string_split_across_pieces() -> None:
    assert run(["<|end|>"], ["hello <|e", "nd|> bye"]) == ("hello ", True)


def test_releases_a_held_back_prefix_that_was_not_a_stop() -> None:
    assert run(["<|end|>"], ["a <|e", "xit"]) == ("a <|exit", False)


def test_the_earliest_of_several_stops_wins() -> None:
    assert run(["b", "a"], ["xxab"]) == ("xx", True)


def test_without_stops_text_passes_through() -> None:
    assert run([], ["a", "b"]) == ("ab", False)
