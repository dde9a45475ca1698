"""Stop sequences on streamed text: emit what cannot start a stop string, cut at the first match."""

from __future__ import annotations


class StopFilter:
    """Feed text as it is generated; output stops before any stop string."""

    __slots__ = ("stops", "pending", "hit")

    def __init__(self, stops: list[str]) -> None:
        self.stops = [s for s in stops if s]
        self.pending = ""
        self.hit = False

    def feed(self, text: str) -> str:
        if self.hit:
            return ""
        if not self.stops:
            return text
        buf = self.pending + text
        found = [i for i in (buf.find(s) for s in self.stops) if i >= 0]
        if found:
            self.hit, self.pending = True, ""
            return buf[: min(found)]
        hold = self._held_back(buf)
        self.pending = buf[len(buf) - hold :]
        return buf[: len(buf) - hold]

    def flush(self) -> str:
        """End of generation: what was held back was not a stop string after all."""
        out, self.pending = ("" if self.hit else self.pending), ""
        return out

    def _held_back(self, buf: str) -> int:
        """Length of the longest tail of `buf` that is the start of some stop string."""
        for size in range(min(len(buf), max(len(s) for s in self.stops) - 1), 0, -1):
            tail = buf[-size:]
            if any(s.startswith(tail) for s in self.stops):
                return size
        return 0


def stop_list(value: object) -> list[str]:
    """The request's `stop` (validated: a string or up to 4 strings) as a list."""
    if isinstance(value, str):
        return [value]
    return list(value) if isinstance(value, list) else []
