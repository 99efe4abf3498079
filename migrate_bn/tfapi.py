"""What migrate-bn knows about the TensorFlow APIs: qualified names, defaults, argument maps.

This is the one place API knowledge lives; the fact builder and the rules read these
tables and hold no API names of their own. Every default here was checked against
TensorFlow's and tf-slim's source (see ../shared/reference/bn_semantics.md in the
project's history: sections 1.1, 1.2, 3 T6, T7, T9).

Names are *canonical*: `tensorflow.compat.v1.X` is written `tensorflow.X`, `tf_slim.X`
is written `tensorflow.contrib.slim.X` (tf-slim is the TF 1.15 contrib code moved out),
and the long internal module paths are folded onto their public alias (see
`CANONICAL_PREFIXES`).
"""

from __future__ import annotations

import functools
from typing import Optional
from dataclasses import dataclass

# Longest prefix first: canonical() replaces the first that matches.
CANONICAL_PREFIXES: tuple[tuple[str, str], ...] = (
    ("tensorflow.compat.v1.", "tensorflow."),
    ("tensorflow.compat.v2.", "tensorflow."),
    ("tensorflow.contrib.layers.python.layers.layers.", "tensorflow.contrib.layers."),
    ("tensorflow.contrib.layers.python.layers.optimizers.", "tensorflow.contrib.layers."),
    ("tensorflow.contrib.layers.python.layers.", "tensorflow.contrib.layers."),
    ("tensorflow.contrib.slim.python.slim.", "tensorflow.contrib.slim."),
    ("tensorflow.contrib.framework.python.ops.arg_scope.", "tensorflow.contrib.framework."),
    ("tensorflow.contrib.framework.python.ops.", "tensorflow.contrib.framework."),
    ("tensorflow.contrib.training.python.training.training.", "tensorflow.contrib.training."),
    ("tensorflow.contrib.training.python.training.", "tensorflow.contrib.training."),
    ("tf_slim.layers.layers.", "tensorflow.contrib.layers."),
    ("tf_slim.layers.optimizers.", "tensorflow.contrib.layers."),
    ("tf_slim.layers.", "tensorflow.contrib.layers."),
    ("tf_slim.training.training.", "tensorflow.contrib.training."),
    ("tf_slim.training.", "tensorflow.contrib.training."),
    ("tf_slim.ops.arg_scope.", "tensorflow.contrib.framework."),
    ("tf_slim.", "tensorflow.contrib.slim."),
    ("tensorflow.python.layers.normalization.", "tensorflow.layers."),
    ("tensorflow.python.layers.layers.", "tensorflow.layers."),
    ("tensorflow.python.framework.ops.", "tensorflow."),
    ("tensorflow.python.ops.control_flow_ops.", "tensorflow."),
    ("tensorflow.python.control_flow_ops.", "tensorflow."),  # TF 0.x: `from tensorflow.python import control_flow_ops`
    ("tensorflow.python.training.", "tensorflow.train."),
    ("tensorflow.keras.", "keras."),
    ("tensorflow.python.keras.", "keras."),
    ("tf_keras.", "keras."),
)
# Whole-name spellings that a prefix cannot fold.
CANONICAL_NAMES: dict[str, str] = {
    "tf_slim": "tensorflow.contrib.slim",
    "tensorflow.compat.v1": "tensorflow",
    "tensorflow.compat.v2": "tensorflow",
    "tensorflow.keras": "keras",
    "tf_keras": "keras",
}


@functools.lru_cache(maxsize=65536)
def canonical(name: str) -> str:
    """Fold the many spellings of one API onto one name (memoized: a module resolves
    the same few names thousands of times)."""
    if name in CANONICAL_NAMES:
        return CANONICAL_NAMES[name]
    for prefix, replacement in CANONICAL_PREFIXES:
        if name.startswith(prefix):
            return replacement + name[len(prefix):]
    return name


# --- batch normalization -------------------------------------------------------------

@dataclass(frozen=True)
class BatchNormApi:
    """How one batch-norm API behaves in a TF1 graph."""

    display: str  # how messages name it
    family: str  # "tf.layers" | "contrib" | "keras"
    training_kw: str  # the keyword that says "training"
    training_pos: int | None  # its positional index in the call, if any
    default_training: bool  # what an omitted flag means
    # Where the moving-statistics updates go when nothing overrides it:
    # "collection" (tf.GraphKeys.UPDATE_OPS) or "keras" (layer.updates only).
    updates: str
    updates_kw: str | None = None  # the keyword that redirects them (slim)
    updates_pos: int | None = None
    decay_kw: str = "momentum"
    default_decay: float = 0.99
    is_class: bool = False


_TF_LAYERS_FN = BatchNormApi(
    display="tf.layers.batch_normalization", family="tf.layers", training_kw="training",
    training_pos=14, default_training=False, updates="collection",
)
_TF_LAYERS_CLASS = BatchNormApi(
    display="tf.layers.BatchNormalization", family="tf.layers", training_kw="training",
    training_pos=None, default_training=False, updates="collection", is_class=True,
)
# slim/contrib batch_norm(inputs, decay=0.999, center=True, scale=False, epsilon=0.001,
#   activation_fn=None, param_initializers=None, param_regularizers=None,
#   updates_collections=UPDATE_OPS, is_training=True, ...)
_CONTRIB_BN = BatchNormApi(
    display="tf.contrib.layers.batch_norm", family="contrib", training_kw="is_training", training_pos=9,
    default_training=True, updates="collection", updates_kw="updates_collections",
    updates_pos=8, decay_kw="decay", default_decay=0.999,
)
# The same function, named the way slim users know it.
_SLIM_BN = BatchNormApi(**{**_CONTRIB_BN.__dict__, "display": "slim.batch_norm"})
# Keras layers keep their updates in `layer.updates`, never in UPDATE_OPS (T6).
_KERAS_BN = BatchNormApi(
    display="tf.keras.layers.BatchNormalization", family="keras", training_kw="training",
    training_pos=None, default_training=False, updates="keras", is_class=True,
)

BATCH_NORM_APIS: dict[str, BatchNormApi] = {
    "tensorflow.layers.batch_normalization": _TF_LAYERS_FN,
    "tensorflow.layers.BatchNormalization": _TF_LAYERS_CLASS,
    "tensorflow.contrib.layers.batch_norm": _CONTRIB_BN,
    "tensorflow.contrib.slim.batch_norm": _SLIM_BN,
    "tensorflow.contrib.slim.layers.batch_norm": _SLIM_BN,
    "keras.layers.BatchNormalization": _KERAS_BN,
    "keras.layers.normalization.BatchNormalization": _KERAS_BN,
    "keras.layers.normalization.batch_normalization.BatchNormalization": _KERAS_BN,
    "keras.layers.normalization_v2.BatchNormalization": _KERAS_BN,
    "keras.layers.BatchNormalizationV1": _KERAS_BN,
    "keras.layers.BatchNormalizationV2": _KERAS_BN,
    "keras.layers.experimental.SyncBatchNormalization": _KERAS_BN,
}

# The layers that take `normalizer_fn=` (slim/contrib); the argument alone makes them
# batch-norm sites when it names a batch-norm function.
NORMALIZER_FN_KW = "normalizer_fn"
NORMALIZER_PARAMS_KW = "normalizer_params"

# `functools.partial(slim.batch_norm, is_training=...)` is batch norm with settings.
PARTIAL_FUNCTIONS = frozenset({"functools.partial"})

ARG_SCOPE_FUNCTIONS = frozenset({
    "tensorflow.contrib.framework.arg_scope",
    "tensorflow.contrib.slim.arg_scope",
})

