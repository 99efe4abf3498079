"""Run an unmodified TF1 script under TF 2.x and record its batch-norm statistics.

Usage: python tests/runtime/tf1_harness.py SCRIPT.py OUT.json

Test infrastructure only: nothing in the migrate_bn package may import this.
The script is observed from the outside, so fixtures stay plausible user code.
"""
import importlib
import json
import os
import random
import runpy
import sys
import traceback
import types

# Must be set before TensorFlow is imported, or the C++ logger has already
# read it.
os.environ["TF_CPP_MIN_LOG_LEVEL"] = "3"

import numpy as np  # noqa: E402
import tensorflow.compat.v1 as tf1  # noqa: E402
from tensorflow.python.client import session as _session_mod  # noqa: E402

tf1.disable_v2_behavior()
tf1.logging.set_verbosity(tf1.logging.ERROR)

import tf_slim  # noqa: E402
import tf_slim.nets  # noqa: E402,F401  (not imported by `import tf_slim`)

STAT_MARKERS = ("moving_mean", "moving_variance")

# One entry per session, in creation order; filled in when the session closes.
_records = []
# Strong references on purpose: a session the script drops would otherwise be
# closed by __del__ at some arbitrary point (possibly interpreter teardown);
# holding it lets main() read it deliberately once the script has finished.
_open_sessions = []


def _snapshot(sess):
    """Read every moving statistic in the session's graph, skipping ones that
    were never initialised (a script may close before running the init op)."""
    stats = [v for v in sess.graph.get_collection(tf1.GraphKeys.GLOBAL_VARIABLES)
             if any(m in v.op.name for m in STAT_MARKERS)]
    values = {}
    try:
        pairs = list(zip(stats, sess.run(stats))) if stats else []
    except tf1.errors.FailedPreconditionError:
        pairs = []
        for v in stats:
            try:
                pairs.append((v, sess.run(v)))
            except tf1.errors.FailedPreconditionError:
                continue
    for v, val in pairs:
        values[v.op.name] = np.asarray(val, dtype=np.float64).ravel().tolist()
    record = {"variables": values}
    probe = _probe(sess)
    if probe is not None:
        record["probe"] = probe
    return record


def _probe(sess):
    """With MIGRATE_BN_PROBE=INPUT:OUTPUT[:FLAG] (tensor names), predict the same first
    example inside two batches whose other examples differ, feeding nothing else (but
    False to FLAG, the program's own training flag, as its evaluation does): in inference
    mode the two predictions agree; with batch statistics they do not."""
    spec = os.environ.get("MIGRATE_BN_PROBE")
    if not spec:
        return None
    input_name, output_name, *flag_name = spec.split(":")
    try:
        inputs = sess.graph.get_tensor_by_name(input_name + ":0")
        outputs = sess.graph.get_tensor_by_name(output_name + ":0")
        feeds = {sess.graph.get_tensor_by_name(name + ":0"): False for name in flag_name}
    except (KeyError, ValueError):
        return None
    shape = [8] + [int(d) for d in inputs.shape.as_list()[1:]]
    rng = np.random.RandomState(1234)
    first = rng.normal(size=shape).astype(np.float32)
    second = first.copy()
    second[1:] = rng.normal(loc=2.0, scale=3.0, size=[7] + shape[1:])
    alone = np.asarray(sess.run(outputs, {inputs: first, **feeds}))[0]
    mates = np.asarray(sess.run(outputs, {inputs: second, **feeds}))[0]
    return {"first": np.ravel(alone).tolist(), "with_other_mates": np.ravel(mates).tolist()}


_base = _session_mod.BaseSession
_orig_init, _orig_close = _base.__init__, _base.close


# Wrap the methods of the real BaseSession rather than substituting a subclass
# for tf.Session: TF's Session.__init__ calls `super(Session, self)` through
# the module global, so rebinding that global recurses forever.  Patching the
# base class also covers every alias the script may use (tf.Session,
# tf.compat.v1.Session, tf.InteractiveSession) and sessions made for it by
# Supervisor / MonitoredSession / slim.learning.train.
def _recording_init(self, *args, **kwargs):
    _orig_init(self, *args, **kwargs)
    self._harness_slot = len(_records)
    _records.append(None)
    _open_sessions.append(self)


