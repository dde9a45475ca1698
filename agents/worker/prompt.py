"""Chat messages → the prompt text a causal LM continues, and the request's generation settings."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from agents.worker.stopping import stop_list
from gateway.dataplane.errors import InvalidRequest
from gateway.dataplane.validation import ChatRequest


@dataclass(frozen=True, slots=True)
class Params:
    max_new_tokens: int
    temperature: float
    top_p: float
    stops: list[str]


def text_of(content: Any) -> str:
    """A message's content as plain text (the weight backend reads text parts only)."""
    if isinstance(content, list):
        return "".join(
            p.get("text", "") for p in content if isinstance(p, dict) and p.get("type") == "text"
        )
    return content or ""


def render(tokenizer: Any, messages: list[dict[str, Any]]) -> tuple[str, bool]:
    """(prompt text, whether the tokenizer should add its own special tokens)."""
    plain = [{"role": m["role"], "content": text_of(m.get("content"))} for m in messages]
    if getattr(tokenizer, "chat_template", None):
        # Chat templates write their own BOS and role markers.
        return tokenizer.apply_chat_template(
            plain, add_generation_prompt=True, tokenize=False
        ), False
    transcript = "".join(f"{m['role']}: {m['content']}\n" for m in plain)
    return transcript + "assistant:", True


def params_for(chat: ChatRequest, *, default_max_tokens: int) -> Params:
    """The request's sampling settings; what a local text model cannot do → 400 naming the param."""
    body = chat.body
    if "vision" in chat.capabilities:
        raise InvalidRequest(
            "This local model reads text only; image inputs are not supported", param="messages"
        )
    if body.get("tools"):
        raise InvalidRequest("This local model does not support tools", param="tools")
    if (body.get("n") or 1) != 1:
        raise InvalidRequest(
            "This local model generates one choice per request ('n' must be 1)", param="n"
        )
    temperature = body.get("temperature")
    top_p = body.get("top_p")
    return Params(
        max_new_tokens=body.get("max_completion_tokens")
        or body.get("max_tokens")
        or default_max_tokens,
        temperature=1.0 if temperature is None else float(temperature),
        top_p=1.0 if top_p is None else float(top_p),
        stops=stop_list(body.get("stop")),
    )


def resolve_source(source: str, cache_dir: Path) -> tuple[str, dict[str, str]]:
    """A model directory, a directory under HF_CACHE_DIR, or a hub id in HF_CACHE_DIR's hub cache.

    Returns what `from_pretrained` takes and its extra keyword arguments; never downloads.
    """
    path = Path(source).expanduser()
    if path.is_dir():
        return str(path), {}
    if (cache_dir / source).is_dir():
        return str(cache_dir / source), {}
    if "/" in source and (cache_dir / ("models--" + source.replace("/", "--"))).is_dir():
        return source, {"cache_dir": str(cache_dir)}
    raise FileNotFoundError(
        f"model source '{source}' is neither a directory nor in HF_CACHE_DIR ({cache_dir}); "
        "the agent never downloads weights: put them there first"
    )