# Slim model-zoo nets whose layers run batch norm (through their arg scopes); alexnet,
# vgg, overfeat, lenet and cifarnet do not, and are absent on purpose.
BATCH_NORM_NETS = frozenset({
    "inception_v1", "inception_v2", "inception_v3", "inception_v4", "inception_resnet_v2",
    "resnet_v1", "resnet_v1_50", "resnet_v1_101", "resnet_v1_152", "resnet_v1_200",
    "resnet_v2", "resnet_v2_50", "resnet_v2_101", "resnet_v2_152", "resnet_v2_200",
    "mobilenet_v1", "mobilenet_v1_075", "mobilenet_v1_050", "mobilenet_v1_025",
    "mobilenet_v2", "mobilenet_v2_140", "mobilenet_v2_035", "mobilenet",
    "build_nasnet_large", "build_nasnet_mobile", "build_nasnet_cifar",
    "build_pnasnet_large", "build_pnasnet_mobile",
    # DenseNet for slim (github.com/pudae/tensorflow-densenet, `nets/densenet.py`), the
    # copy people download beside their code to fine-tune its ImageNet checkpoints.
    "densenet121", "densenet161", "densenet169",
})
# Their arg-scope factories: the batch norm in a slim net comes from here.
BATCH_NORM_ARG_SCOPES = frozenset({
    "inception_arg_scope", "inception_v1_arg_scope", "inception_v2_arg_scope",
    "inception_v3_arg_scope", "inception_v4_arg_scope", "inception_resnet_v2_arg_scope",
    "resnet_arg_scope", "resnet_utils.resnet_arg_scope", "mobilenet_v1_arg_scope",
    "training_scope", "nasnet_large_arg_scope", "nasnet_mobile_arg_scope",
    "nasnet_cifar_arg_scope", "pnasnet_large_arg_scope", "pnasnet_mobile_arg_scope",
    "densenet_arg_scope",
})
# Module names the slim nets live in, wherever the user got them from
# (tensorflow.contrib.slim.nets, tf_slim.nets, models/research/slim's `nets`, a copy).
NET_MODULES = frozenset({
    "inception", "inception_v1", "inception_v2", "inception_v3", "inception_v4",
    "inception_resnet_v2", "resnet_v1", "resnet_v2", "resnet_utils", "mobilenet_v1",
    "mobilenet_v2", "mobilenet", "nasnet", "pnasnet", "nets", "mobilenet.mobilenet_v2", "densenet",
})
# A net arg-scope factory's keyword -> the batch_norm setting it makes.
# The keywords a training flag is passed by (batch norm, dropout, nets).
TRAINING_KEYWORDS = frozenset({"training", "is_training"})
NET_ARG_SCOPE_SETTINGS = {"is_training": "is_training", "batch_norm_decay": "decay", "bn_decay": "decay"}
# Nets that call batch_norm themselves (pre-activation), besides through normalizer_fn.
NETS_CALLING_BATCH_NORM_DIRECTLY = ("resnet_v2",)
# Turning batch norm off in a net's arg scope.
USE_BATCH_NORM_KW = "use_batch_norm"
NET_TRAINING_KW = "is_training"


# --- optimizers and train ops --------------------------------------------------------

# Any callable whose last name component ends like this builds an optimizer
# (tf.train.*Optimizer, tf.contrib.opt.*Optimizer, SyncReplicasOptimizer, horovod's
# DistributedOptimizer, CrossShardOptimizer, a project's own FooOptimizer).
OPTIMIZER_SUFFIX = "Optimizer"
OPTIMIZER_MODULES = frozenset({"keras.optimizers", "keras.optimizers.legacy"})
# Wrappers that return the optimizer they were given.
OPTIMIZER_WRAPPERS = frozenset({
    "tensorflow.train.experimental.enable_mixed_precision_graph_rewrite",
    "tensorflow.contrib.estimator.clip_gradients_by_norm",
})
TRAIN_OP_METHODS = frozenset({"minimize", "apply_gradients"})

# Builders that run the UPDATE_OPS collection themselves (T9): their train ops are right.
TRAIN_OP_BUILDERS = frozenset({
    "tensorflow.contrib.slim.learning.create_train_op",
    "tensorflow.contrib.training.create_train_op",
    "tensorflow.contrib.slim.create_train_op",
    "tensorflow.contrib.layers.optimize_loss",
    "tensorflow.contrib.slim.optimize_loss",
})
# Where a builder takes the update ops it runs: None (the default) means the whole
# UPDATE_OPS collection; an empty list switches them off (tf-slim 1.1.0:
# training/training.py L377, layers/optimizers.py L66 and L163-167).
BUILDER_UPDATE_OPS_KW = "update_ops"
BUILDER_UPDATE_OPS_POSITION: dict[str, Optional[int]] = {
    "tensorflow.contrib.slim.learning.create_train_op": 3,
    "tensorflow.contrib.training.create_train_op": 3,
    "tensorflow.contrib.slim.create_train_op": 3,
    "tensorflow.contrib.layers.optimize_loss": None,
    "tensorflow.contrib.slim.optimize_loss": None,
}
SLIM = "tensorflow.contrib.slim"
SLIM_CREATE_TRAIN_OP = "learning.create_train_op"
# Optimizer.minimize(loss, global_step=None, var_list=None, gate_gradients=1,
#   aggregation_method=None, colocate_gradients_with_ops=False, name=None, grad_loss=None)
# -> slim.learning.create_train_op(total_loss, optimizer, global_step=_USE_GLOBAL_STEP,
#   update_ops=None, variables_to_train=None, ..., check_numerics=True).
# `name` and `grad_loss` have no counterpart: such calls get no create_train_op offer.
MINIMIZE_POSITIONS = ("loss", "global_step", "var_list", "gate_gradients",
                      "aggregation_method", "colocate_gradients_with_ops", "name", "grad_loss")
MINIMIZE_TO_CREATE_TRAIN_OP = {
    "global_step": "global_step",
    "var_list": "variables_to_train",
    "gate_gradients": "gate_gradients",
    "aggregation_method": "aggregation_method",
    "colocate_gradients_with_ops": "colocate_gradients_with_ops",
}


# --- Keras objects in TF1 graphs ------------------------------------------------------

# Models whose `.updates` hold their layers' batch-norm updates.
KERAS_MODEL_CLASSES = frozenset({
    "keras.Sequential", "keras.Model", "keras.models.Sequential", "keras.models.Model",
})
# Calls that only exist in TF1-style graph code.
GRAPH_MODE_CALLS = frozenset({
    "tensorflow.placeholder", "tensorflow.placeholder_with_default", "tensorflow.Session",
    "tensorflow.InteractiveSession", "tensorflow.disable_v2_behavior",
    "tensorflow.disable_eager_execution", "tensorflow.train.MonitoredTrainingSession",
})


# --- sessions ------------------------------------------------------------------------

# Constructors whose objects `.run(fetches, feed_dict)` a step.
SESSION_SUFFIXES = ("Session", "MonitoredTrainingSession", "get_default_session")


# An Estimator model_fn(features, labels, mode, params): `mode == ModeKeys.TRAIN` is the flag.
ESTIMATOR_MODE_PARAM = "mode"

# Calls that hand a trained model to programs outside the project (serving, conversion,
# a frozen graph): whatever they run may read the moving statistics.
MODEL_EXPORTS = frozenset({
    "simple_save", "SavedModelBuilder", "export_savedmodel", "export_saved_model", "freeze_graph",
    "convert_variables_to_constants", "TFLiteConverter", "from_session",
})
# Calls that load a checkpoint's values into a graph (`saver.restore`, ...).
CHECKPOINT_RESTORES = frozenset({"restore", "import_meta_graph", "init_from_checkpoint", "load_weights"})
RESTORE_WORDS = tuple(name.encode() for name in sorted(CHECKPOINT_RESTORES))
# Calls that write a graph's variables where another program can read them: a saver and
# its `save`, Keras and object checkpoints, and the loops that save on their own.
CHECKPOINT_WRITERS = frozenset({
    "Saver", "save", "save_weights", "Checkpoint", "CheckpointManager", "CheckpointSaverHook",
    "MonitoredTrainingSession", "Supervisor", "Estimator", "train_and_evaluate", "export_meta_graph",
    "write_graph",
})
CHECKPOINT_WRITING_LOOPS = ("learning.train",)  # slim.learning.train saves every few minutes
# Words of those calls in raw bytes: a module holding one is read even without batch norm.
EXPORT_WORDS = (b"saved_model", b"export_savedmodel", b"freeze_graph", b"convert_variables_to_constants",
                b"TFLiteConverter", b"simple_save")


# --- batch sizes (model/batch_size.py) -----------------------------------------------
# Calls that form batches, with the position of their batch size when it is not passed
# as `batch_size=`: the queue batchers of `tf.train` (after the tensors) and the
# `tf.data.Dataset` methods (first).
QUEUE_BATCHERS = frozenset({"batch", "shuffle_batch", "batch_join", "shuffle_batch_join",
                            "maybe_batch", "maybe_shuffle_batch", "maybe_batch_join", "maybe_shuffle_batch_join"})
