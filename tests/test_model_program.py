"""The whole program: which project functions and classes a training module reaches."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from migrate_bn.api import analyze
from migrate_bn.model.program import Program, project_root
from migrate_bn.project import Project

HELPER = """import tensorflow as tf


def conv_bn(inputs):
    return tf.layers.batch_normalization(tf.layers.conv2d(inputs, 8, 3))
"""
TRAIN = """import tensorflow as tf
{imports}

images = tf.placeholder(tf.float32, [None, 8, 8, 3])
loss = tf.reduce_mean({call})
train_op = tf.train.AdamOptimizer(1e-3).minimize(loss)
"""


def _tree(root: Path, files: dict[str, str]) -> None:
    (root / "setup.cfg").write_text("")
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)


def _codes(root: Path, name: str) -> list[str]:
    path = root / name
    resolver = Project().resolver(str(path))
    return [f.code for f in analyze(path.read_bytes(), str(path), resolver=resolver).findings]


@pytest.mark.parametrize("files", [
    {"ops.py": HELPER, "train.py": TRAIN.format(imports="from ops import conv_bn", call="conv_bn(images)")},
    {"ops.py": HELPER, "train.py": TRAIN.format(imports="import ops", call="ops.conv_bn(images)")},
    {"ops.py": HELPER, "model.py": "from ops import *\n\n\ndef net(x):\n    return conv_bn(x)\n",
     "train.py": TRAIN.format(imports="from model import net", call="net(images)")},
    {"pkg/__init__.py": "from .ops import conv_bn\n", "pkg/ops.py": HELPER,
     "bin/train.py": TRAIN.format(imports="from pkg import conv_bn", call="conv_bn(images)")},
    {"ops.py": HELPER, "model.py": "import ops\n\n\nclass Net:\n    def build(self, x):\n        return ops.conv_bn(x)\n",
     "train.py": TRAIN.format(imports="from model import Net", call="Net().build(images)")},
], ids=["from-import", "module-attribute", "star-import", "package-re-export", "class"])
def test_a_helper_trained_elsewhere_is_reported(tmp_path: Path, files: dict[str, str]) -> None:
    _tree(tmp_path, files)
    helper = next(name for name in files if name.endswith("ops.py"))
    assert _codes(tmp_path, helper) == ["BN003"]


@pytest.mark.parametrize("files", [
    {"ops.py": HELPER, "export.py": "import tensorflow as tf\nfrom ops import conv_bn\n\n"
                                    "out = conv_bn(tf.placeholder(tf.float32, [1, 8, 8, 3]))\n"},
    {"ops.py": HELPER, "train.py": TRAIN.format(imports="import ops", call="images")},
    {"ops.py": HELPER, "train.py": TRAIN.format(imports="from unknown_lib import conv_bn", call="conv_bn(images)")},
], ids=["inference-only", "imported-not-called", "another-module"])
def test_silent_when_no_trainer_reaches_it(tmp_path: Path, files: dict[str, str]) -> None:
    _tree(tmp_path, files)
    assert _codes(tmp_path, "ops.py") == []


def test_a_notebook_that_trains_reaches_the_helper(tmp_path: Path) -> None:
    cell = TRAIN.format(imports="from ops import conv_bn", call="conv_bn(images)")
    notebook = {"cells": [{"cell_type": "code", "source": cell.splitlines(True), "metadata": {},
                           "outputs": [], "execution_count": None}],
                "metadata": {}, "nbformat": 4, "nbformat_minor": 5}
    _tree(tmp_path, {"ops.py": HELPER, "Train.ipynb": json.dumps(notebook)})
    assert _codes(tmp_path, "ops.py") == ["BN003"]


def test_alone_it_knows_no_program() -> None:
    assert [f.code for f in analyze(HELPER.encode(), "ops.py").findings] == []


def test_the_root_is_the_marked_directory_else_the_working_directory(tmp_path: Path,
                                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "a" / "b").mkdir(parents=True)
    monkeypatch.chdir(tmp_path)
    assert project_root(str(tmp_path / "a" / "b" / "m.py")) == str(tmp_path)
    (tmp_path / "a" / "setup.py").write_text("")
    assert project_root(str(tmp_path / "a" / "b" / "m.py")) == str(tmp_path / "a")


def test_the_chain_names_every_module_on_the_way(tmp_path: Path) -> None:
    _tree(tmp_path, {"ops.py": HELPER, "model.py": "from ops import *\n\n\ndef net(x):\n    return conv_bn(x)\n",
                     "train.py": TRAIN.format(imports="from model import net", call="net(images)")})
    program = Program(Project(), str(tmp_path))
    reached = program._reach()
    assert reached[(str(tmp_path / "ops.py"), "conv_bn")] == [
        (str(tmp_path / "train.py"), [str(tmp_path / "train.py"), str(tmp_path / "model.py")])]


NETWORKS = """import tensorflow as tf


