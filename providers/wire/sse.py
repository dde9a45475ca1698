"""Incremental Server-Sent Events decoder shared by every wire format."""

from __future__ import annotations


class SSEDecoder:
    """Feed raw bytes as they arrive; get back complete `(event, data)` pairs."""

    __slots__ = ("_buf", "_event", "_data")

    def __init__(self) -> None:
        self._buf = b""
        self._event = ""
        self._data: list[str] = []

    def feed(self, chunk: bytes) -> list[tuple[str, str]]:
        buf = self._buf + chunk
        lines = buf.split(b"\n")
        self._buf = lines.pop()  # the unterminated tail waits for more bytes
        events: list[tuple[str, str]] = []
        for raw in lines:
            line = raw.decode("utf-8", "replace").rstrip("\r")
            if not line:
                if self._data:
                    events.append((self._event or "message", "\n".join(self._data)))
                self._event, self._data = "", []
            elif line.startswith(":"):
                continue
            else:
                name, _, value = line.partition(":")
                if value.startswith(" "):
                    value = value[1:]
                if name == "data":
                    self._data.append(value)
                elif name == "event":
                    self._event = value
        return events

    def close(self) -> list[tuple[str, str]]:
        """End of input: an event not followed by a blank line still counts."""
        events = self.feed(b"\n\n") if self._buf or self._data else []
        return events