QUEUE_BATCHER_MODULE = "tensorflow.train"
QUEUE_BATCH_SIZE_POSITION = 1
DATASET_BATCHERS = frozenset({"batch", "padded_batch"})
DATASET_BATCH_SIZE_POSITION = 0
BATCH_SIZE_KW = "batch_size"
# Inputs whose first dimension is the batch: `tf.placeholder(dtype, shape)`.
PLACEHOLDERS = frozenset({"placeholder", "placeholder_with_default"})
PLACEHOLDER_SHAPE_POSITION = {"placeholder": 1, "placeholder_with_default": 1}
# Inputs whose batch cannot be told from the call (Keras `Input`, a feedable batch).
UNKNOWN_BATCH_INPUTS = frozenset({"Input", "InputLayer", "from_generator", "unbatch", "rebatch"})
# Calls that join examples along an axis (`axis=` or this position; the default axis).
EXAMPLE_JOINS: dict[str, tuple[int, Optional[int]]] = {"concat": (1, None), "stack": (1, 0)}


# --- the update-ops collection --------------------------------------------------------

UPDATE_OPS_KEY = "UPDATE_OPS"
UPDATE_OPS_STRING = "update_ops"  # the value of tf.GraphKeys.UPDATE_OPS
COLLECTION_READERS = frozenset({
    "tensorflow.get_collection", "tensorflow.get_collection_ref",
    "tensorflow.Graph.get_collection",
})
COLLECTION_READER_METHODS = frozenset({"get_collection", "get_collection_ref"})
COLLECTION_WRITERS = frozenset({"tensorflow.add_to_collection", "tensorflow.add_to_collections"})
# Calls that make one op wait for others: an UPDATE_OPS list inside any of them wires it.
DEPENDENCY_FUNCTIONS = frozenset({
    "tensorflow.control_dependencies", "tensorflow.group", "tensorflow.tuple",
    "tensorflow.with_dependencies", "tensorflow.identity",
})
DEPENDENCY_METHODS = frozenset({"control_dependencies"})
# Keras's own lists of update ops, which count as "the update ops" too.
KERAS_UPDATE_ATTRIBUTES = frozenset({"updates", "get_updates_for"})

# The words a file must contain to matter at all; everything else is never parsed.
# Short on purpose (a long alternation is slow to search): every name in the tables
# above contains one of them, which tests/test_tfapi.py checks.
PREFILTER_WORDS = (
    "batch_norm", "BatchNorm", "normalizer_fn", "UPDATE_OPS", "update_ops",
    "inception", "resnet", "mobilenet", "nasnet", "densenet", "arg_scope", "training_scope",
    # A train op whose batch norm is built in another module of the project.
    "minimize", "apply_gradients",
    # Batch norm written by hand from the batch's moments (BN011, BN012).
    "nn.moments",
)

# What the fixes write, with {tf} standing for the module's own alias of TensorFlow.
CONTROL_DEPENDENCIES_TEMPLATE = (
    "{tf}.control_dependencies({v1}get_collection({v1}GraphKeys.UPDATE_OPS))"
)
TENSORFLOW_MODULES = ("tensorflow", "tensorflow.compat.v1")
# Local names a project gives TensorFlow when it binds it in a module of its own
# (`from .version import tf`): only imports of these names are followed into the
# project module (following every import would parse every imported module).
PROJECT_TENSORFLOW_NAMES = frozenset({"tf", "tf1", "tfv1", "tf_v1", "tf_compat", "tensorflow", "v1"})
# BN004's fix: one flag, False unless a training step feeds True, so evaluation runs
# need no change.
TRAINING_PLACEHOLDER_TEMPLATE = '{name} = {v1}placeholder_with_default(False, shape=(), name="is_training")'
TRAINING_PLACEHOLDER_NAMES = ("is_training", "bn_is_training", "batch_norm_is_training")


# --- advice: moving-average speed, frozen Keras batch norm, learning phase (BN005-BN007) --

# BN005. Every batch-norm API updates its moving statistics as m <- d*m + (1-d)*x, with d
# the `decay` (slim/contrib) or `momentum` (tf.layers, Keras); after n steps d**n of the
# initial value (mean 0, variance 1) is left (bn_semantics.md 3 T14).
HALF_LIFE_FRACTION = 0.5  # "forget half of their initial value"
CONVERGED_FRACTION = 0.01  # "come within 1% of the data's statistics"
# Where the decay goes in a positional call: batch_norm(inputs, decay, ...),
# batch_normalization(inputs, axis, momentum, ...), BatchNormalization(axis, momentum, ...).
DECAY_POSITIONS = {"contrib": 1, "tf.layers": 2}
CLASS_DECAY_POSITION = 1
# `normalizer_params={'decay': ...}` and `arg_scope([slim.batch_norm], decay=...)` use the
# contrib keyword; tf.layers used as a normalizer_fn takes `momentum`.
# The slim nets' arg-scope factories: the keyword that sets their batch norm's decay, and
# its default (tensorflow/models research/slim nets/*.py; checked there).
NET_ARG_SCOPE_DECAYS: dict[str, tuple[str, float]] = {
    "inception_arg_scope": ("batch_norm_decay", 0.9997),
    "inception_v1_arg_scope": ("batch_norm_decay", 0.9997),
    "inception_v2_arg_scope": ("batch_norm_decay", 0.9997),
    "inception_v3_arg_scope": ("batch_norm_decay", 0.9997),
    "inception_v4_arg_scope": ("batch_norm_decay", 0.9997),
    "inception_resnet_v2_arg_scope": ("batch_norm_decay", 0.9997),
    "resnet_arg_scope": ("batch_norm_decay", 0.997),
    "resnet_utils.resnet_arg_scope": ("batch_norm_decay", 0.997),
    "mobilenet_v1_arg_scope": ("batch_norm_decay", 0.9997),
    "training_scope": ("bn_decay", 0.997),  # mobilenet (v2, v3)
    "nasnet_large_arg_scope": ("batch_norm_decay", 0.9997),
    "nasnet_mobile_arg_scope": ("batch_norm_decay", 0.9997),
    "nasnet_cifar_arg_scope": ("batch_norm_decay", 0.9),
    "pnasnet_large_arg_scope": ("batch_norm_decay", 0.9997),
    "pnasnet_mobile_arg_scope": ("batch_norm_decay", 0.9997),
}
# The copies of the nets inside TF 1.x (`tf.contrib.slim.nets`, tf_slim.nets) hard-code
# the inception arg scopes' decay (0.9997) and take no keyword for it.
CONTRIB_NETS_PREFIX = "tensorflow.contrib.slim.nets."
NET_ARG_SCOPES_WITHOUT_DECAY_KW_IN_CONTRIB = ("inception",)
NET_ARG_SCOPE_TRAINING_KW = "is_training"
# How a module states how many steps it trains.
SLIM_TRAIN_FUNCTIONS = frozenset({
    "tensorflow.contrib.slim.learning.train", "tensorflow.contrib.slim.train",
})
SLIM_TRAIN_STEPS_KW = "number_of_steps"
STOP_AT_STEP_HOOKS = frozenset({"tensorflow.train.StopAtStepHook", "tensorflow.estimator.StopAtStepHook"})
STOP_AT_STEP_KWS = ("last_step", "num_steps")
TRAIN_SPECS = frozenset({"tensorflow.estimator.TrainSpec"})
TRAIN_SPEC_STEPS_KW = "max_steps"
ESTIMATOR_TRAIN_METHOD = "train"
ESTIMATOR_STEPS_KWS = ("max_steps", "steps")
KERAS_FIT_METHODS = frozenset({"fit", "fit_generator"})
KERAS_FIT_EPOCHS_KW = "epochs"
KERAS_FIT_DEFAULT_EPOCHS = 1
KERAS_FIT_STEPS_KW = "steps_per_epoch"
RANGE_FUNCTIONS = frozenset({"range", "xrange", "six.moves.range", "six.moves.xrange"})
# `for step in tqdm(range(1000)):` counts as the range it wraps.
LOOP_WRAPPERS = frozenset({"tqdm", "tqdm.tqdm", "tqdm.auto.tqdm", "tqdm.notebook.tqdm"})
# The decays BN005's message suggests, the slowest that settles within the run first.
SUGGESTED_DECAYS = (0.99, 0.95, 0.9)
ARG_SCOPE_NAME = "arg_scope"  # `arg_scope(...)` however it was imported
# Command-line flags whose default a step count may come from: `FLAGS.max_steps` after
# `flags.DEFINE_integer('max_steps', 1000, ...)`, `args.max_steps` after
# `parser.add_argument('--max-steps', default=1000)`.
FLAG_DEFINE_PREFIX = "DEFINE_"
FLAG_DEFINE_NUMERIC = ("integer", "float")
FLAG_NAME_KW = "name"
FLAG_DEFAULT_KW = "default"
ARGPARSE_DEST_KW = "dest"
FLAG_DEFINERS = frozenset({
    "tensorflow.app.flags.DEFINE_integer", "tensorflow.flags.DEFINE_integer",
    "absl.flags.DEFINE_integer", "tensorflow.app.flags.DEFINE_float",
    "tensorflow.flags.DEFINE_float", "absl.flags.DEFINE_float",
})
ARGPARSE_ADD_ARGUMENT = "add_argument"
# The opt-in fix: `migrate-bn fix --unsafe-fixes --bn-momentum 0.99` sets this decay.
BN_MOMENTUM_OPTION = "--bn-momentum"
BN_MOMENTUM_ATTRIBUTE = "bn_momentum"  # the field of the shell's Options it arrives in

