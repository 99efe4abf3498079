"""One module per rule; installed as `migrate_bn.transforms`."""

from .bn001_missing_update_ops import MissingUpdateOps
from .bn002_update_ops_collected_early import UpdateOpsCollectedEarly

RULES = [MissingUpdateOps, UpdateOpsCollectedEarly]

__all__ = ["RULES", "MissingUpdateOps", "UpdateOpsCollectedEarly"]
