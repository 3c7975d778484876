"""Policy mode: the asynchronous GA3C-style trainer (workers, predictors, trainers) and serial mode."""

from scinet.trainer.config import PolicyConfig
from scinet.trainer.run import TrainingResult, train_policy

__all__ = ["PolicyConfig", "TrainingResult", "train_policy"]