# BN006. `trainable` on a batch-norm layer (T10).
TRAINABLE_KW = "trainable"
TRAINABLE_ATTRIBUTE = "trainable"
LAYERS_ATTRIBUTE = "layers"  # `for layer in model.layers:`
# keras.applications models built with BatchNormalization (VGG16/19 have none).
KERAS_APPLICATIONS_PREFIX = "keras.applications."
KERAS_APPLICATIONS_WITH_BATCH_NORM = frozenset({
    "ResNet50", "ResNet101", "ResNet152", "ResNet50V2", "ResNet101V2", "ResNet152V2",
    "InceptionV3", "InceptionResNetV2", "Xception",
    "MobileNet", "MobileNetV2", "MobileNetV3Small", "MobileNetV3Large",
    "DenseNet121", "DenseNet169", "DenseNet201", "NASNetMobile", "NASNetLarge",
    "EfficientNetB0", "EfficientNetB1", "EfficientNetB2", "EfficientNetB3",
    "EfficientNetB4", "EfficientNetB5", "EfficientNetB6", "EfficientNetB7",
})
ISINSTANCE = "isinstance"
KERAS_TRAINING_KW = "training"  # `layer(x, training=False)`
# Words in a layer's name or class that say batch norm (`if 'bn' in layer.name:`).
BATCH_NORM_NAME_WORDS = ("bn", "batch", "norm")
BATCH_NORM_CLASS_WORD = "batchnorm"

# BN007. The global learning phase (T11): deprecated in tf.keras 2.x, absent in Keras 3.
LEARNING_PHASE_SCOPES = frozenset({"keras.backend.learning_phase_scope"})
LEARNING_PHASE_SETTERS = frozenset({"keras.backend.set_learning_phase"})
SET_LEARNING_PHASE_FUNCTIONS = LEARNING_PHASE_SETTERS | LEARNING_PHASE_SCOPES
LEARNING_PHASE_FUNCTIONS = frozenset({"keras.backend.learning_phase"})
# `K.function([model.input, K.learning_phase()], ...)` feeds the phase as an input.
KERAS_BACKEND_FUNCTIONS = frozenset({"keras.backend.function"})

# Files that hold these words can matter to the rules above though they name no
# batch-norm API (a frozen keras.applications model, a learning phase).
PREFILTER_WORDS = PREFILTER_WORDS + (
    "learning_phase", "ResNet", "Inception", "MobileNet", "Xception", "DenseNet", "NASNet",
    "EfficientNet",
)


# --- TF1 -> TF2/Keras mappings (bn_semantics.md sections 2 and 4) -------------------------

KERAS_BATCH_NORM = "tf.keras.layers.BatchNormalization"
# Positional order of the TF1 signatures, to read arguments given by position.
TF_LAYERS_BN_POSITIONS = (
    "inputs", "axis", "momentum", "epsilon", "center", "scale", "beta_initializer",
    "gamma_initializer", "moving_mean_initializer", "moving_variance_initializer",
    "beta_regularizer", "gamma_regularizer", "beta_constraint", "gamma_constraint", "training",
    "trainable", "name", "reuse", "renorm", "renorm_clipping", "renorm_momentum", "fused",
    "virtual_batch_size", "adjustment",
)
SLIM_BN_POSITIONS = (
    "inputs", "decay", "center", "scale", "epsilon", "activation_fn", "param_initializers",
    "param_regularizers", "updates_collections", "is_training", "reuse", "variables_collections",
    "outputs_collections", "trainable", "batch_weights", "fused", "data_format",
    "zero_debias_moving_mean", "scope", "renorm", "renorm_clipping", "renorm_decay", "adjustment",
)


def batch_norm_positions(family: str) -> tuple[str, ...]:
    """A batch-norm call's parameters in positional order, by its API family
    (`BatchNormApi.family`): slim's for "contrib", tf.layers' for the others."""
    return SLIM_BN_POSITIONS if family == "contrib" else TF_LAYERS_BN_POSITIONS


def batch_norm_name_keyword(family: str) -> str:
    """The keyword that names a batch-norm call's variable scope, by API family: slim's
    `scope`, tf.layers' `name`."""
    return "scope" if family == "contrib" else "name"


# TF1 keyword -> Keras constructor keyword, copied as written.
TF_LAYERS_BN_TO_KERAS = {
    "axis": "axis", "momentum": "momentum", "epsilon": "epsilon", "center": "center", "scale": "scale",
    "beta_initializer": "beta_initializer", "gamma_initializer": "gamma_initializer",
    "moving_mean_initializer": "moving_mean_initializer",
    "moving_variance_initializer": "moving_variance_initializer",
    "beta_regularizer": "beta_regularizer", "gamma_regularizer": "gamma_regularizer",
    "beta_constraint": "beta_constraint", "gamma_constraint": "gamma_constraint",
    "trainable": "trainable", "name": "name", "renorm": "renorm", "renorm_clipping": "renorm_clipping",
    "renorm_momentum": "renorm_momentum",
}
SLIM_BN_TO_KERAS = {
    "decay": "momentum", "center": "center", "scale": "scale", "epsilon": "epsilon",
    "trainable": "trainable", "scope": "name", "renorm": "renorm", "renorm_clipping": "renorm_clipping",
    "renorm_decay": "renorm_momentum",
}
# TF1 defaults Keras does not share: always written out (T5: slim decay 0.999, scale False).
SLIM_BN_EXPLICIT_DEFAULTS = {"momentum": "0.999", "scale": "False"}
# param_initializers / param_regularizers keys -> Keras keywords.
SLIM_PARAM_INITIALIZERS = {"beta": "beta_initializer", "gamma": "gamma_initializer",
                           "moving_mean": "moving_mean_initializer",
                           "moving_variance": "moving_variance_initializer"}
SLIM_PARAM_REGULARIZERS = {"beta": "beta_regularizer", "gamma": "gamma_regularizer"}
# Arguments that change nothing in TF2 and are dropped.
BN_DROPPED = frozenset({"fused", "updates_collections", "variables_collections", "outputs_collections",
                        "inputs", "training", "is_training", "reuse", "data_format", "activation_fn",
                        "param_initializers", "param_regularizers"})
# Arguments with no Keras 3 counterpart: the call is left alone with a note.
BN_MANUAL = {
    "batch_weights": "weighted moments have no Keras equivalent",
    "zero_debias_moving_mean": "Keras does not debias the moving mean",
    "virtual_batch_size": "Keras 3 has no virtual_batch_size (tf_keras does)",
    "adjustment": "Keras 3 has no adjustment (tf_keras does)",
}
# tf.compat.v1 initializer spellings -> Keras.
INITIALIZER_NAMES = {
    "tensorflow.zeros_initializer": "'zeros'", "tensorflow.ones_initializer": "'ones'",
    "tensorflow.initializers.zeros": "'zeros'", "tensorflow.initializers.ones": "'ones'",
}
INITIALIZER_CONSTANT = frozenset({"tensorflow.constant_initializer", "tensorflow.initializers.constant"})
# Activation functions applied after slim's batch norm -> a Keras layer.
ACTIVATION_LAYERS = {
    "tensorflow.nn.relu": "tf.keras.layers.ReLU()",
    "tensorflow.nn.relu6": "tf.keras.layers.ReLU(max_value=6.0)",
}

