"""Build a tiny GPT-2 causal LM with random weights and a tokenizer trained here (no download)."""

from __future__ import annotations

from pathlib import Path

CORPUS = [
    "the quick brown fox jumps over the lazy dog",
    "a local agent serves models to the gateway",
    "hello world from the tiny model",
    "switchyard routes every request to a model",
    "user asks and the assistant answers in words",
    "system prompt tells the model to be brief",
]
# A chat template in the Jinja dialect transformers renders: one line per message.
CHAT_TEMPLATE = (
    "{% for message in messages %}"
    "{{ message['role'] }} : {{ message['content'] }} <sep> "
    "{% endfor %}"
    "{% if add_generation_prompt %}assistant : {% endif %}"
)
SPECIAL = ["<unk>", "<pad>", "<eos>", "<sep>"]


def build_tiny_model(directory: Path, *, seed: int = 0) -> Path:
    """Train a word-level tokenizer on CORPUS, GPT-2 random weights; save to `directory`."""
    import torch
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import GPT2Config, GPT2LMHeadModel, PreTrainedTokenizerFast

    raw = Tokenizer(models.WordLevel(unk_token="<unk>"))
    raw.pre_tokenizer = pre_tokenizers.WhitespaceSplit()
    raw.decoder = decoders.WordPiece(prefix="##")  # joins words with spaces
    raw.train_from_iterator(
        CORPUS + ["user : assistant : system :"], trainers.WordLevelTrainer(special_tokens=SPECIAL)
    )
    tokenizer = PreTrainedTokenizerFast(
        tokenizer_object=raw,
        unk_token="<unk>",
        pad_token="<pad>",
        eos_token="<eos>",
    )
    tokenizer.chat_template = CHAT_TEMPLATE
    torch.manual_seed(seed)
    config = GPT2Config(
        vocab_size=len(tokenizer),
        n_positions=256,
        n_embd=32,
        n_layer=2,
        n_head=2,
        initializer_range=0.5,  # wide random weights: varied words rather than one repeated
        bos_token_id=tokenizer.eos_token_id,
        eos_token_id=tokenizer.eos_token_id,
        pad_token_id=tokenizer.pad_token_id,
    )
    GPT2LMHeadModel(config).save_pretrained(directory)
    tokenizer.save_pretrained(directory)
    return directory
