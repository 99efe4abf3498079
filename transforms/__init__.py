"""One module per rule; installed as `migrate_bn.transforms`."""

from .bn001_missing_update_ops import MissingUpdateOps
from .bn002_update_ops_collected_early import UpdateOpsCollectedEarly
from .bn003_training_flag_missing import TrainingFlagMissing
from .bn004_training_flag_constant import TrainingFlagConstant
from .bn005_slow_moving_average import SlowMovingAverage
from .bn006_keras_frozen_bn import KerasFrozenBatchNorm
from .bn007_learning_phase import LearningPhase
from .bn008_keras_bn_in_session import KerasBatchNormInSession
from .bn009_update_ops_cross_network import UpdateOpsCrossNetwork
from .bn010_update_outside_cond import UpdateOutsideCond
from .bn011_moving_average_never_applied import MovingAverageNeverApplied
from .bn012_python_branch_on_tensor import PythonBranchOnTensorFlag
from .bn013_statistics_not_of_input import StatisticsNotOfInput
from .bn900_unused_suppression import UnusedSuppression

RULES = [MissingUpdateOps, UpdateOpsCollectedEarly, TrainingFlagMissing, TrainingFlagConstant,
         SlowMovingAverage, KerasFrozenBatchNorm, LearningPhase,
         KerasBatchNormInSession, UpdateOpsCrossNetwork, UpdateOutsideCond, MovingAverageNeverApplied,
         PythonBranchOnTensorFlag, StatisticsNotOfInput, UnusedSuppression]

__all__ = ["RULES", "MissingUpdateOps", "UpdateOpsCollectedEarly", "TrainingFlagMissing", "TrainingFlagConstant",
           "SlowMovingAverage", "KerasFrozenBatchNorm", "LearningPhase",
           "KerasBatchNormInSession", "UpdateOpsCrossNetwork", "UpdateOutsideCond", "MovingAverageNeverApplied",
           "PythonBranchOnTensorFlag", "StatisticsNotOfInput", "UnusedSuppression"]