def build_network(network_type, **kwargs):
    if network_type == "local":
        return LocalNet(**kwargs)
    raise ValueError(network_type)


class LocalNet:
    def __init__(self, images):
        self.out = tf.contrib.layers.batch_norm(tf.layers.conv2d(images, 8, 3))
"""


def test_a_factory_that_returns_a_project_class_builds_its_batch_norm(tmp_path: Path) -> None:
    _tree(tmp_path, {"labelreg/__init__.py": "", "labelreg/networks.py": NETWORKS,
                     "train.py": TRAIN.format(imports="import labelreg.networks as network",
                                              call='network.build_network("local", images=images).out')})
    # Trained and never evaluated: contrib's default True, nothing reads the statistics.
    assert _codes(tmp_path, "train.py") == []
    # An inference program restores the checkpoint (with the default True: BN003's bug,
    # whose fix reads the moving statistics the train op never updates).
    (tmp_path / "infer.py").write_text(
        "import tensorflow as tf\nimport labelreg.networks as network\n\n"
        "images = tf.placeholder(tf.float32, [None, 8, 8, 3])\n"
        "out = network.build_network('local', images=images).out\n"
        "with tf.Session() as sess:\n    tf.train.Saver().restore(sess, 'model.ckpt')\n    print(sess.run(out))\n")
    assert _codes(tmp_path, "train.py") == ["BN001"]


MODEL_FUNCTION = """import tensorflow as tf
import tensorflow.contrib.slim as slim


def cnn(inputs, is_training=True):
    params = {"is_training": is_training, "updates_collections": None}
    with slim.arg_scope([slim.conv2d], normalizer_fn=slim.batch_norm, normalizer_params=params):
        return slim.conv2d(inputs, 8, 3)
"""
MODEL_CLASS = """import tensorflow as tf


class Model:
    def __init__(self, mode, images):
        self.mode = mode
        self.images = images
        self._build()

    def _build(self):
        self.logits = self._bn(tf.layers.conv2d(self.images, 8, 3))

    def _bn(self, net):
        return tf.contrib.layers.batch_norm(net, updates_collections=None, is_training=(self.mode == "train"))
"""
EVALUATE = """import numpy as np
import tensorflow as tf
{imports}

images = tf.placeholder(tf.float32, [None, 8, 8, 3])
is_training = tf.placeholder(tf.bool)
{build}
loss = tf.reduce_mean(logits)
train_op = tf.train.AdamOptimizer(1e-3).minimize(loss)
with tf.Session() as sess:
    sess.run(train_op, {{images: np.ones((2, 8, 8, 3)), is_training: True}})
    val_loss = sess.run(loss, {{images: np.zeros((2, 8, 8, 3)), is_training: False}})
"""


@pytest.mark.parametrize("imports, build, expected", [
    ("from model import cnn", "logits = cnn(images)", ["BN004"]),  # left at its default True
    ("from model import cnn", "logits = cnn(images, True)", ["BN004"]),
    ("from model import cnn", "logits = cnn(images, is_training)", []),  # the flag is passed
    ("from model import cnn", "logits = cnn(images, False)", []),
    ("from model import cnn", "logits = cnn(images)\nfrozen = cnn(images, is_training=False)", []),  # a tower
    ("from model import cnn", "logits = cnn(images, **{})", []),  # may pass it: unknown
    ("from model import Model", "logits = Model('train', images).logits", ["BN004"]),
    ("from model import Model", "net = Model(mode='train', images=images)\nlogits = net.logits", ["BN004"]),
    ("from model import Model", "net = Model('eval', images)\nlogits = net.logits", []),
])
def test_a_call_that_fixes_the_flag_then_evaluates(tmp_path: Path, imports: str, build: str,
                                                   expected: list[str]) -> None:
    model = MODEL_CLASS if "Model" in imports else MODEL_FUNCTION
    _tree(tmp_path, {"model.py": model, "train.py": EVALUATE.format(imports=imports, build=build)})
    assert [code for code in _codes(tmp_path, "train.py") if code == "BN004"] == expected


def test_no_evaluation_run_no_finding(tmp_path: Path) -> None:
    script = EVALUATE.format(imports="from model import cnn", build="logits = cnn(images)").replace(
        "    val_loss = sess.run(loss, {images: np.zeros((2, 8, 8, 3)), is_training: False})\n", "")
    _tree(tmp_path, {"model.py": MODEL_FUNCTION, "train.py": script})
    assert "BN004" not in _codes(tmp_path, "train.py")


def test_a_module_that_only_trains_looks_into_no_callee(tmp_path: Path) -> None:
    """BN004 needs a run that evaluates: without one, the modules a script calls are not
    read for their flag parameters (resolving every call built their facts)."""
    import ast

    from migrate_bn import facts as facts_module
    from migrate_bn.model.flag_calls import constant_flag_calls
    from migrate_bn.model.program import program_of

    script = EVALUATE.format(imports="from model import cnn", build="logits = cnn(images)").replace(
        "    val_loss = sess.run(loss, {images: np.zeros((2, 8, 8, 3)), is_training: False})\n", "")
    _tree(tmp_path, {"model.py": MODEL_FUNCTION, "train.py": script})
    path = tmp_path / "train.py"
    facts = facts_module.build(ast.parse(script), script, Project().resolver(str(path)))
    assert facts.session_runs and constant_flag_calls(facts) == []
    program, _ = program_of(facts)
    assert not any(key[0] == "flag_parameter" for key in program.answers)


CONTRIB_HELPER = """import tensorflow as tf


