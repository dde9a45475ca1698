"""Weight backend: a Hugging Face causal LM from local files, one generating thread per model.

torch and transformers are imported here only, when the first model loads (the `agent` extra).
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections.abc import AsyncIterator, Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from agents.worker.backend import FAILED, READY, Backend, Overloaded
from agents.worker.config import AgentConfig, ModelSpec
from agents.worker.prompt import Params, params_for, render, resolve_source
from agents.worker.stopping import StopFilter
from gateway.dataplane.errors import GatewayError, InvalidRequest
from gateway.dataplane.executor import DONE, error_frame, frame
from gateway.dataplane.validation import ChatRequest
from providers.wire.base import chunk, completion, completion_id, now, usage, usage_chunk

log = logging.getLogger(__name__)
Emit = Callable[[str], None]


class LocalModel:
    """One model on one thread: a generation at a time, `queue_size` more waiting, then 503."""

    def __init__(self, spec: ModelSpec, config: AgentConfig) -> None:
        self.spec = spec
        self.config = config
        self.executor = ThreadPoolExecutor(1, thread_name_prefix=f"agent-{spec.name}")
        self.pending = 0
        self.tokenizer: Any = None
        self.model: Any = None
        self.context = 0

    def load(self) -> float:
        """Runs on the model's thread; returns the seconds it took."""
        started = time.perf_counter()
        from transformers import AutoModelForCausalLM, AutoTokenizer
        from transformers.utils import logging as hf_logging

        hf_logging.disable_progress_bar()  # a log line per load is enough

        source, extra = resolve_source(self.spec.source, self.config.cache_dir)
        self.tokenizer = AutoTokenizer.from_pretrained(source, local_files_only=True, **extra)
        model = AutoModelForCausalLM.from_pretrained(
            source, local_files_only=True, dtype="auto", **extra
        )
        # transformers types .to() through a decorator whose stub loses the device parameter
        self.model = model.to(self.config.device).eval()  # type: ignore[arg-type]
        cfg = model.config
        self.context = (
            getattr(cfg, "max_position_embeddings", None) or getattr(cfg, "n_positions", 0) or 0
        )
        return time.perf_counter() - started

    def submit(
        self, chat: ChatRequest, emit: Emit, started: Callable[[int], None], cancel: threading.Event
    ) -> asyncio.Future[dict[str, Any]]:
        if self.pending > self.config.queue_size:
            raise Overloaded(
                f"The model '{self.spec.name}' is busy ({self.pending} requests ahead)",
                headers={"retry-after": "1"},
            )
        self.pending += 1
        future = asyncio.get_running_loop().run_in_executor(
            self.executor, self.generate, chat, emit, started, cancel
        )
        future.add_done_callback(self._release)
        return future

    def _release(self, _: object) -> None:
        self.pending -= 1

    def _encode(self, chat: ChatRequest) -> tuple[Any, Params]:
        params = params_for(chat, default_max_tokens=self.config.default_max_tokens)
        text, special = render(self.tokenizer, chat.body["messages"])
        encoded = self.tokenizer(text, add_special_tokens=special, return_tensors="pt")
        prompt_len = encoded["input_ids"].shape[1]
        room = self.context - prompt_len if self.context else params.max_new_tokens
        if room < 1:
            raise InvalidRequest(
                f"The prompt is {prompt_len} tokens; this model's context is {self.context}",
                param="messages",
                code="context_length_exceeded",
            )
        limit = min(params.max_new_tokens, room)
        return encoded.to(self.config.device), Params(
            limit, params.temperature, params.top_p, params.stops
        )

    def generate(
        self, chat: ChatRequest, emit: Emit, started: Callable[[int], None], cancel: threading.Event
    ) -> dict[str, Any]:
        """Runs on the model's thread: encode, report the prompt size, stream text to `emit`."""
        import torch

        encoded, params = self._encode(chat)
        prompt_len = encoded["input_ids"].shape[1]
        started(prompt_len)
        stop = StopFilter(params.stops)
        sampling: dict[str, Any] = {"do_sample": False}  # temperature 0: greedy
        if params.temperature > 0:
            sampling = {"do_sample": True, "temperature": params.temperature, "top_p": params.top_p}
        tok = self.tokenizer
        with torch.inference_mode():
            out = self.model.generate(
                **encoded,
                **sampling,
                **_hooks(tok, stop, emit, cancel),
                max_new_tokens=params.max_new_tokens,
                pad_token_id=tok.pad_token_id if tok.pad_token_id is not None else tok.eos_token_id,
            )
        generated = out.shape[1] - prompt_len
        eos = self.model.generation_config.eos_token_id
        ended = generated > 0 and int(out[0, -1]) in (eos if isinstance(eos, list) else [eos])
        length = not stop.hit and not ended and generated >= params.max_new_tokens
        finish = "length" if length else "stop"
        return {
            "prompt_tokens": prompt_len,
            "completion_tokens": generated,
            "finish_reason": finish,
        }