# Optimizers: TF1 class -> (Keras class, argument map, TF1 defaults Keras does not share,
# what cannot be kept exactly). Positional orders are TF1's (bn_semantics.md 4.1).
OPTIMIZER_MAP = {
    "GradientDescentOptimizer": ("SGD", ("learning_rate",), {"learning_rate": "learning_rate"}, {}, None),
    "MomentumOptimizer": ("SGD", ("learning_rate", "momentum", "use_locking", "name", "use_nesterov"),
                          {"learning_rate": "learning_rate", "momentum": "momentum", "use_nesterov": "nesterov"},
                          {}, "the update rules differ (TF1: acc = m*acc + g; Keras: v = m*v - lr*g): "
                              "identical for a constant learning rate, not for a decaying one"),
    "AdamOptimizer": ("Adam", ("learning_rate", "beta1", "beta2", "epsilon"),
                      {"learning_rate": "learning_rate", "beta1": "beta_1", "beta2": "beta_2", "epsilon": "epsilon"},
                      {"learning_rate": "0.001", "epsilon": "1e-08"}, None),
    "RMSPropOptimizer": ("RMSprop", ("learning_rate", "decay", "momentum", "epsilon", "use_locking", "centered"),
                         {"learning_rate": "learning_rate", "decay": "rho", "momentum": "momentum",
                          "epsilon": "epsilon", "centered": "centered"},
                         {"rho": "0.9", "epsilon": "1e-10"},
                         "TF1 starts the mean-square slot at 1.0, Keras at 0: the first steps differ"),
    "AdagradOptimizer": ("Adagrad", ("learning_rate", "initial_accumulator_value"),
                         {"learning_rate": "learning_rate", "initial_accumulator_value": "initial_accumulator_value"},
                         {"initial_accumulator_value": "0.1"}, None),
    "AdadeltaOptimizer": ("Adadelta", ("learning_rate", "rho", "epsilon"),
                          {"learning_rate": "learning_rate", "rho": "rho", "epsilon": "epsilon"},
                          {"learning_rate": "0.001", "rho": "0.95", "epsilon": "1e-08"}, None),
    "FtrlOptimizer": ("Ftrl", ("learning_rate", "learning_rate_power", "initial_accumulator_value",
                               "l1_regularization_strength", "l2_regularization_strength"),
                      {"learning_rate": "learning_rate", "learning_rate_power": "learning_rate_power",
                       "initial_accumulator_value": "initial_accumulator_value",
                       "l1_regularization_strength": "l1_regularization_strength",
                       "l2_regularization_strength": "l2_regularization_strength",
                       "l2_shrinkage_regularization_strength": "l2_shrinkage_regularization_strength"},
                      {}, None),
}
OPTIMIZER_DROPPED = frozenset({"use_locking", "name", "accum_name", "linear_name"})
# A module that never writes this word has no learning-phase call to report.
LEARNING_PHASE_WORD = "learning_phase"
# BN005: how a decay nobody wrote is described.
DEFAULT_DECAY_ORIGIN = " (its default)"
# Control-flow functions whose function arguments run in a frame of their own (a loop's
# or a branch's): the frame's kind, and each function argument as (position, keyword).
# Ops built in such a body live in that frame: a train op outside it cannot depend on
# them (a loop: "inputs from different frames" at run time; a branch: its ops exist
# only when the branch is taken).
FRAME_FUNCTIONS: dict[str, tuple[str, tuple[tuple[Optional[int], str], ...]]] = {
    "tensorflow.map_fn": ("loop", ((0, "fn"),)),
    "tensorflow.scan": ("loop", ((0, "fn"),)),
    "tensorflow.foldl": ("loop", ((0, "fn"),)),
    "tensorflow.foldr": ("loop", ((0, "fn"),)),
    "tensorflow.while_loop": ("loop", ((0, "cond"), (1, "body"))),
    "tensorflow.cond": ("cond", ((1, "true_fn"), (2, "false_fn"), (None, "fn1"), (None, "fn2"))),
    "tensorflow.case": ("cond", ((0, "pred_fn_pairs"), (1, "default"))),
    "tensorflow.switch_case": ("cond", ((1, "branch_fns"), (2, "default"))),
}

# BN010. A cond chooses which branch's result passes, not which ops outside it run.
COND_FUNCTIONS = frozenset({
    "tensorflow.cond", "tensorflow.contrib.framework.smart_cond", "tensorflow.python.framework.smart_cond.smart_cond",
    "tensorflow.contrib.layers.utils.smart_cond", "tensorflow.python.layers.utils.smart_cond",
})
# (position, keyword) of the branch functions (`fn1`/`fn2`: TF 1.0's names).
COND_BRANCHES = ((1, "true_fn"), (2, "false_fn"), (None, "fn1"), (None, "fn2"))
CONTROL_DEPENDENCY_CONTEXTS = frozenset({"tensorflow.control_dependencies"})
# Updates of moving averages written by hand (a project's own batch norm).
MOVING_AVERAGE_UPDATES = frozenset({
    "tensorflow.train.moving_averages.assign_moving_average",
    "tensorflow.contrib.framework.assign_moving_average",
})
MOVING_AVERAGE_CLASSES = frozenset({"tensorflow.train.ExponentialMovingAverage"})
MOVING_AVERAGE_APPLY = "apply"

# --- hand-written batch norm on tf.nn (BN011-BN013) -------------------------------------
# The batch's statistics: `mean, variance = tf.nn.moments(x, axes)`.
MOMENTS = frozenset({"tensorflow.nn.moments"})
# Ops that normalize a tensor with statistics they are given: (position, keyword) of
# the tensor, its mean and its variance (TF1's signatures; the old op's TF2 keywords too).
NORMALIZE_WITH_STATISTICS = {
    "tensorflow.nn.batch_normalization": ((0, "x"), (1, "mean"), (2, "variance")),
    "tensorflow.nn.batch_norm_with_global_normalization": ((0, "t"), (1, "m"), (2, "v")),
}
# BN013: statistics that make the op an identity: mean within this of 0, mean and
# variance (+ epsilon) within this factor of 1.
IDENTITY_TOLERANCE = 0.01
# BN013: ops that compute a layer's output from its input with weights, so the input's
# statistics say nothing of the output's (reshapes, pools and activations are left out:
# they keep the channels or are not followed).
WEIGHTED_LAYER_OPS = frozenset({
    "tensorflow.nn.conv1d", "tensorflow.nn.conv2d", "tensorflow.nn.conv3d", "tensorflow.nn.conv2d_transpose",
    "tensorflow.nn.conv3d_transpose", "tensorflow.nn.depthwise_conv2d", "tensorflow.nn.separable_conv2d",
    "tensorflow.nn.atrous_conv2d", "tensorflow.matmul", "tensorflow.nn.xw_plus_b",
    "tensorflow.layers.conv2d", "tensorflow.layers.dense", "tensorflow.contrib.layers.conv2d",
    "tensorflow.contrib.layers.fully_connected", "tensorflow.contrib.slim.conv2d",
    "tensorflow.contrib.slim.fully_connected",
})
# BN011: what uses an ExponentialMovingAverage: its update op and what reads its shadows.
MOVING_AVERAGE_USES = frozenset({"apply", "average", "average_name", "variables_to_restore"})
# BN012: a graph-time tensor a Python `if` cannot test: a bool placeholder.
BOOL_DTYPES = frozenset({"tensorflow.bool"})

# --- TF1 training script -> native TF2 program (`migrate-bn upgrade`) -------------------
# Canonical names (compat.v1 folded onto `tensorflow.`).

PLACEHOLDER = "tensorflow.placeholder"
PLACEHOLDER_WITH_DEFAULT = "tensorflow.placeholder_with_default"
SESSION_CLASSES = frozenset({"tensorflow.Session"})
VARIABLE_INITIALIZERS = frozenset({"tensorflow.global_variables_initializer",
                                   "tensorflow.initialize_all_variables"})
VARIABLE_SCOPE = "tensorflow.variable_scope"
# `with <one of these>().as_default():` around a script: gone in TF2, which has no graph.
GRAPH_CONSTRUCTORS = frozenset({"tensorflow.Graph", "tensorflow.get_default_graph"})
AUTO_REUSE = "tensorflow.AUTO_REUSE"
# A Saver of every variable becomes the program's `tf.train.Checkpoint`, `save` its `write`.
SAVER = "tensorflow.train.Saver"
SAVER_KEPT_ARGUMENTS = frozenset({"max_to_keep"})
SAVER_SAVE_POSITIONS = ("sess", "save_path", "global_step", "latest_filename", "meta_graph_suffix",
                        "write_meta_graph", "write_state", "strip_default_attrs", "save_debug_info")
