"""Run an upgraded (TF2) program from a TF1 checkpoint of the script it came from.

Usage: python tests/runtime/upgrade_tf2.py MODE PROGRAM.py NAME_MAP.json TF1_CKPT OUTDIR

Converts the TF1 checkpoint with `migrate_bn.checkpoints` (the code behind
`migrate-bn ckpt-convert`) and makes the program's own `tf.train.Checkpoint` read it the
moment the program creates it; then runs the program as a plain Python script and checks
`assert_consumed()`.

- MODE `train`: TF1_CKPT holds the script's initial weights; the program trains from
  them, and every mapped weight at the end goes to OUTDIR/final.json by TF1 name.
- MODE `predict`: TF1_CKPT holds the weights the TF1 script ended with. Every step the
  program runs is followed by reading that checkpoint again, so training changes nothing
  and whatever the program computes, it computes with the converted TF1 weights.

Test infrastructure only: nothing in the migrate_bn package may import this.
"""
import json
import os
import runpy
import sys

os.environ["TF_CPP_MIN_LOG_LEVEL"] = "3"
sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", ".."))

import tensorflow as tf  # noqa: E402

from migrate_bn import checkpoints  # noqa: E402

mode, program, name_map_path, tf1_checkpoint, out = sys.argv[1:6]
assert mode in ("train", "predict"), mode
name_map = checkpoints.read_name_map(name_map_path)
converted = os.path.join(out, "converted", "ckpt")
checkpoints.convert(tf1_checkpoint, converted, name_map)

created = []
Checkpoint = tf.train.Checkpoint
function = tf.function


class RestoringCheckpoint(Checkpoint):
    def __init__(self, **objects):
        super().__init__(**objects)
        created.append((self, self.read(converted), objects))


def weights_kept(step=None, **options):
    """A step of the program compiled as it asked, with the converted weights read back
    after each call; TensorFlow's and Keras's own uses of tf.function are left alone."""
    if options or getattr(getattr(step, "__code__", None), "co_filename", None) != program:
        return function(step, **options)
    compiled = function(step)

    def call(*args, **kwargs):
        result = compiled(*args, **kwargs)
        checkpoint = created[0][0]
        checkpoint.read(converted).assert_existing_objects_matched()
        return result

    return call


tf.train.Checkpoint = RestoringCheckpoint
if mode == "predict":
    tf.function = weights_kept
sys.argv = [program]
runpy.run_path(program, run_name="__main__")
_, status, objects = created[0]
status.assert_consumed()
if mode == "train":
    final = {tf1_name: getattr(objects[entry["object"]], weight).numpy().tolist()
             for entry in name_map["layers"] for weight, tf1_name in entry["weights"].items()}
    with open(os.path.join(out, "final.json"), "w") as handle:
        json.dump(final, handle)
