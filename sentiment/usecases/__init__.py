"""What a user (or a schedule) does with tweetsent, one function per job.

The Prefect tasks in ``tasks/``, the command line in ``flows/cli/`` and the scripts in
``benchmarks/`` all call these functions, so each job has one path: a labelled file is prepared the
same way for ingest, evaluation and benchmarks, and a model version is evaluated the same way after
training and by ``tweetsent evaluate``. Steps pass references (a version id, a folder), never live
models, so any step can run in another process or on another machine.

Each function takes the :class:`~sentiment.settings.Settings` and an optional ``logger`` (a Prefect
run logger inside a flow, a plain ``logging.Logger`` elsewhere).
"""

from sentiment.usecases.evaluation import Evaluation, evaluate_candidate, evaluate_file, evaluate_version, test_set_of
from sentiment.usecases.prepare import LabelledFile, prepare_labelled_file
from sentiment.usecases.promotion import QualityGateFailed, decide_promotion, enforce_gates, promote_by_hand
from sentiment.usecases.reporting import write_daily, write_evaluation
from sentiment.usecases.scoring import find_champion, require_champion, score_new_tweets
from sentiment.usecases.testsets import renew_test_set, test_set_status
from sentiment.usecases.training import Candidate, prior_record, rebalance_training_set, split_for_training, train_candidate

__all__ = [
    "Candidate",
    "Evaluation",
    "LabelledFile",
    "QualityGateFailed",
    "decide_promotion",
    "enforce_gates",
    "evaluate_candidate",
    "evaluate_file",
    "evaluate_version",
    "find_champion",
    "prepare_labelled_file",
    "prior_record",
    "promote_by_hand",
    "rebalance_training_set",
    "renew_test_set",
    "require_champion",
    "score_new_tweets",
    "split_for_training",
    "test_set_of",
    "test_set_status",
    "train_candidate",
    "write_daily",
    "write_evaluation",
]