NAME_SCOPE = "tensorflow.name_scope"
CONTROL_DEPENDENCIES = "tensorflow.control_dependencies"
# Graph-mode switches and graph resets: a TF2 program has no graph to set up.
GRAPH_SETUP_CALLS = frozenset({
    "tensorflow.disable_v2_behavior", "tensorflow.disable_eager_execution",
    "tensorflow.reset_default_graph", "tensorflow.disable_resource_variables",
})
# A call at a program's top level that starts a new, empty default graph: what comes
# after it trains other models than what came before (graphs.py).
GRAPH_RESETS = frozenset({"tensorflow.reset_default_graph"})
# TF1 call -> its TF2 spelling, same arguments.
RENAMED_CALLS = {"tensorflow.set_random_seed": "tf.random.set_seed"}
OPTIMIZER_PREFIX = "tensorflow.train."


@dataclass(frozen=True)
class LayerApi:
    """A tf.layers function and the Keras layer that computes the same."""

    keras_class: str  # in tf.keras.layers
    base_name: str  # the variable scope TF1 names an unnamed layer after: dense, dense_1, ...
    positions: tuple[str, ...]  # TF1's positional order
    copied: frozenset[str]  # TF1 keywords the Keras constructor takes as written
    weights: tuple[str, ...] = ()  # variable leaves, as TF1 names them and Keras's attributes
    initializers: frozenset[str] = frozenset({"kernel_initializer", "bias_initializer"})
    training: Optional[str] = None  # the argument that switches it between training and inference
    default_training: bool = False  # TF1's default for that argument
    defaults: tuple = ()  # (argument, TF1's default) written out where Keras has none or another


_DENSE_LIKE = frozenset({"activation", "use_bias", "kernel_regularizer", "bias_regularizer",
                         "activity_regularizer", "kernel_constraint", "bias_constraint", "trainable", "name"})
# tf.layers.conv1d/conv2d/conv3d take the same arguments in the same order.
_CONV_POSITIONS = ("inputs", "filters", "kernel_size", "strides", "padding", "data_format", "dilation_rate",
                   "activation", "use_bias", "kernel_initializer", "bias_initializer", "kernel_regularizer",
                   "bias_regularizer", "activity_regularizer", "kernel_constraint", "bias_constraint",
                   "trainable", "name", "reuse")
_CONV_KEYWORDS = _DENSE_LIKE | {"filters", "kernel_size", "strides", "padding", "data_format", "dilation_rate"}
_POOLING = ("inputs", "pool_size", "strides", "padding", "data_format", "name")
LAYERS = {
    "tensorflow.layers.dense": LayerApi(
        "Dense", "dense",
        ("inputs", "units", "activation", "use_bias", "kernel_initializer", "bias_initializer",
         "kernel_regularizer", "bias_regularizer", "activity_regularizer", "kernel_constraint",
         "bias_constraint", "trainable", "name", "reuse"),
        _DENSE_LIKE | {"units"}, ("kernel", "bias")),
    "tensorflow.layers.conv2d": LayerApi(
        "Conv2D", "conv2d",
        _CONV_POSITIONS, _CONV_KEYWORDS, ("kernel", "bias")),
    "tensorflow.layers.conv1d": LayerApi(
        "Conv1D", "conv1d",
        _CONV_POSITIONS, _CONV_KEYWORDS, ("kernel", "bias")),
    "tensorflow.layers.conv3d": LayerApi(
        "Conv3D", "conv3d",
        _CONV_POSITIONS, _CONV_KEYWORDS, ("kernel", "bias")),
    "tensorflow.layers.conv2d_transpose": LayerApi(
        "Conv2DTranspose", "conv2d_transpose",
        ("inputs", "filters", "kernel_size", "strides", "padding", "data_format", "activation", "use_bias",
         "kernel_initializer", "bias_initializer", "kernel_regularizer", "bias_regularizer",
         "activity_regularizer", "kernel_constraint", "bias_constraint", "trainable", "name", "reuse"),
        _DENSE_LIKE | {"filters", "kernel_size", "strides", "padding", "data_format"}, ("kernel", "bias")),
    "tensorflow.layers.flatten": LayerApi("Flatten", "flatten", ("inputs", "name", "data_format"),
                                          frozenset({"name", "data_format"})),
    "tensorflow.layers.max_pooling2d": LayerApi("MaxPooling2D", "max_pooling2d", _POOLING,
                                                frozenset(_POOLING[1:])),
    "tensorflow.layers.average_pooling2d": LayerApi("AveragePooling2D", "average_pooling2d",
                                                    _POOLING, frozenset(_POOLING[1:])),
    # No variables; Keras's random mask differs from TF1's (the equivalence check runs it at rate 0).
    "tensorflow.layers.dropout": LayerApi("Dropout", "dropout", ("inputs", "rate", "noise_shape", "seed", "training",
                                                                 "name"),
                                          frozenset({"rate", "noise_shape", "seed"}), initializers=frozenset(),
                                          training="training", defaults=(("rate", "0.5"),)),
}
# tf.layers classes built and called at once (`tf.layers.Conv2D(8, 3)(x)`) -> the function
# that builds the same class: the constructor takes the function's arguments, in its order,
# without `inputs` and `reuse`, and an unnamed layer gets the same scope (`conv2d`, `conv2d_1`:
# the class's name in snake case, which the function's base name is). Flatten and Dropout are
# left out: their constructors take their arguments in another order.
LAYER_CLASSES = {
    "tensorflow.layers.Dense": "tensorflow.layers.dense",
    "tensorflow.layers.Conv1D": "tensorflow.layers.conv1d",
    "tensorflow.layers.Conv2D": "tensorflow.layers.conv2d",
    "tensorflow.layers.Conv3D": "tensorflow.layers.conv3d",
    "tensorflow.layers.Conv2DTranspose": "tensorflow.layers.conv2d_transpose",
    "tensorflow.layers.MaxPooling2D": "tensorflow.layers.max_pooling2d",
    "tensorflow.layers.AveragePooling2D": "tensorflow.layers.average_pooling2d",
}
LAYER_CLASS_OMITTED = ("inputs", "reuse")  # function parameters the constructor does not take
# The variable scope TF1 gives an unnamed batch norm: tf.layers' layer name, slim's scope.
BATCH_NORM_BASE_NAMES = {"tf.layers": "batch_normalization", "contrib": "BatchNorm"}
# Which batch-norm weights exist: (weight, the argument that decides, its TF1 default).
BATCH_NORM_WEIGHTS = {
    "tf.layers": (("gamma", "scale", True), ("beta", "center", True)),
    "contrib": (("gamma", "scale", False), ("beta", "center", True)),
}
# Everything under `tf.` that TF2 spells and computes as TF1 did, usable in kept code.
TF2_SAME = frozenset({
    "float16", "float32", "float64", "int8", "int16", "int32", "int64", "uint8", "bool", "string",
    "abs", "add", "add_n", "argmax", "argmin", "cast", "clip_by_value", "concat", "constant", "equal",
    "exp", "expand_dims", "gather", "greater", "greater_equal", "identity", "less", "less_equal",
    "logical_and", "logical_not", "logical_or", "matmul", "maximum", "minimum", "multiply", "negative",
    "not_equal", "one_hot", "ones_like", "pow", "range", "reduce_all", "reduce_any", "reduce_max",
    "reduce_mean", "reduce_min", "reduce_prod", "reduce_sum", "reshape", "round", "shape", "sigmoid",
    "sign", "size", "sqrt", "square", "squared_difference", "squeeze", "stack", "subtract", "tanh",
    "tile", "transpose", "unstack", "zeros_like", "math.log", "math.exp", "math.sqrt", "math.square",
    "nn.relu", "nn.relu6", "nn.elu", "nn.selu", "nn.leaky_relu", "nn.sigmoid", "nn.tanh", "nn.softmax",
    "nn.log_softmax", "nn.softplus", "nn.l2_loss", "nn.bias_add",
    "nn.sparse_softmax_cross_entropy_with_logits", "nn.sigmoid_cross_entropy_with_logits", "pad",
})
# Functions of TF2_SAME whose later positional parameters TF2 reordered: the most positional
# arguments that still mean the same (tf.pad: TF1's 4th is `name`, TF2's `constant_values`).
TF2_SAME_POSITIONAL = {"pad": 3}
# TF1 spelling -> TF2 spelling of the same computation (after `tf.`).
TF2_RENAMED = {
    "nn.softmax_cross_entropy_with_logits_v2": "nn.softmax_cross_entropy_with_logits",
    "log": "math.log",
    "rsqrt": "math.rsqrt",
}
# TF1-only keywords of functions otherwise in TF2_SAME.
TF1_ONLY_KEYWORDS = frozenset({"keep_dims", "dimension", "reduction_indices", "axis_name"})
KERAS3_FUSED_NOTE = ("Keras 3 has no fused kernel: on 4-D input the moving variance now accumulates the "
                     "biased batch variance, smaller by 1/(n-1) (docs/tf2-mapping.md)")
