"""Run an upgraded (TF2) program from the TF1 script's initial weights; keep its final ones.

Usage: python tests/runtime/upgrade_tf2.py PROGRAM.py NAME_MAP.json TF1_INITIAL_CKPT OUTDIR

Converts the TF1 checkpoint with `migrate_bn.checkpoints` (the code behind
`migrate-bn ckpt-convert`), makes the program's own `tf.train.Checkpoint` read it the
moment the program creates it, runs the program as a plain Python script, then checks
`assert_consumed()` and writes every mapped weight to OUTDIR/final.json by TF1 name.
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

program, name_map_path, initial, out = sys.argv[1:5]
name_map = checkpoints.read_name_map(name_map_path)
converted = os.path.join(out, "converted", "ckpt")
checkpoints.convert(initial, converted, name_map)

created = []
Checkpoint = tf.train.Checkpoint


class RestoringCheckpoint(Checkpoint):
    def __init__(self, **objects):
        super().__init__(**objects)
        created.append((self.read(converted), objects))


tf.train.Checkpoint = RestoringCheckpoint
sys.argv = [program]
runpy.run_path(program, run_name="__main__")
status, objects = created[0]
status.assert_consumed()
final = {tf1_name: getattr(objects[entry["object"]], weight).numpy().tolist()
         for entry in name_map["layers"] for weight, tf1_name in entry["weights"].items()}
with open(os.path.join(out, "final.json"), "w") as handle:
    json.dump(final, handle)
