"""Run an unmodified TF1 training script and keep its weights before and after training.

Usage: python tests/runtime/upgrade_tf1.py SCRIPT.py OUTDIR [--unfused]

OUTDIR/initial/ckpt: every variable right after the script initialised them (the
first `run` after which none is uninitialised); OUTDIR/final/ckpt: every variable just
before the session closed. The script's own output goes to stdout untouched.
With --unfused every batch norm runs with fused=False: TF1's non-fused kernel averages
the biased batch variance, as every Keras layer does where TF1 fused, so the upgraded
program's printed numbers can be compared with this run's.
Test infrastructure only: nothing in the migrate_bn package may import this.
"""
import os
import runpy
import sys

os.environ["TF_CPP_MIN_LOG_LEVEL"] = "3"

import tensorflow.compat.v1 as tf1  # noqa: E402
from tensorflow.python.client import session as session_module  # noqa: E402

script, out = sys.argv[1], sys.argv[2]


def _unfused(function):
    def batch_norm(*args, **kwargs):
        return function(*args, **{**kwargs, "fused": False})
    return batch_norm


if sys.argv[3:] == ["--unfused"]:
    import tf_slim  # noqa: E402
    import tf_slim.layers  # noqa: E402

    tf_slim.batch_norm = tf_slim.layers.batch_norm = _unfused(tf_slim.layers.batch_norm)
    tf1.layers.batch_normalization = _unfused(tf1.layers.batch_normalization)
base = session_module.BaseSession
original_run, original_close = base.run, base.close
state = {"initial": False, "final": False}
uninitialized_ops = {}


def _save(session, name):
    with session.graph.as_default():
        saver = tf1.train.Saver(tf1.global_variables())
    os.makedirs(os.path.join(out, name), exist_ok=True)
    saver.save(session, os.path.join(out, name, "ckpt"), write_meta_graph=False)


def run(self, fetches, *args, **kwargs):
    result = original_run(self, fetches, *args, **kwargs)
    if not state["initial"]:
        if self.graph not in uninitialized_ops:
            with self.graph.as_default():
                uninitialized_ops[self.graph] = tf1.report_uninitialized_variables()
        if original_run(self, uninitialized_ops[self.graph]).size == 0:
            state["initial"] = True
            _save(self, "initial")
    return result


def close(self):
    if state["initial"] and not state["final"]:
        state["final"] = True
        _save(self, "final")
    original_close(self)


base.run, base.close = run, close
sys.argv = [script]
runpy.run_path(script, run_name="__main__")