# slim fuses 2-D input as well (reshaped to 4-D), which no Keras does.
SLIM_FUSED_2D_NOTE = ("slim fused 2-D input too: there TF1's moving variance accumulated n/(n-1) times the batch "
                      "variance and Keras accumulates the batch variance, for n the batch size (docs/tf2-mapping.md)")
# Batch renormalization is Keras 3's own layer, which has had it since 3.14 only.
KERAS3_RENORM_NOTE = ("batch renormalization is Keras 3's own `renorm` (TF1's computation and variables), which "
                      "needs Keras 3.14 or later")
# Model code: batch norm whose flag is a literal True (or slim's default) and whose updates
# went to UPDATE_OPS. TF1 normalized with the batch's statistics in every run and updated
# its moving statistics only in runs that included the update ops (the train op); the
# converted layer is the exact class with `always_training=True` (exact_bn.py), which does
# the same, taking the model's `training` as "this is the train step".
ALWAYS_TRAINING_NOTE = ("batch norm always in training mode (a literal training=True, or slim's default "
                        "is_training=True): as in TF1 it normalizes with the batch's statistics at every call, "
                        "evaluation and sampling included, and updates its moving statistics only when the model "
                        "is called with training=True, where TF1 ran the update ops (the train step)")
# Model code: a batch norm with in-place updates whose output nothing reads, which TF1 never
# ran (model_code_always.never_run).
NEVER_RUN_NOTE = ("batch norm whose output nothing reads, with in-place updates (updates_collections=None): TF1 "
                  "never ran it and its moving statistics never moved; the Keras layer is built (its weights are "
                  "the checkpoint's) and called in inference mode, which changes nothing")
# Model code (model_code.py) with `--stock-keras-bn`: what stock Keras layers cannot compute,
# refused with the reason (the default, exact layer converts it: exact_bn.py).
MODEL_CODE_STOCK_BN_REFUSED = {
    "zero_debias_moving_mean": "stock Keras layers do not debias the moving mean (TF1 kept it as moving_mean/biased "
                               "over 1 - decay**local_step); the exact layer, the default without --stock-keras-bn, "
                               "does",
    "always_training": "stock Keras layers cannot normalize with the batch's statistics without updating the "
                       "moving statistics, which TF1's batch norm always in training mode did outside its train "
                       "step; the exact layer, the default without --stock-keras-bn, does",
}


@dataclass(frozen=True)
class SlimLayerApi:
    """A slim/contrib layer function and the Keras layer that computes the same (model code)."""

    keras_class: str  # in tf.keras.layers
    base_name: str  # slim's default variable scope: Conv, fully_connected, ...
    positions: tuple[str, ...]  # slim's positional order
    renamed: dict  # slim keyword -> Keras keyword, copied as written
    lowercase: frozenset = frozenset()  # Keras keywords whose literal strings Keras spells in lower case
    weighted: bool = False  # has weights, an activation_fn (default relu) and a normalizer_fn
    defaults: tuple = ()  # (Keras keyword, value) where slim's default is not Keras's
    training: Optional[str] = None  # the argument that switches it between training and inference
    default_training: bool = False  # slim's default for that argument
    complement: tuple = ()  # (slim keyword, Keras keyword taking 1 - its value): keep_prob -> rate
    initializer_keyword: str = "kernel_initializer"  # the Keras keyword slim's weights_initializer is


_SLIM_WEIGHTED = ("normalizer_fn", "normalizer_params", "weights_initializer", "weights_regularizer",
                  "biases_initializer", "biases_regularizer", "reuse", "variables_collections",
                  "outputs_collections", "trainable", "scope")
_SLIM_POOL = ("inputs", "kernel_size", "stride", "padding", "data_format", "outputs_collections", "scope")
SLIM_LAYERS = {
    "tensorflow.contrib.layers.conv2d": SlimLayerApi(
        "Conv2D", "Conv", ("inputs", "num_outputs", "kernel_size", "stride", "padding", "data_format", "rate",
                           "activation_fn") + _SLIM_WEIGHTED,
        {"num_outputs": "filters", "kernel_size": "kernel_size", "stride": "strides", "padding": "padding",
         "rate": "dilation_rate", "trainable": "trainable"},
        frozenset({"padding"}), True, (("padding", "'same'"),)),
    "tensorflow.contrib.layers.fully_connected": SlimLayerApi(
        "Dense", "fully_connected", ("inputs", "num_outputs", "activation_fn") + _SLIM_WEIGHTED,
        {"num_outputs": "units", "trainable": "trainable"}, frozenset(), True),
    "tensorflow.contrib.layers.max_pool2d": SlimLayerApi(
        "MaxPooling2D", "MaxPool2D", _SLIM_POOL,
        {"kernel_size": "pool_size", "stride": "strides", "padding": "padding"}, frozenset({"padding"}),
        defaults=(("strides", "2"),)),
    "tensorflow.contrib.layers.avg_pool2d": SlimLayerApi(
        "AveragePooling2D", "AvgPool2D", _SLIM_POOL,
        {"kernel_size": "pool_size", "stride": "strides", "padding": "padding"}, frozenset({"padding"}),
        defaults=(("strides", "2"),)),
    "tensorflow.contrib.layers.flatten": SlimLayerApi("Flatten", "Flatten", ("inputs", "outputs_collections",
                                                                            "scope"), {}),
    # slim's stride defaults to 1, as Keras's strides do.
    "tensorflow.contrib.layers.conv2d_transpose": SlimLayerApi(
        "Conv2DTranspose", "Conv2d_transpose", ("inputs", "num_outputs", "kernel_size", "stride", "padding",
                                                "data_format", "activation_fn") + _SLIM_WEIGHTED,
        {"num_outputs": "filters", "kernel_size": "kernel_size", "stride": "strides", "padding": "padding",
         "trainable": "trainable"},
        frozenset({"padding"}), True, (("padding", "'same'"),)),
    # No variables; is_training defaults to True (slim's), keep_prob to 0.5.
    "tensorflow.contrib.layers.dropout": SlimLayerApi(
        "Dropout", "Dropout", ("inputs", "keep_prob", "noise_shape", "is_training", "outputs_collections", "scope",
                               "seed"),
        {"noise_shape": "noise_shape", "seed": "seed"}, defaults=(("rate", "0.5"),), training="is_training",
        default_training=True, complement=(("keep_prob", "rate"),)),
}
for _name in list(SLIM_LAYERS):  # slim's own spellings of the same functions
    SLIM_LAYERS[_name.replace("contrib.layers.", "contrib.slim.")] = SLIM_LAYERS[_name]
# slim's data_format values -> Keras's.
SLIM_DATA_FORMATS = {"NHWC": "'channels_last'", "NCHW": "'channels_first'"}


# --- decorated model functions (migrate_bn/model_code_decorators.py) -----------------------

# The decorator that lets `arg_scope` give a function defaults (canonical spellings). It
# changes nothing else: a function no arg_scope names computes what it computes undecorated.
ADD_ARG_SCOPE_DECORATORS = frozenset({
    "tensorflow.contrib.framework.add_arg_scope",
    "tensorflow.contrib.slim.add_arg_scope",
})
# Arguments an arg_scope may give an add_arg_scope model function without changing what
# it computes: slim's end-point collections (what `collect_named_outputs` records).
ARG_SCOPE_OBSERVING_KEYWORDS = frozenset({"outputs_collections"})
# --- Model code: variables the model function creates itself (model_code_variables.py) ---
GET_VARIABLE = "tensorflow.get_variable"
GET_VARIABLE_POSITIONS = ("name", "shape", "dtype", "initializer", "regularizer", "trainable", "collections",
                          "caching_device", "partitioner", "validate_shape", "use_resource", "custom_getter",
                          "constraint", "synchronization", "aggregation")