def _recording_close(self):
    # Session.__exit__ ends with self.close(), so `with` blocks land here too.
    # Read before the real close, while the session can still run ops.
    if any(s is self for s in _open_sessions):
        _open_sessions[:] = [s for s in _open_sessions if s is not self]
        try:
            _records[self._harness_slot] = _snapshot(self)
        except Exception as exc:  # recording must never break the script
            _records[self._harness_slot] = {"variables": {}, "error": repr(exc)}
    _orig_close(self)


def _module(name, *sources):
    """A fresh module whose namespace is the union of `sources` (later wins)."""
    mod = types.ModuleType(name)
    for src in sources:
        mod.__dict__.update({k: v for k, v in vars(src).items() if not k.startswith("__")})
    return mod


def install_shims():
    # `tf_slim.layers`, `tf_slim.ops` and `tf_slim.training` as attributes are
    # shadowed by star-imports in tf_slim/__init__.py (they resolve to
    # tf_slim.layers.layers, tensorflow's framework ops and
    # tf_slim.training.training), so fetch the real packages from sys.modules.
    slim_layers = importlib.import_module("tf_slim.layers")
    slim_arg_scope = importlib.import_module("tf_slim.ops.arg_scope")
    slim_variables = importlib.import_module("tf_slim.ops.variables")
    slim_training = importlib.import_module("tf_slim.training.training")
    slim_train_eval = importlib.import_module("tf_slim.training.evaluation")
    slim_nets = importlib.import_module("tf_slim.nets")

    contrib = types.ModuleType("tensorflow.contrib")
    contrib.slim = tf_slim
    contrib.layers = slim_layers
    contrib.framework = _module("tensorflow.contrib.framework", slim_variables, slim_arg_scope)
    contrib.training = _module("tensorflow.contrib.training", slim_train_eval, slim_training)
    tf_slim.nets = slim_nets

    modules = {
        "tensorflow": tf1,
        "tensorflow.contrib": contrib,
        "tensorflow.contrib.slim": tf_slim,
        "tensorflow.contrib.slim.nets": slim_nets,
        "tensorflow.contrib.layers": contrib.layers,
        "tensorflow.contrib.framework": contrib.framework,
        "tensorflow.contrib.training": contrib.training,
    }
    # `from tensorflow.contrib.slim.nets import resnet_v1` works through the
    # attribute, but `import tensorflow.contrib.slim.nets.resnet_v1` needs the
    # dotted name registered too.
    for sub in ("alexnet", "inception", "inception_v1", "inception_v2", "inception_v3",
                "overfeat", "resnet_utils", "resnet_v1", "resnet_v2", "vgg"):
        modules["tensorflow.contrib.slim.nets." + sub] = getattr(slim_nets, sub)
    sys.modules.update(modules)
    tf1.contrib = contrib

    _base.__init__ = _recording_init
    _base.close = _recording_close


def seed_everything(seed=0):
    random.seed(seed)
    np.random.seed(seed)
    # Only the current default graph gets this seed; scripts that build their
    # own tf.Graph() must seed it themselves to be deterministic.
    tf1.set_random_seed(seed)


def main(argv):
    if len(argv) != 3:
        sys.stderr.write(__doc__)
        return 2
    script, out_path = os.path.abspath(argv[1]), argv[2]
    install_shims()
    seed_everything()
    # Mimic `python SCRIPT.py`: its own argv and its directory on sys.path.
    sys.argv = [script]
    sys.path.insert(0, os.path.dirname(script))
    result = {"ok": True}
    try:
        runpy.run_path(script, run_name="__main__")
    except SystemExit as exc:  # tf.app.run() always ends with sys.exit
        if exc.code not in (None, 0):
            result = {"ok": False, "error": traceback.format_exc()}
    except BaseException:
        result = {"ok": False, "error": traceback.format_exc()}
    if result["ok"]:
        for sess in list(_open_sessions):
            sess.close()
        result = {"sessions": _records, "ok": True}
    with open(out_path, "w") as fh:
        json.dump(result, fh, indent=1)
    return 0 if result["ok"] else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
