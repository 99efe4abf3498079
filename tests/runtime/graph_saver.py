"""Run a TF1 script under tf1_harness.py and save what a user's run leaves on disk.

Usage: python tests/runtime/graph_saver.py SCRIPT.py OUT.json SAVE_DIR

On top of the harness (shims, seeds, the statistics report), each session the script
opens is saved the way TF1 programs save themselves, for `migrate-bn doctor` to read:

- `SAVE_DIR/untrained/model.ckpt-0` (+ `.meta`): right after the script's first
  `global_variables_initializer()` run, before any training step;
- `SAVE_DIR/trained/model.ckpt-N` (+ `.meta`): when the session closes, N the number of
  `run` calls after initialisation;
- with MIGRATE_BN_SERVE=INPUTS:OUTPUTS (comma-separated tensor names without `:0`), also
  `SAVE_DIR/saved_model/`: a SavedModel whose `serving_default` signature feeds INPUTS
  and fetches OUTPUTS, written at close.

Sessions of a finalized graph (an Estimator's MonitoredSession) are left alone: the
Estimator writes its own model directory. Test infrastructure only, like the harness.
"""
import importlib.util
import os
import sys

_spec = importlib.util.spec_from_file_location(
    "migrate_bn_tf1_harness", os.path.join(os.path.dirname(os.path.abspath(__file__)), "tf1_harness.py"))
harness = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(harness)  # sets TF_CPP_MIN_LOG_LEVEL before importing TensorFlow

tf1 = harness.tf1
_base = harness._base


def _is_initializer(fetches):
    """Does this `run` fetch `global_variables_initializer()` (a NoOp named init*)?"""
    items = fetches if isinstance(fetches, (list, tuple)) else [fetches]
    return any(isinstance(item, tf1.Operation) and item.type == "NoOp" and item.name.split("/")[-1].startswith("init")
               for item in items)


def _save(sess, directory, step):
    """Save the session's variables and graph as `directory/model.ckpt-step` (+ .meta)."""
    if not hasattr(sess, "_saver_for_doctor"):
        sess._saver_for_doctor = tf1.train.Saver(tf1.global_variables())
    os.makedirs(directory, exist_ok=True)
    sess._doctor_saving = True  # the saver's own `run` calls are not training steps
    try:
        sess._saver_for_doctor.save(sess, os.path.join(directory, "model.ckpt"), global_step=step)
    finally:
        sess._doctor_saving = False


def install_savers(save_dir):
    original_run, original_close = _base.run, _base.close

    def run(self, fetches, *args, **kwargs):
        result = original_run(self, fetches, *args, **kwargs)
        if self.graph.finalized or getattr(self, "_doctor_saving", False):
            return result
        if getattr(self, "_doctor_steps", None) is not None:
            self._doctor_steps += 1
        elif _is_initializer(fetches):
            self._doctor_steps = 0
            _save(self, os.path.join(save_dir, "untrained"), 0)
        return result

    def close(self):
        steps = getattr(self, "_doctor_steps", None)
        if steps is not None and not self.graph.finalized and not getattr(self, "_doctor_saved", False):
            self._doctor_saved = True
            _save(self, os.path.join(save_dir, "trained"), steps)
            serve = os.environ.get("MIGRATE_BN_SERVE")
            if serve:
                inputs, outputs = (part.split(",") for part in serve.split(":"))
                tensor = self.graph.get_tensor_by_name
                tf1.saved_model.simple_save(
                    self, os.path.join(save_dir, "saved_model"),
                    inputs={name: tensor(name + ":0") for name in inputs},
                    outputs={name: tensor(name + ":0") for name in outputs})
        original_close(self)

    _base.run, _base.close = run, close


def main(argv):
    if len(argv) != 4:
        sys.stderr.write(__doc__)
        return 2
    save_dir = os.path.abspath(argv[3])
    install_shims = harness.install_shims

    def install_all():
        install_shims()
        install_savers(save_dir)
    harness.install_shims = install_all
    return harness.main(argv[:3])


if __name__ == "__main__":
    sys.exit(main(sys.argv))