# get_variable's arguments a converted weight takes; the others must be absent or None
# (validate_shape may be its default, True).
GET_VARIABLE_CONVERTED = frozenset({"name", "shape", "dtype", "initializer", "trainable"})
# TF1's initializer for a float get_variable given none (variable_scope's default): Keras's
# GlorotUniform draws from the same uniform (limit sqrt(6 / (fan_in + fan_out)), fans alike).
GET_VARIABLE_DEFAULT_INITIALIZER = "GlorotUniform()"
# Raw ops that TF2 computes as TF1 did, with TF1 keywords TF2 renamed (after `tf.`) and the
# most positional arguments that mean the same in both (conv2d's 5th is TF1's use_cudnn_on_gpu,
# TF2's data_format; the transposed convolutions' 7th TF1's name, TF2's dilations).
TF2_RAW_OPS = {
    "nn.conv2d": (4, {"filter": "filters"}),
    "nn.conv3d": (7, {"filter": "filters"}),
    "nn.conv2d_transpose": (6, {"value": "input", "filter": "filters"}),
    "nn.conv3d_transpose": (6, {"value": "input", "filter": "filters"}),
    "nn.max_pool": (6, {"value": "input"}),
    # TF1's moments(x, axes, shift, name, keep_dims, keepdims); TF2's (x, axes, shift, keepdims, name).
    "nn.moments": (3, {"keep_dims": "keepdims"}),
    "nn.max_pool3d": (6, {}),
}
# The operand of a raw op that is its weight (TF1's keyword, position): a weight passed in
# as an argument of the model function is not the Keras model's own.
RAW_OP_WEIGHTS = {"nn.conv2d": ("filter", 1), "nn.conv3d": ("filter", 1), "nn.conv2d_transpose": ("filter", 1),
                  "nn.conv3d_transpose": ("filter", 1), "nn.bias_add": ("bias", 1),
                  "matmul": ("b", 1)}
# The TF1 variable leaves of a layer's weights, by the layer kind model_code recognises
# (batch norm: every variable TF1's batch norms make).
BATCH_NORM_LEAVES = frozenset({"gamma", "beta", "moving_mean", "moving_variance", "moving_stddev",
                               "renorm_mean", "renorm_stddev"})
SLIM_WEIGHT_LEAVES = frozenset({"weights", "biases"})


# --- layer kinds and arguments in model code (migrate_bn/model_code_layers.py) ------------

# Keras layers TF1 model code already called (`tf.keras.layers.MaxPool3D(...)(x)`) that hold
# no weights and compute the same in Keras 3: kept as written, built once like the others.
KERAS_WEIGHTLESS_LAYERS = frozenset(
    f"{kind}{rank}D" for rank in (1, 2, 3) for kind in (
        "MaxPool", "MaxPooling", "AveragePooling", "AvgPool", "GlobalMaxPooling", "GlobalAveragePooling",
        "GlobalMaxPool", "GlobalAvgPool", "UpSampling", "ZeroPadding", "Cropping")) | {"Flatten"}
KERAS_LAYERS_MODULE = "keras.layers."  # as names.resolve spells tf.keras.layers
# Modules whose functions model code may call on its tensors or configuration and that run
# the same under TF2 (anything else imported is the project's own code or another library:
# a converted model cannot call its TF1 layers).
TENSOR_CODE_MODULES = frozenset({"numpy", "math", "functools", "operator", "itertools"})


# --- the training flag as a layer's `trainable`, and AUTO_REUSE (migrate_bn/model_code_flags.py) --

# `trainable=<the training flag>` on a slim or tf.layers layer (at the call or by an arg_scope):
# TF1 raises on a tensor there (its layers test `trainable` as a Python bool), so the flag was
# a Python bool, and the variables TF1 trained were made in a build with it True.
TRAINABLE_FLAG_NOTE = ("`trainable=` the training flag: TF1 needed a Python bool there and made the variables "
                       "trainable only in a build with it True; the Keras layers' weights are trainable (what "
                       "the training build made), and `training=False` is inference as before: a program that "
                       "only ever built the model with the flag False (frozen) sets `model.trainable = False`")
# A batch norm's `trainable` other than True (keras_mapping): Keras runs such a layer in inference mode.
BN_NOT_TRAINABLE_NOTE = "trainable=False means inference mode in Keras (BN006): check the intent"
# `reuse=reuse` (a parameter of the model function) on its layers (model_code_flags).
REUSE_PARAMETER_NOTE = ("`reuse=` a parameter of the model function: TF1 shared an earlier build's variables when "
                        "it was True; build the Keras model once and call it again there (the parameter no longer "
                        "shares anything)")


# --- copies of slim nets (migrate_bn/model_code_slim_scopes.py) ----------------------------

# `tf.variable_scope`'s arguments by position (TF1's order), for slim-style scopes
# `variable_scope(scope, default_name, values, reuse=reuse) as sc` (model_code_slim_scopes).
VARIABLE_SCOPE_POSITIONS = ("name_or_scope", "default_name", "values")
# What model code may read of the scope object such a `with` binds (both are strings).
VARIABLE_SCOPE_NAME_ATTRIBUTES = frozenset({"name", "original_name_scope"})
ORIGINAL_NAME_SCOPE_NOTE = ("`original_name_scope` is the variable scope's name and '/' in the Keras model: TF1's "
                            "name scope, the same when the model is built once outside any name_scope (a second "
                            "build or a tower's name_scope would have given TF1 other names, such as `scope_1/`)")
# tf-slim's other names of its layer functions (`conv2d = convolution2d`, ...: one function,
# so one op for arg_scope too, and one Keras layer; model_code_layers.same_slim_op).
SLIM_LAYER_ALIASES = {
    "tensorflow.contrib.layers.convolution2d": "tensorflow.contrib.layers.conv2d",
    "tensorflow.contrib.layers.convolution2d_transpose": "tensorflow.contrib.layers.conv2d_transpose",
}
SLIM_LAYER_ALIASES.update({alias.replace("contrib.layers.", "contrib.slim."): name.replace("contrib.layers.",
                                                                                          "contrib.slim.")
                           for alias, name in list(SLIM_LAYER_ALIASES.items())})
SLIM_LAYERS.update({alias: SLIM_LAYERS[name] for alias, name in SLIM_LAYER_ALIASES.items()})
# slim's separable_convolution2d with `num_outputs=None` is a depthwise convolution only
# (variables `depthwise_weights` [k, k, in, multiplier] and `biases` [in * multiplier], unless
# normalized): Keras's DepthwiseConv2D (weights_initializer is its depthwise_initializer).
# Any other num_outputs (a pointwise convolution too) is refused: `num_outputs` has no
# Keras keyword here.
SLIM_LAYERS["tensorflow.contrib.layers.separable_conv2d"] = SlimLayerApi(
    "DepthwiseConv2D", "SeparableConv2d",
    ("inputs", "num_outputs", "kernel_size", "depth_multiplier", "stride", "padding", "data_format", "rate",
     "activation_fn", "normalizer_fn", "normalizer_params", "weights_initializer", "pointwise_initializer",
     "weights_regularizer", "biases_initializer", "biases_regularizer", "reuse", "variables_collections",
     "outputs_collections", "trainable", "scope"),
    {"kernel_size": "kernel_size", "depth_multiplier": "depth_multiplier", "stride": "strides",
     "padding": "padding", "rate": "dilation_rate", "trainable": "trainable"},
    frozenset({"padding"}), True, (("padding", "'same'"),), initializer_keyword="depthwise_initializer")
SLIM_LAYERS["tensorflow.contrib.slim.separable_conv2d"] = SLIM_LAYERS["tensorflow.contrib.layers.separable_conv2d"]
_DEPTHWISE_ALIASES = {"tensorflow.contrib.layers.separable_convolution2d": "tensorflow.contrib.layers.separable_conv2d",
                      "tensorflow.contrib.slim.separable_convolution2d": "tensorflow.contrib.slim.separable_conv2d"}
SLIM_LAYER_ALIASES.update(_DEPTHWISE_ALIASES)
SLIM_LAYERS.update({alias: SLIM_LAYERS[name] for alias, name in _DEPTHWISE_ALIASES.items()})
# contrib's layer_norm under slim's name (the same function: an arg_scope of either sets it).
SLIM_LAYER_ALIASES["tensorflow.contrib.slim.layer_norm"] = "tensorflow.contrib.layers.layer_norm"


def star_importable(name: str) -> bool:
    """Is `name` (canonical) a library API the tables know, so that a call of its last
    part after `from <its module> import *` may be taken for it (model/star_imports.py)?
    A name the tables do not know stays unknown: the library may define anything."""
    return name in BATCH_NORM_APIS or name in ARG_SCOPE_FUNCTIONS or name in TRAIN_OP_BUILDERS or \
        name in SLIM_LAYERS
