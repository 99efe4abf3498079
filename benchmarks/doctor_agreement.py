"""`migrate-bn check` against `migrate-bn doctor` on real-code benchmark models.

For each repository below whose model (and, where the repository has one, its train op)
can be built with placeholders or random arrays instead of its data:

1. rebuild the labelled tree (`benchmarks/real_code/labels/*.json`'s commit, from the
   fetched mirror, as `real_code/score.py` does) in a temporary directory;
2. run DRIVER, a small program of ours, in a subprocess under TensorFlow 2.12.1 (the
   runtime tests' TF1 shims, tests/runtime/tf1_harness.py): it imports the module the
   MODELS entry names, calls it with the entry's placeholders, builds the train op the
   entry describes (or takes the one the repository builds), and saves a checkpoint with
   its MetaGraph before any training step;
3. run `migrate-bn doctor --output-format json --source TREE` on that checkpoint and
   `migrate-bn check --output-format json TREE`, and print a Markdown table: repository,
   static findings, doctor's findings, agree or not and why.

This benchmark runs fetched code (the repository's model-building functions): the tool
never does. Usage:

    .venv/bin/python benchmarks/doctor_agreement.py [--mirror DIR] [--keep DIR] [OWNER/NAME ...]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
LABELS = HERE / "real_code" / "labels"
HARNESS = ROOT / "tests" / "runtime" / "tf1_harness.py"
sys.path.insert(0, str(HERE / "real_code"))
import score  # noqa: E402  (the labelled trees, extracted as the real-code scorer does)

# The static rules a saved training graph can confirm or refute.
STATIC_CODES = ("BN001", "BN002", "BN003", "BN004", "BN008")

# What to build, in our words. Argument values: {"placeholder": shape} (float32), {"array":
# shape} (random numbers, for code that feeds its own placeholders), {"stub": {...}} (an
# object with these attributes), or a JSON literal. "output": the attribute of the result
# that is the model's output (none: the result). "train_op": {"repository": WHERE} when the
# repository builds it (named), {"minimize": "plain"} / {"minimize": "after-update-ops"} when we
# build it as the repository's training script does, with a scalar of the output as loss.
# "session": the attribute holding the session the repository opened (its graph is saved).
# "path": directories of the tree added to sys.path; "missing": modules TensorFlow 2 no
# longer has (a data loader), registered empty; "control_flow_v2": build with control flow
# v2 and resource variables on, as TensorFlow 2 does by default.
MODELS = [
    {
        "repo": "zhulf0804/ResNet-Tensorflow",
        "module": "resnet_cifar10", "call": "resnet_cifar_10",
        "args": [{"placeholder": [8, 32, 32, 3]}, True, 1.0],
        "train_op": {"minimize": "plain"},
        "why": "train.py builds resnet_cifar_10(x, True, keep_prob) and a plain Momentum minimize",
    },
    {
        "repo": "sevenHsu/ResNet-TensorFlow",
        "module": "resnet", "call": "ResNet",
        "kwargs": {"depth": 18, "height": 32, "width": 32, "channel": 3, "num_classes": 10},
        "train_op": {"repository": "ResNet.optimizer"},
        "why": "the ResNet class builds its Adam minimize in __init__",
    },
    {
        "repo": "ikhlestov/vision_networks",
        "module": "models.dense_net", "call": "DenseNet",
        "kwargs": {"data_provider": {"stub": {"data_shape": [32, 32, 3], "n_classes": 10}}, "growth_rate": 12,
                   "depth": 40, "total_blocks": 3, "keep_prob": 1.0, "num_inter_threads": 1,
                   "num_intra_threads": 1, "weight_decay": 1e-4, "nesterov_momentum": 0.9,
                   "model_type": "DenseNet", "dataset": "C10", "should_save_logs": False,
                   "should_save_model": False, "renew_logs": False},
        "train_op": {"repository": "DenseNet.train_step"}, "session": "sess",
        "why": "the DenseNet class builds its Momentum minimize and opens its session in __init__",
    },
    {
        "repo": "dmzou/RSRAE",
        "module": "RSRAE.model", "call": "CAE",
        "kwargs": {"input_shape": [20], "hidden_layer_sizes": [32, 16, 8], "intrinsic_size": 4,
                   "epoch_size": 1, "batch_size": 16, "bn": True},
        "then": {"fit": [{"array": [32, 20]}]},
        "train_op": {"repository": "CAE.fit"}, "session": "sess",
        "why": "CAE.fit builds the graph and its three Adam minimizes and trains one epoch on random rows",
    },
    {
        "repo": "soloice/mnist-bn",
        "module": "mnist_bn", "call": "model", "missing": ["tensorflow.examples.tutorials.mnist.input_data"],
        "train_op": {"repository": "model()['train_step']"},
        "why": "model() builds slim batch norm on a flag placeholder and slim's create_train_op",
    },
    {
        "repo": "zrl4836/tensorflow_octConv",
        "module": "oct_Resnet_unit", "call": "Residual_Unit_norm",
        "args": [{"placeholder": [8, 16, 16, 64]}, 64, 32, 64, "unit1"],
        "train_op": {"minimize": "plain"},
        "why": "model definitions only: we train one residual unit with a plain minimize",
    },
]
# The same builds under control flow v2 and resource variables (TensorFlow 2's defaults):
# updates then live inside `If` bodies of the graph's function library.
CONTROL_FLOW_V2 = {"soloice/mnist-bn": "the same under control flow v2 and resource variables (TensorFlow 2's defaults)",
                   "ikhlestov/vision_networks": "the same under control flow v2 and resource variables: updates in "
                                                "place inside `If` branches"}
MODELS += [{**model, "control_flow_v2": True, "why": CONTROL_FLOW_V2[model["repo"]]}
           for model in list(MODELS) if model["repo"] in CONTROL_FLOW_V2]

DRIVER = r'''
import importlib, importlib.util, json, os, sys, types
spec = json.loads(sys.argv[1])
harness_spec = importlib.util.spec_from_file_location("tf1_harness", sys.argv[2])
harness = importlib.util.module_from_spec(harness_spec)
harness_spec.loader.exec_module(harness)
harness.install_shims()
harness.seed_everything()
if spec.get("control_flow_v2"):
    harness.tf1.enable_control_flow_v2()
    harness.tf1.enable_resource_variables()
import numpy as np
tf = harness.tf1
sys.path.insert(0, os.getcwd())
sys.path[1:1] = [os.path.join(os.getcwd(), path) for path in spec.get("path", [])]
for dotted in spec.get("missing", []):  # modules TensorFlow 2 lacks, imported for their data only
    parts = dotted.split(".")
    for end in range(len(parts), 1, -1):
        name = ".".join(parts[:end])
        module = sys.modules.get(name) or types.ModuleType(name)
        sys.modules.setdefault(name, module)
        if end < len(parts):
            setattr(module, parts[end], sys.modules[".".join(parts[:end + 1])])

def value(item):
    if isinstance(item, dict) and "placeholder" in item:
        return tf.placeholder(tf.float32, item["placeholder"])
    if isinstance(item, dict) and "flag" in item:
        return tf.placeholder(tf.bool, [])
    if isinstance(item, dict) and "array" in item:
        return np.random.rand(*item["array"]).astype(np.float32)
    if isinstance(item, dict) and "stub" in item:
        return types.SimpleNamespace(**item["stub"])
    return item

target = importlib.import_module(spec["module"])
for part in spec["call"].split("."):
    target = getattr(target, part)
result = target(*[value(a) for a in spec.get("args", [])],
                **{k: value(v) for k, v in spec.get("kwargs", {}).items()})
for method, args in spec.get("then", {}).items():
    getattr(result, method)(*[value(a) for a in args])
output = (result[spec["output"]] if isinstance(result, dict) else getattr(result, spec["output"])) \
    if spec.get("output") else result
how = spec["train_op"]
session = getattr(result, spec["session"]) if spec.get("session") else None
graph = session.graph if session is not None else tf.get_default_graph()
with graph.as_default():
    if how.get("minimize"):
        loss = tf.reduce_mean(tf.square(tf.cast(output, tf.float32)))
        optimizer = tf.train.MomentumOptimizer(0.01, 0.9)
        if how["minimize"] == "after-update-ops":
            with tf.control_dependencies(tf.get_collection(tf.GraphKeys.UPDATE_OPS)):
                optimizer.minimize(loss)
        else:
            optimizer.minimize(loss)
    if session is None:
        session = tf.Session()
        session.run(tf.global_variables_initializer())
    tf.train.Saver(tf.global_variables()).save(session, os.path.join(sys.argv[3], "model.ckpt"), global_step=0)
'''


def build(model: dict, tree: Path, save: Path, python: str) -> str:
    """Run the driver in the tree; an error text, or ''."""
    save.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1", "TF_CPP_MIN_LOG_LEVEL": "3"}
    completed = subprocess.run([python, "-c", DRIVER, json.dumps(model), str(HARNESS), str(save)],
                               cwd=tree, capture_output=True, text=True, timeout=900, env=env)
    if completed.returncode != 0:
        return completed.stderr.strip().splitlines()[-1] if completed.stderr.strip() else "driver failed"
    return ""


def migrate_bn(*arguments: str) -> dict | list:
    completed = subprocess.run([sys.executable, "-m", "migrate_bn", *arguments, "--output-format", "json"],
                               capture_output=True, text=True, timeout=900)
    return json.loads(completed.stdout or "null")


def static_findings(tree: Path) -> list[str]:
    records = migrate_bn("check", str(tree)) or []
    return compact(sorted({(record["code"], str(Path(record["path"]).relative_to(tree)), record["line"])
                           for record in records if record.get("code") in STATIC_CODES}))


def compact(findings: list[tuple[str, str, int]]) -> list[str]:
    """`BN001 train.py:59`, or `BN003 model.py (12 lines)` for a rule's many lines in one file."""
    lines: dict[tuple[str, str], list[int]] = {}
    for code, path, line in findings:
        lines.setdefault((code, path), []).append(line)
    return [f"{code} {path}:{found[0]}" if len(found) == 1 else f"{code} {path} ({len(found)} lines)"
            for (code, path), found in sorted(lines.items())]


