"""One module per rule; installed as `migrate_bn.transforms`."""

from .bn001_missing_update_ops import MissingUpdateOps
from .bn002_update_ops_collected_early import UpdateOpsCollectedEarly
from .bn003_training_flag_missing import TrainingFlagMissing
from .bn004_training_flag_constant import TrainingFlagConstant
from .bn008_keras_bn_in_session import KerasBatchNormInSession
from .bn009_update_ops_cross_network import UpdateOpsCrossNetwork
from .bn900_unused_suppression import UnusedSuppression

RULES = [MissingUpdateOps, UpdateOpsCollectedEarly, TrainingFlagMissing, TrainingFlagConstant,
         KerasBatchNormInSession, UpdateOpsCrossNetwork, UnusedSuppression]

__all__ = ["RULES", "MissingUpdateOps", "UpdateOpsCollectedEarly", "TrainingFlagMissing", "TrainingFlagConstant",
           "KerasBatchNormInSession", "UpdateOpsCrossNetwork", "UnusedSuppression"]
