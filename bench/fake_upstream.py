"""A fast fake OpenAI-compatible upstream for benchmarks: raw asyncio protocol, canned answers.

`POST <anything>` answers a small `chat.completion` JSON, or a short SSE stream
(a few chunks, a usage chunk, `data: [DONE]`) when the body has `"stream": true`.
HTTP/1.1 keep-alive, TCP_NODELAY on every accepted socket, no parsing beyond what
framing needs, so the upstream costs tens of microseconds per request.

Run alone: `python bench/fake_upstream.py --port 9000` (prints `READY <port>`).
"""

from __future__ import annotations

import argparse
import asyncio
import re
import socket
import sys
import time

import orjson

MODEL = "gpt-4o-mini"
_STREAM_RE = re.compile(rb'"stream"\s*:\s*true')


def _completion() -> bytes:
    return orjson.dumps(
        {
            "id": "chatcmpl-bench",
            "object": "chat.completion",
            "created": int(time.time()),
            "model": MODEL,
            "choices": [
                {
                    "index": 0,
                    "message": {"role": "assistant", "content": "Hello! How can I help you today?"},
                    "finish_reason": "stop",
                }
            ],
            "usage": {"prompt_tokens": 9, "completion_tokens": 9, "total_tokens": 18},
        }
    )


def _chunk(delta: dict, finish: str | None = None, usage: dict | None = None) -> bytes:
    obj: dict = {
        "id": "chatcmpl-bench",
        "object": "chat.completion.chunk",
        "created": int(time.time()),
        "model": MODEL,
        "choices": [] if usage else [{"index": 0, "delta": delta, "finish_reason": finish}],
    }
    if usage:
        obj["usage"] = usage
    return b"data: " + orjson.dumps(obj) + b"\n\n"


def _stream_events() -> list[bytes]:
    """Each SSE event is sent as its own HTTP chunk (and its own write), as real upstreams do."""
    events = [_chunk({"role": "assistant", "content": ""})]
    events += [_chunk({"content": word}) for word in ("Hello", "!", " How", " can", " I", " help?")]
    events.append(_chunk({}, finish="stop"))
    events.append(
        _chunk({}, usage={"prompt_tokens": 9, "completion_tokens": 6, "total_tokens": 15})
    )
    events.append(b"data: [DONE]\n\n")
    return [b"%x\r\n%s\r\n" % (len(e), e) for e in events] + [b"0\r\n\r\n"]


JSON_BODY = _completion()
JSON_RESPONSE = (
    b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\n"
    b"content-length: %d\r\n\r\n%s" % (len(JSON_BODY), JSON_BODY)
)
SSE_HEAD = (
    b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\n"
    b"cache-control: no-cache\r\ntransfer-encoding: chunked\r\n\r\n"
)
SSE_CHUNKS = _stream_events()
BAD_REQUEST = b"HTTP/1.1 400 Bad Request\r\ncontent-length: 0\r\nconnection: close\r\n\r\n"


class UpstreamProtocol(asyncio.Protocol):
    """One connection: parse pipelined HTTP/1.1 requests from a buffer, answer each."""

    __slots__ = ("buf", "transport")

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]
        self.buf = b""
        sock = transport.get_extra_info("socket")
        if sock is not None:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def data_received(self, data: bytes) -> None:
        self.buf = self.buf + data if self.buf else data
        while self.buf:
            end = self.buf.find(b"\r\n\r\n")
            if end < 0:
                return
            head = self.buf[:end].lower()
            body_start = end + 4
            if b"transfer-encoding: chunked" in head:
                body, consumed = _dechunk(self.buf, body_start)
                if body is None:
                    return
            else:
                match = re.search(rb"\r\ncontent-length:\s*(\d+)", head)
                length = int(match.group(1)) if match else 0
                if len(self.buf) < body_start + length:
                    return
                body, consumed = self.buf[body_start : body_start + length], body_start + length
            self.buf = self.buf[consumed:]
            if not head.startswith((b"post ", b"get ")):
                self.transport.write(BAD_REQUEST)
                self.transport.close()
                return
            if _STREAM_RE.search(body):
                self.transport.write(SSE_HEAD)
                for chunk in SSE_CHUNKS:
                    self.transport.write(chunk)
            else:
                self.transport.write(JSON_RESPONSE)


def _dechunk(buf: bytes, pos: int) -> tuple[bytes | None, int]:
    """Decode a chunked request body starting at pos; (None, 0) until it is complete."""
    parts = []
    while True:
        eol = buf.find(b"\r\n", pos)
        if eol < 0:
            return None, 0
        size = int(buf[pos:eol].split(b";")[0], 16)
        start = eol + 2
        if size == 0:
            trailer_end = buf.find(b"\r\n\r\n", eol)
            if trailer_end < 0:
                return None, 0
            return b"".join(parts), trailer_end + 4
        if len(buf) < start + size + 2:
            return None, 0
        parts.append(buf[start : start + size])
        pos = start + size + 2


async def serve(host: str, port: int, ready: asyncio.Future | None = None) -> None:
    loop = asyncio.get_running_loop()
    server = await loop.create_server(
        UpstreamProtocol, host, port, backlog=1024, reuse_address=True
    )
    bound = server.sockets[0].getsockname()[1]
    if ready is not None:
        ready.set_result(bound)
    print(f"READY {bound}", flush=True)
    async with server:
        await server.serve_forever()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0, help="0 picks a free port (printed)")
    args = parser.parse_args()
    if args.host not in ("127.0.0.1", "::1", "localhost"):
        sys.exit("the fake upstream listens on loopback only")
    try:
        import uvloop

        factory = uvloop.new_event_loop
    except ImportError:
        factory = None
    try:
        with asyncio.Runner(loop_factory=factory) as runner:
            runner.run(serve(args.host, args.port))
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
