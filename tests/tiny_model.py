"""A tiny, randomly initialised BERT with the packaged vocabulary: a real checkpoint folder that
loads like any other, for fast tests of the model path (it learns little; smoke tests that need a
metric floor use the packaged model)."""

from __future__ import annotations

from pathlib import Path


def make_tiny_checkpoint(folder: Path) -> Path:
    from transformers import BertConfig, BertModel, BertTokenizerFast

    from sentiment.model.classifier import resolve_checkpoint
    from sentiment.settings import PACKAGED_MODEL

    if (folder / "config.json").is_file():
        return folder
    import torch

    torch.manual_seed(0)
    tokenizer = BertTokenizerFast.from_pretrained(resolve_checkpoint(PACKAGED_MODEL))
    config = BertConfig(
        vocab_size=tokenizer.vocab_size, hidden_size=32, num_hidden_layers=2, num_attention_heads=2, intermediate_size=64, max_position_embeddings=128
    )
    BertModel(config).save_pretrained(folder, safe_serialization=True)
    tokenizer.save_pretrained(folder)
    return folder
