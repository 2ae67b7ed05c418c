"""A saved model folder: what it must hold, and which file is wrong when it cannot be loaded.

Folders are written under a temporary name and renamed when complete, so a folder with the
version's name is complete unless something damaged it afterwards.
"""

from __future__ import annotations

from pathlib import Path


def model_folder_problem(folder: Path) -> str | None:
    """Which file of a saved model folder is missing or damaged (in words), or None when each file
    is readable: checked before loading, because the libraries' own errors run to pages and name
    no file."""
    import json

    if not folder.is_dir():
        return f"{folder} is missing or not a folder"
    meta = folder / "tweetsent.json"
    for path in (meta, folder / "config.json", folder / "model.safetensors"):
        if not path.is_file():
            return f"{path} is missing (an incomplete model folder)"
    for path in (meta, folder / "config.json", folder / "tokenizer.json"):
        if path.is_file():
            try:
                data = json.loads(path.read_text(encoding="utf-8"))
            except (OSError, UnicodeDecodeError, ValueError) as exc:
                return f"{path} is damaged ({first_line(exc)})"
            if path == meta and not (isinstance(data, dict) and {"labels", "max_length", "base_checkpoint"} <= set(data.get("config") or {})):
                return f"{path} is damaged (no model config in it)"
    if not (folder / "tokenizer.json").is_file() and not (folder / "vocab.txt").is_file():
        return f"{folder} has no tokenizer (tokenizer.json or vocab.txt is missing)"
    try:
        from safetensors import safe_open

        with safe_open(str(folder / "model.safetensors"), framework="pt") as weights:
            if not list(weights.keys()):
                return f"{folder / 'model.safetensors'} is damaged (no tensors in it)"
    except Exception as exc:  # safetensors' SafetensorError: a truncated or overwritten file
        return f"{folder / 'model.safetensors'} is damaged ({first_line(exc)})"
    return None


def first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return (text[0] if text else type(exc).__name__)[:300]
