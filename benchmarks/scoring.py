"""Scoring throughput: tweetsent's scorer vs ``transformers.pipeline`` on the same fine-tuned model.

    .venv/bin/python benchmarks/scoring.py --model HOME/models/vN [--airline PATH] [--count 5000]

Every contender runs in its own fresh process on the same model folder, the same ``count`` real
airline tweets (cleaned text, as stored) and the same cores, after a short warm-up:

- ``pipeline``: ``pipeline("text-classification")`` with its default batch size (1);
- ``pipeline bs32``: the same with ``batch_size=32``;
- ``tweetsent fp32``: ``SentimentClassifier.predict_proba`` (tokenized once, length-sorted batches
  of 64 padded per batch, ``inference_mode``, one thread per core), int8 off;
- ``tweetsent bf16``: the same with bf16 weights (fast where the CPU has AMX / AVX512-BF16);
- ``onnx fp32``: the same batches through ONNX Runtime, the model exported with ``torch.onnx``;
- ``tweetsent int8`` (``onnx int8 dynamic``): what ``TWEETSENT_QUANTIZE=on`` scores with, the
  model folder's ``model.int8.onnx`` (dynamic int8, per-channel weights; written on first use);
- ``onnx int8 static``: the export quantized statically instead (QDQ, activation ranges
  calibrated on 512 training tweets, i.e. airline tweets outside the frozen test set);
- ``tweetsent scorer``: the real path, ``score_unscored`` reading the tweets from a fresh SQLite
  database and writing their scores back, with ``TWEETSENT_PRECISION`` and ``TWEETSENT_QUANTIZE``
  as set (default auto: what ``tweetsent score`` does with this model on this machine).

Each also predicts the model's frozen test set (read from the model's own database, i.e. the
airline test split it was evaluated on; ``--test-db`` to point elsewhere), so the quality cost of
every speed-up is shown as macro-F1 next to its speed. Prints a table with tweets/s, peak RSS,
macro-F1 and the ratios, then one JSON line with the figures.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from harness import DEFAULT_AIRLINE, LABELS, airline_records, cpu_line, macro_f1, peak_rss_mb, print_table, run_child  # noqa: E402

CONTENDERS = ("pipeline", "pipeline_bs32", "tweetsent_fp32", "tweetsent_bf16", "onnx_fp32", "tweetsent_int8", "onnx_int8_static", "tweetsent_scorer")
WARMUP = 64
CALIBRATION = 512


def frozen_test_set(db_url: str, label_set: str) -> tuple[list[str], list[str]]:
    from sqlalchemy import create_engine, select

    from sentiment.store import test_tweets, tweets

    engine = create_engine(db_url)
    query = (
        select(tweets.c.clean_text, test_tweets.c.label)
        .join(test_tweets, test_tweets.c.tweet_id == tweets.c.id)
        .where(test_tweets.c.label_set == label_set)
        .order_by(tweets.c.id)
    )
    with engine.connect() as conn:
        rows = conn.execute(query).all()
    engine.dispose()
    return [r[0] for r in rows], [r[1] for r in rows]


def prepare_inputs(args, workdir: Path) -> dict:
    records = airline_records(args.airline)
    speed = [r["clean_text"] for r in records[: args.count]]
    db = args.test_db or f"sqlite:///{Path(args.model).resolve().parents[1] / 'tweetsent.db'}"
    try:
        test_texts, test_gold = frozen_test_set(db, ",".join(LABELS))
        test_from = f"frozen test set of {db}"
    except Exception as exc:  # noqa: BLE001 - any failure: fall back, and say so
        test_texts, test_gold = [], []
        test_from = f"({exc.__class__.__name__})"
    if not test_texts:
        from sentiment.data.sampling import stratified_split

        _, held = stratified_split([{**r, "tweet_id": r["id"]} for r in records], 0.15, 13)
        test_texts, test_gold = [r["clean_text"] for r in held], [r["label"] for r in held]
        test_from = "a stratified 15% of the airline file (seed 13): the model's database had no frozen test set " + test_from
    held_out = set(test_texts)
    calibration = [r["clean_text"] for r in records if r["clean_text"] not in held_out][-CALIBRATION:]
    inputs = {
        "speed": speed, "airline": str(args.airline), "count": args.count, "test_texts": test_texts, "test_gold": test_gold, "test_from": test_from,
        "calibration": calibration,
    }
    path = workdir / "inputs.json"
    path.write_text(json.dumps(inputs, default=str))
    return {"path": path, **inputs}


def run_contender(name: str, model: str, inputs_path: Path, batch_size: int) -> dict:
    """Runs in a child process: returns tweets/s, peak RSS and test macro-F1 of one contender."""
    inputs = json.loads(Path(inputs_path).read_text())
    speed, test_texts, gold = inputs["speed"], inputs["test_texts"], inputs["test_gold"]
    if name.startswith("pipeline"):
        from transformers import pipeline

        pipe = pipeline("text-classification", model=model, device=-1)
        kwargs = {"batch_size": 32} if name == "pipeline_bs32" else {}
        predict = lambda texts: [o["label"] for o in pipe(list(texts), truncation=True, **kwargs)]  # noqa: E731
        predict(speed[:WARMUP])
        started = time.perf_counter()
        predict(speed)
        seconds = time.perf_counter() - started
        detail = "default batch size" if not kwargs else "batch_size=32"
    else:
        from sentiment.model.scoring import cached_classifier
        from sentiment.settings import Settings

        fixed = {"tweetsent_fp32": ("off", "fp32"), "tweetsent_bf16": ("off", "bf16"), "tweetsent_int8": ("on", "fp32")}
        settings = Settings()
        quantize, precision = fixed.get(name, (settings.quantize, settings.precision))
        if name in ("onnx_fp32", "onnx_int8_static"):
            classifier = onnx_classifier(name, model, Path(inputs_path).parent, inputs["calibration"], batch_size)
        else:
            classifier = cached_classifier(model, "cpu", quantize, 0, precision)
        predict = lambda texts: classifier.predict(list(texts), batch_size=batch_size)  # noqa: E731
        predict(speed[:WARMUP])
        if name == "tweetsent_scorer":
            records = airline_records(Path(inputs["airline"]))[: inputs["count"]]  # the tweets timed above, with their types
            seconds = time_scorer(classifier, records, batch_size)
        else:
            started = time.perf_counter()
            predict(speed)
            seconds = time.perf_counter() - started
        runtime = "onnxruntime" if classifier.runner is not None else "torch"
        detail = f"batch {batch_size}, {classifier.precision} ({runtime}), {__import__('torch').get_num_threads()} threads"
    f1 = macro_f1(gold, predict(test_texts))
    return {"name": name, "tweets": len(speed), "seconds": seconds, "tweets_per_s": len(speed) / seconds, "peak_rss_mb": peak_rss_mb(), "macro_f1": f1, "detail": detail}


def onnx_classifier(name: str, model: str, workdir: Path, calibration: list[str], batch_size: int):
    """The model's classifier computing its logits in ONNX Runtime from an fp32 export
    (``onnx_fp32``) or a static int8 one (``onnx_int8_static``), both written under ``workdir``."""
    import torch

    from sentiment.model.classifier import SentimentClassifier, configure_cpu_threads
    from sentiment.model.onnx_int8 import OnnxRunner, export_onnx, quiet_export

    configure_cpu_threads(0)
    source = SentimentClassifier.load(Path(model), quantize="off", precision="fp32")
    fp32 = workdir / f"{name}-fp32.onnx"
    with quiet_export():
        export_onnx(source.model, fp32)
        path = fp32 if name == "onnx_fp32" else quantize_static_int8(source, fp32, workdir / f"{name}.onnx", calibration, batch_size)
    classifier = SentimentClassifier(None, source.tokenizer, source.config, precision="fp32" if name == "onnx_fp32" else "int8", runner=OnnxRunner(path, torch.get_num_threads()))
    classifier.temperature = source.temperature
    return classifier


def quantize_static_int8(source, fp32: Path, target: Path, calibration: list[str], batch_size: int) -> Path:
    """Static int8 (QDQ): MatMul weights per channel, activation ranges calibrated (min-max) on
    ``calibration`` in the batches scoring makes (length-sorted, padded per batch)."""
    from onnxruntime.quantization import CalibrationDataReader, CalibrationMethod, QuantFormat, QuantType, quantize_static
    from onnxruntime.quantization.shape_inference import quant_pre_process

    from sentiment.model.classifier import length_sorted_batches, padded_batch

    ids = source.token_ids(calibration)

    class Batches(CalibrationDataReader):
        def __init__(self):
            self.feeds = iter(
                dict(zip(("input_ids", "attention_mask"), (t.numpy() for t in padded_batch(source.tokenizer, ids, index))))
                for index in length_sorted_batches([len(x) for x in ids], batch_size)
            )

        def get_next(self):
            return next(self.feeds, None)

    prepared = target.with_suffix(".prepared.onnx")
    quant_pre_process(str(fp32), str(prepared), skip_symbolic_shape=True)
    quantize_static(
        str(prepared), str(target), Batches(), quant_format=QuantFormat.QDQ, per_channel=True, activation_type=QuantType.QUInt8,
        weight_type=QuantType.QInt8, calibrate_method=CalibrationMethod.MinMax, op_types_to_quantize=["MatMul"],
    )
    return target


def time_scorer(classifier, records: list[dict], batch_size: int) -> float:
    """Store the tweets in a fresh SQLite database, then time ``score_unscored`` over all of them."""
    from sentiment.data import ingest as lib
    from sentiment.data.records import SourceBatch
    from sentiment.data.validation import validate_records
    from sentiment.model.scoring import score_unscored
    from sentiment.settings import Settings
    from sentiment.store import init_db, make_engine, registry

    workdir = Path(tempfile.mkdtemp(prefix="tweetsent-score-bench-"))
    engine = make_engine(f"sqlite:///{workdir / 'bench.db'}")
    init_db(engine)
    batch = SourceBatch(source="airline", origin="benchmark", fingerprint="scoring-benchmark", format="airline_csv", records=records)
    lib.store_batch(engine, lib.clean_batch(lib.dedupe_batch(batch, validate_records(records, LABELS, 1000))))
    version_id, _ = registry.create_version(
        engine, base_checkpoint="benchmark", label_set=",".join(LABELS), hyperparameters={}, data_snapshot={}, models_dir=workdir / "models"
    )
    settings = Settings(home=workdir)
    summary = score_unscored(engine, classifier, version_id, chunk=settings.score_chunk, batch_size=batch_size)
    engine.dispose()
    if summary.scored != len(records):
        raise RuntimeError(f"scored {summary.scored} of {len(records)} tweets")
    return summary.seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--model", required=False, help="A fine-tuned tweetsent model folder (HOME/models/vN).")
    parser.add_argument("--airline", type=Path, default=DEFAULT_AIRLINE)
    parser.add_argument("--count", type=int, default=5000, help="Tweets to score per contender.")
    parser.add_argument("--batch-size", type=int, default=64, help="tweetsent's scoring batch size (TWEETSENT_SCORE_BATCH_SIZE).")
    parser.add_argument("--test-db", help="Database holding the frozen test set (default: the model's home database).")
    parser.add_argument("--only", nargs="+", choices=CONTENDERS, default=list(CONTENDERS))
    parser.add_argument("--contender", help=argparse.SUPPRESS)
    parser.add_argument("--inputs", help=argparse.SUPPRESS)
    args = parser.parse_args()

    if args.contender:  # child process
        print(json.dumps(run_contender(args.contender, args.model, Path(args.inputs), args.batch_size)))
        return
    if not args.model or not (Path(args.model) / "tweetsent.json").is_file():
        parser.error("--model: give a fine-tuned tweetsent model folder (e.g. var/models/v1; `tweetsent train` makes one)")
    print(f"machine: {cpu_line()}")
    workdir = Path(tempfile.mkdtemp(prefix="tweetsent-bench-"))
    inputs = prepare_inputs(args, workdir)
    print(f"model {args.model}; {len(inputs['speed'])} airline tweets timed; macro-F1 on {len(inputs['test_texts'])} tweets: {inputs['test_from']}")
    results = {}
    for name in args.only:
        child = [__file__, "--contender", name, "--model", args.model, "--inputs", str(inputs["path"]), "--batch-size", str(args.batch_size)]
        results[name] = run_child(child)
        r = results[name]
        print(f"  {name}: {r['tweets_per_s']:.1f} tweets/s, macro-F1 {r['macro_f1']:.4f}, peak RSS {r['peak_rss_mb']:.0f} MB", flush=True)

    reference_f1 = results.get("tweetsent_fp32", results.get("pipeline", {})).get("macro_f1")
    rows = []
    for name, r in results.items():
        row = {
            "contender": name,
            "detail": r["detail"],
            "tweets/s": f"{r['tweets_per_s']:.1f}",
            "peak RSS MB": f"{r['peak_rss_mb']:.0f}",
            "macro-F1": f"{r['macro_f1']:.4f}",
            "F1 vs fp32 (points)": f"{100 * (r['macro_f1'] - reference_f1):+.2f}" if reference_f1 is not None else "",
        }
        for base in ("pipeline", "pipeline_bs32"):
            if base in results:
                row[f"x {base}"] = f"{r['tweets_per_s'] / results[base]['tweets_per_s']:.2f}"
        rows.append(row)
    print()
    print_table(rows, list(rows[0]))
    summary = {f"{name}_per_s": round(r["tweets_per_s"], 1) for name, r in results.items()}
    summary.update({f"{name}_peak_rss_mb": round(r["peak_rss_mb"]) for name, r in results.items()})
    summary.update({f"{name}_macro_f1": round(r["macro_f1"], 4) for name, r in results.items()})
    best = "tweetsent_scorer" if "tweetsent_scorer" in results else "tweetsent_int8"
    if best in results:
        for base, key in (("pipeline", "ratio_vs_pipeline"), ("pipeline_bs32", "ratio_vs_bs32")):
            if base in results:
                summary[key] = round(results[best]["tweets_per_s"] / results[base]["tweets_per_s"], 2)
        if reference_f1 is not None:
            summary["macro_f1_delta"] = round(results[best]["macro_f1"] - reference_f1, 4)
        summary["measured"] = best
    summary["tweets"] = len(inputs["speed"])
    summary["test_tweets"] = len(inputs["test_texts"])
    print(json.dumps(summary))


if __name__ == "__main__":
    main()