def _hooks(tokenizer: Any, stop: StopFilter, emit: Emit, cancel: threading.Event) -> dict[str, Any]:
    """`generate` keywords: a streamer emitting text as words complete; a stop on `cancel`.

    A stop string or a caller that went away sets `cancel`; generation ends at the next token.
    """
    import torch
    from transformers import StoppingCriteria, StoppingCriteriaList, TextStreamer

    class Streamer(TextStreamer):
        def on_finalized_text(self, text: str, stream_end: bool = False) -> None:
            out = stop.feed(text) + (stop.flush() if stream_end else "")
            if out:
                emit(out)
            if stop.hit:
                cancel.set()

    class Cancelled(StoppingCriteria):
        def __call__(self, input_ids: Any, scores: Any, **kwargs: Any) -> Any:
            flag = cancel.is_set()
            size = (input_ids.shape[0],)
            return torch.full(size, flag, dtype=torch.bool, device=input_ids.device)

    return {
        "streamer": Streamer(tokenizer, skip_prompt=True, skip_special_tokens=True),
        "stopping_criteria": StoppingCriteriaList([Cancelled()]),
    }


class WeightsBackend(Backend):
    def __init__(self, config: AgentConfig) -> None:
        super().__init__([m.name for m in config.models])
        self.models = {m.name: LocalModel(m, config) for m in config.models}
        self._loader: asyncio.Task[None] | None = None

    async def start(self) -> None:
        self._loader = asyncio.create_task(self._load_all(), name="load-models")

    async def _load_all(self) -> None:
        """One model after another: importing transformers is not thread-safe."""
        loop = asyncio.get_running_loop()
        for name, model in self.models.items():
            try:
                seconds = await loop.run_in_executor(model.executor, model.load)
            except Exception as exc:  # noqa: BLE001 - reported on /healthz and in the log
                self.state[name], self.errors[name] = FAILED, f"{type(exc).__name__}: {exc}"
                log.error("model %s failed to load: %s", name, self.errors[name])
                continue
            self.state[name] = READY
            log.info(
                "model %s loaded in %.2f s on %s", name, seconds, self.models[name].config.device
            )

    async def close(self) -> None:
        if self._loader is not None:
            self._loader.cancel()
        for model in self.models.values():
            model.executor.shutdown(wait=False, cancel_futures=True)

    async def complete(self, chat: ChatRequest) -> dict[str, Any]:
        self.check(chat.model)
        pieces: list[str] = []
        cancel = threading.Event()
        try:
            outcome = await self.models[chat.model].submit(
                chat, pieces.append, lambda n: None, cancel
            )
        finally:
            cancel.set()  # the caller went away: stop generating
        message = {"role": "assistant", "content": "".join(pieces)}
        choice = {"index": 0, "message": message, "finish_reason": outcome["finish_reason"]}
        used = usage(outcome["prompt_tokens"], outcome["completion_tokens"])
        return completion(completion_id(), chat.model, [choice], used)

    async def open_stream(self, chat: ChatRequest) -> AsyncIterator[bytes]:
        self.check(chat.model)
        loop = asyncio.get_running_loop()
        queue: asyncio.Queue[tuple[str, Any]] = asyncio.Queue()

        def put(kind: str, value: Any) -> None:
            loop.call_soon_threadsafe(queue.put_nowait, (kind, value))

        cancel = threading.Event()
        future = self.models[chat.model].submit(
            chat, lambda text: put("text", text), lambda n: put("started", n), cancel
        )
        future.add_done_callback(lambda f: queue.put_nowait(("end", f)))
        kind, value = await queue.get()
        if kind == "end":  # failed before generating: an ordinary error response
            cancel.set()
            value.result()
        return self._chunks(chat, queue, cancel)

    async def _chunks(
        self, chat: ChatRequest, queue: asyncio.Queue[tuple[str, Any]], cancel: threading.Event
    ) -> AsyncIterator[bytes]:
        cid, created, model = completion_id(), now(), chat.model
        try:
            yield frame(chunk(cid, model, created, {"role": "assistant", "content": ""}))
            while True:
                kind, value = await queue.get()
                if kind == "text":
                    yield frame(chunk(cid, model, created, {"content": value}))
                    continue
                try:
                    outcome = value.result()
                except Exception as exc:  # noqa: BLE001 - reported to the client in-stream
                    log.exception("generation failed mid-stream")
                    yield error_frame(
                        exc if isinstance(exc, GatewayError) else GatewayError(str(exc))
                    )
                    return
                yield frame(chunk(cid, model, created, {}, outcome["finish_reason"]))
                if chat.include_usage:
                    used = usage(outcome["prompt_tokens"], outcome["completion_tokens"])
                    yield frame(usage_chunk(cid, model, created, used))
                yield DONE
                return
        finally:
            cancel.set()