def conv_bn(inputs):
    return tf.contrib.layers.batch_norm(tf.layers.conv2d(inputs, 8, 3))
"""
PREDICT = """import numpy as np
import tensorflow as tf
{imports}

images = tf.placeholder(tf.float32, [None, 8, 8, 3])
{build}
with tf.Session() as sess:
    tf.train.Saver().restore(sess, "model.ckpt")
    print(sess.run(prediction, {{images: np.zeros((1, 8, 8, 3))}}))
"""


@pytest.mark.parametrize("files, expected", [
    ({"ops.py": CONTRIB_HELPER,
      "predict.py": PREDICT.format(imports="from ops import conv_bn", build="prediction = conv_bn(images)")},
     ["BN003"]),
    ({"ops.py": CONTRIB_HELPER,  # a scope on the way may set the flag: unknown
      "model.py": "import tensorflow as tf\nfrom ops import conv_bn\n\n\ndef net(x):\n"
                  "    with tf.contrib.framework.arg_scope([tf.contrib.layers.batch_norm], is_training=False):\n"
                  "        return conv_bn(x)\n",
      "predict.py": PREDICT.format(imports="from model import net", build="prediction = net(images)")}, []),
    ({"ops.py": CONTRIB_HELPER,  # trained only: batch statistics are what training wants
      "train.py": TRAIN.format(imports="from ops import conv_bn", call="conv_bn(images)")}, []),
], ids=["inference-script", "arg-scope-on-the-way", "trained-only"])
def test_contrib_batch_norm_evaluated_by_another_program(tmp_path: Path, files: dict, expected: list) -> None:
    _tree(tmp_path, files)
    assert [code for code in _codes(tmp_path, "ops.py") if code == "BN003"] == expected


GAN_TRAIN = """import tensorflow as tf
from ops import conv_bn

z = tf.placeholder(tf.float32, [None, 8, 8, 3])
with tf.variable_scope("generator"):
    fake = conv_bn(z)
with tf.variable_scope("discriminator"):
    score = tf.reduce_mean(tf.layers.dense(tf.layers.flatten(fake), 1))
g_step = tf.train.AdamOptimizer(1e-3).minimize(-score, var_list=tf.trainable_variables("generator"))
d_step = tf.train.AdamOptimizer(1e-3).minimize(score, var_list=tf.trainable_variables("discriminator"))
"""


def test_a_gan_sampled_by_another_program_is_unknown(tmp_path: Path) -> None:
    """GANs sample with batch statistics by design (issue 14's false-alarm idiom 3)."""
    _tree(tmp_path, {"ops.py": CONTRIB_HELPER, "train.py": GAN_TRAIN,
                     "sample.py": PREDICT.format(imports="from ops import conv_bn", build="prediction = conv_bn(images)")})
    assert "BN003" not in _codes(tmp_path, "ops.py")


def test_a_cached_helper_is_checked_again_when_its_trainer_changes(tmp_path: Path,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    from migrate_bn.cache import Cache, configuration_key
    from migrate_bn.rules import Options, select_rules
    from migrate_bn.runner import Job, run

    monkeypatch.chdir(tmp_path)
    _tree(tmp_path, {"ops.py": HELPER, "train.py": TRAIN.format(imports="from ops import conv_bn",
                                                                call="conv_bn(images)")})

    def helper_codes() -> list[str]:
        cache = Cache(str(tmp_path / "cache"), configuration_key("all"))
        job = Job(select_rules(), Options(), project=Project())
        found = [f.code for result, _ in run(["."], job, cache) if result.path.endswith("ops.py")
                 for f in result.findings]
        cache.close()
        return found

    assert helper_codes() == ["BN003"]
    (tmp_path / "train.py").write_text(TRAIN.format(imports="", call="images"))
    assert helper_codes() == []


def test_a_project_site_passed_true_is_reported_once(tmp_path: Path) -> None:
    model = "import tensorflow as tf\n\n\ndef net(x, is_training):\n" \
            "    return tf.layers.batch_normalization(x, training=is_training)\n"
    script = EVALUATE.format(imports="from model import net", build="logits = net(images, True)")
    _tree(tmp_path, {"model.py": model, "train.py": script})
    assert _codes(tmp_path, "train.py").count("BN004") == 1