def graph_findings(report: dict) -> list[str]:
    found = []
    inference: dict[str, int] = {}  # train ops -> layers they run in inference mode only
    for finding in report.get("findings", []):
        kind = finding["kind"]
        if kind == "missing-update-dependency":
            found.append(f"`{finding['train_op']}` skips the updates of {_layers(len(finding['layers']))}")
        elif kind == "training-mode-off":
            key = ", ".join(f"`{name}`" for name in finding["train_ops"])
            inference[key] = inference.get(key, 0) + 1
        elif kind == "training-mode-served":
            found.append(f"`{finding['signature']}` serves batch statistics")
        elif kind != "never-updated":
            found.append(kind)
    found += [f"{train_ops} run {_layers(count)} in inference mode, still 0 and 1" for train_ops, count in inference.items()]
    return found


def _layers(count: int) -> str:
    return f"{count} layer{'s' if count > 1 else ''}"


def verdict(static: list[str], graph: list[str], report: dict) -> str:
    """agree or not, and why, from the report's --source section."""
    source = report.get("source") or {}
    kinds = {entry["agreement"] for entry in source.get("layers", [])}
    if not static and not graph:
        return "yes: both silent"
    if static and graph and kinds <= {"agree"}:
        return "yes: same layers"
    if graph and not static:
        return "no: graph only (" + ", ".join(sorted(kinds)) + ")"
    if static and not graph:
        only = [item["code"] for item in source.get("static_only", [])]
        return "no: static only" + (f" ({', '.join(only)} on layers the graph shows wired)" if only else
                                    " (a finding about a graph not saved here)")
    return "partly: " + ", ".join(sorted(kinds))


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("repos", nargs="*", help="OWNER/NAME (default: every model here)")
    parser.add_argument("--mirror", default=str(score.DEFAULT_MIRROR))
    parser.add_argument("--keep", help="build the trees and checkpoints here and keep them")
    parser.add_argument("--python", default=sys.executable, help="the python with TensorFlow 2.12.1 and tf-slim")
    options = parser.parse_args(argv)
    models = [model for model in MODELS if not options.repos or model["repo"] in options.repos]
    scratch = Path(options.keep) if options.keep else Path(tempfile.mkdtemp(prefix="doctor-agreement-"))
    print("| repository | what we build | `check` (BN001-BN004, BN008) | `doctor` on the saved graph | agree |")
    print("|---|---|---|---|---|")
    for model in models:
        repo = model["repo"]
        label = json.loads((LABELS / (repo.replace("/", "__") + ".json")).read_text())
        gitdir = score.git_dir(Path(options.mirror), repo)
        tree = scratch / repo.replace("/", "+") / "tree"
        save = scratch / repo.replace("/", "+") / ("save-v2" if model.get("control_flow_v2") else "save")
        error = "no mirror" if gitdir is None else None
        if error is None and not tree.exists():
            tree.mkdir(parents=True)
            error = score.extract(gitdir, label["commit"], tree)
        if not error:
            error = build(model, tree, save, options.python)
        if error:
            print(f"| {repo}{' (v2)' if model.get('control_flow_v2') else ''} | {model['why']} | | not built: {error} | |")
            continue
        static = static_findings(tree)
        report = migrate_bn("doctor", "--source", str(tree), str(save / "model.ckpt-0"))
        graph = graph_findings(report or {})
        print(f"| {repo}{' (v2)' if model.get('control_flow_v2') else ''} | {model['why']} | {'; '.join(static) or '—'} | {'; '.join(graph) or 'silent'} | "
              f"{verdict(static, graph, report or {})} |")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
