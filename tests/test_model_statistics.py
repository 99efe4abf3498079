"""The whole-program model's answers about moving statistics (issue 14's GAN idioms):
which session runs evaluate a batch norm (model/runs.py), which builds own their
variables (model/statistics.py), and what the rest of the project does with the model
(model/project_graphs.py)."""

from __future__ import annotations

import ast
import textwrap
from pathlib import Path
from typing import Optional

from migrate_bn import facts as facts_module
from migrate_bn.api import analyze
from migrate_bn.model import project_graphs, runs, statistics
from migrate_bn.project import Project
from migrate_bn.rules import select_rules

TRAIN_LOOP = """\
import numpy as np
import tensorflow as tf

x = tf.placeholder(tf.float32, [None, 4])
y = tf.placeholder(tf.float32, [None, 1])
net = tf.layers.batch_normalization(tf.layers.dense(x, 8), training=True)
loss = tf.reduce_mean(tf.square(tf.layers.dense(net, 1) - y))
train_op = tf.train.AdamOptimizer().minimize(loss)
x_train, y_train, x_val, y_val = np.zeros([8, 4]), np.zeros([8, 1]), np.zeros([8, 4]), np.zeros([8, 1])
with tf.Session() as sess:
    for step in range(10):
        sess.run(train_op, {x: x_train, y: y_train})
        {inside}
    {after}
"""


def build(source: str, path: Optional[Path] = None, project: Optional[Project] = None):
    resolver = (project or Project()).resolver(str(path)) if path is not None else None
    return facts_module.build(ast.parse(source), source, resolver)


def the_run(facts, line_text: str):
    return next(run for run in facts.session_runs if line_text in facts.lines[run.node.lineno - 1])


def loop_program(inside: str = "pass", after: str = "pass") -> str:
    return TRAIN_LOOP.replace("{inside}", inside).replace("{after}", after)


def test_a_loss_run_next_to_the_train_op_is_monitoring() -> None:
    facts = build(loop_program(inside="print(sess.run(loss, {x: x_train, y: y_train}))"))
    assert runs.monitors_training(facts, the_run(facts, "print(sess.run(loss"))
    assert runs.evaluation_runs(facts, facts.batch_norm_sites[0]) == []


def test_a_run_in_the_loop_fed_held_out_data_evaluates() -> None:
    facts = build(loop_program(inside="print(sess.run(loss, {x: x_val, y: y_val}))"))
    run = the_run(facts, "print(sess.run(loss")
    assert not runs.monitors_training(facts, run)
    assert runs.evaluation_runs(facts, facts.batch_norm_sites[0]) == [run]


def test_a_name_bound_to_held_out_data_evaluates() -> None:
    facts = build(loop_program(inside="vx, vy = load(split='valid'); sess.run(loss, {x: vx, y: vy})"))
    assert not runs.monitors_training(facts, the_run(facts, "sess.run(loss"))


def test_a_run_after_training_is_an_evaluation() -> None:
    facts = build(loop_program(after="print(sess.run(loss, {x: x_train, y: y_train}))"))
    assert not runs.monitors_training(facts, the_run(facts, "print(sess.run(loss"))


def test_switching_the_pipeline_to_held_out_data_makes_the_next_run_an_evaluation() -> None:
    facts = build(loop_program(inside="sess.run(val_init); print(sess.run(loss))"))
    assert not runs.monitors_training(facts, the_run(facts, "print(sess.run(loss"))


GAN = """\
import tensorflow as tf

def generator(z, phase_train=True, reuse=False):
    with tf.variable_scope("gen", reuse=reuse):
        return tf.contrib.layers.batch_norm(tf.layers.dense(z, 8), is_training=phase_train)

def discriminator(v, reuse=False):
    with tf.variable_scope("dis", reuse=reuse):
        return tf.layers.dense(tf.contrib.layers.batch_norm(tf.layers.dense(v, 8), is_training=True), 1)

z = tf.placeholder(tf.float32, [4, 2])
x = tf.placeholder(tf.float32, [4, 8])
fake = generator(z)
d_loss = tf.reduce_mean(discriminator(x) - discriminator(fake, reuse=True))
sampler = generator(z, phase_train=False, reuse=True)
d_step = tf.train.AdamOptimizer().minimize(d_loss)
with tf.Session() as sess:
    for step in range(10):
        sess.run(d_step, {x: 0, z: 0})
    samples = sess.run(sampler, {z: 0})
"""


def test_a_run_is_attributed_only_to_the_batch_norm_its_fetches_are_built_from() -> None:
    facts = build(GAN)
    generator_site, discriminator_site = facts.batch_norm_sites
    sampler_run = the_run(facts, "samples = sess.run")
    assert runs.built_from(facts, sampler_run, generator_site)
    assert not runs.built_from(facts, sampler_run, discriminator_site)
    assert runs.evaluation_runs(facts, discriminator_site) == []


def test_a_scope_shared_through_reuse_is_not_private() -> None:
    facts = build(GAN)
    assert not statistics.private_per_build(facts, facts.batch_norm_sites[0])


def test_a_named_scope_re_entered_without_reuse_is_private_to_each_build() -> None:
    facts = build(GAN.replace('tf.variable_scope("gen", reuse=reuse)', 'tf.variable_scope("gen")'))
    assert statistics.private_per_build(facts, facts.batch_norm_sites[0])


def test_reuse_around_a_call_or_auto_reuse_shares_the_variables() -> None:
    around = GAN.replace('tf.variable_scope("gen", reuse=reuse)', 'tf.variable_scope("gen")').replace(
        "sampler = generator(z, phase_train=False, reuse=True)",
        "with tf.variable_scope(tf.get_variable_scope(), reuse=True):\n    sampler = generator(z, phase_train=False)")
    assert not statistics.private_per_build(build(around), build(around).batch_norm_sites[0])
    auto = GAN.replace('tf.variable_scope("gen", reuse=reuse)', 'tf.variable_scope("gen", reuse=tf.AUTO_REUSE)')
    assert not statistics.private_per_build(build(auto), build(auto).batch_norm_sites[0])


def write(root: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text))


MODEL = """\
import tensorflow as tf

def generator(z):
    return tf.contrib.layers.batch_norm(tf.layers.dense(z, 8))
"""
TRAIN = """\
import tensorflow as tf
from model import generator

z = tf.placeholder(tf.float32, [4, 2])
loss = tf.reduce_mean(generator(z))
train_op = tf.train.AdamOptimizer().minimize(loss)
with tf.Session() as sess:
    for step in range(10):
        sess.run(train_op, {z: 0})
"""


def bn001_lines(root: Path, name: str = "train.py") -> list[int]:
    path = root / name
    project = Project(roots=(str(root),))
    result = analyze(path.read_bytes(), str(path), rules=select_rules(["BN001"]),
                     resolver=project.resolver(str(path)))
    return [finding.span.line for finding in result.findings]


def test_default_training_everywhere_in_a_known_project_reads_no_statistics(tmp_path: Path) -> None:
    write(tmp_path, {"setup.cfg": "", "model.py": MODEL, "train.py": TRAIN})
    assert bn001_lines(tmp_path) == []


def test_an_inference_build_anywhere_in_the_project_reads_them(tmp_path: Path) -> None:
    write(tmp_path, {"setup.cfg": "", "model.py": MODEL, "train.py": TRAIN, "tools/evaluate.py": """\
        import tensorflow as tf
        net = tf.contrib.layers.batch_norm(tf.placeholder(tf.float32, [4, 8]), is_training=False)
        """})
    assert bn001_lines(tmp_path) == [6]


def test_an_export_or_a_notebook_with_batch_norm_is_unknown(tmp_path: Path) -> None:
    write(tmp_path, {"setup.cfg": "", "model.py": MODEL, "train.py": TRAIN,
                     "export.py": "import tensorflow as tf\ntf.saved_model.simple_save(None, 'out', {}, {})\n"})
    assert bn001_lines(tmp_path) == [6]
    (tmp_path / "export.py").unlink()
    write(tmp_path, {"explore.ipynb": '{"cells": [{"source": "slim.batch_norm(x)"}]}'})
    assert bn001_lines(tmp_path) == [6]


def test_without_a_known_project_root_nothing_is_assumed(tmp_path: Path) -> None:
    write(tmp_path, {"model.py": MODEL, "train.py": TRAIN})
    path = tmp_path / "train.py"
    result = analyze(path.read_bytes(), str(path), rules=select_rules(["BN001"]),
                     resolver=Project().resolver(str(path)))
    assert [finding.span.line for finding in result.findings] == [6]


def test_an_unused_library_module_and_a_commented_import_build_nothing(tmp_path: Path) -> None:
    write(tmp_path, {"setup.cfg": "", "model.py": MODEL, "train.py": "#from old_ops import *\n" + TRAIN,
                     "old_ops.py": "import tensorflow as tf\n\ndef bn(v):\n    return tf.layers.batch_normalization(v)\n",
                     "old_net.py": "from old_ops import *\n\ndef net(v):\n    return bn(v)\n"})
    assert bn001_lines(tmp_path) == []
    write(tmp_path, {"run_old.py": "import old_net\nold_net.net(None)\n"})
    assert bn001_lines(tmp_path) == [7]


def test_importers_are_found_and_unimportable_scripts_have_none(tmp_path: Path) -> None:
    write(tmp_path, {"setup.cfg": "", "model.py": MODEL, "train.py": TRAIN, "3dgan.py": MODEL})
    project = Project(roots=(str(tmp_path),))
    model = build(MODEL, tmp_path / "model.py", project)
    assert not project_graphs.no_importers(model)
    assert project_graphs.no_importers(build(MODEL, tmp_path / "3dgan.py", project))


def test_a_training_flag_fed_false_in_the_loop_is_an_evaluation() -> None:
    source = loop_program(inside="print(sess.run(loss, {x: x_train, y: y_train, is_training: False}))")
    facts = build(source)
    assert not runs.monitors_training(facts, the_run(facts, "print(sess.run(loss"))


NOTEBOOK_SHAPE = """\
import tensorflow as tf

def generate(v, is_training=True):
    return tf.layers.batch_normalization(tf.layers.dense(v, 4), training=is_training)

def show(before):
    return sess.run(G_batch, {inputs: before, is_training: False})

inputs = tf.placeholder(tf.float32, [None, 4])
is_training = tf.placeholder(tf.bool, ())
G_batch = generate(inputs)
"""


def test_a_function_evaluating_a_module_level_graph_is_attributed_to_it() -> None:
    facts = build(NOTEBOOK_SHAPE)
    assert [run.node.lineno for run in runs.evaluation_runs(facts, facts.batch_norm_sites[0])] == [7]
    shadowed = build(NOTEBOOK_SHAPE.replace("def show(before):", "def show(before):\n    G_batch = None"))
    assert runs.evaluation_runs(shadowed, shadowed.batch_norm_sites[0]) == []


GAN_STEPS = (Path(__file__).resolve().parent.parent / "fixtures" / "bn009" /
             "gan_discriminator_step_pulls_generator_updates" / "before.py")
SAME_BATCHES = """
with tf.Session() as sess:
    sess.run(tf.global_variables_initializer())
    for step in range(20000):
        batch, batch_noise = next_batch(), sample_noise()
        sess.run(d_train, {real: batch, noise: batch_noise, training: True})
        sess.run(g_train, {noise: batch_noise, real: batch, training: True})
    images = sess.run(fake, {noise: sample_noise(), training: False})
"""


def test_bn009_stays_only_when_the_steps_feed_the_other_network_other_data() -> None:
    """Both steps depend on every update op; when both feed the same real batch and the
    same noise, the other network's updates in a step see the batches its own step
    feeds it, and only come twice as often."""
    source = GAN_STEPS.read_text() + SAME_BATCHES
    assert analyze(source.encode(), "gan.py", rules=select_rules(["BN009"])).findings == []
    other_noise = source.replace("sess.run(g_train, {noise: batch_noise, real: batch, training: True})",
                                 "sess.run(g_train, {noise: sample_noise(), real: batch, training: True})")
    assert [f.code for f in analyze(other_noise.encode(), "gan.py", rules=select_rules(["BN009"])).findings] == \
        ["BN009", "BN009"]


def test_a_layer_object_applied_under_a_fresh_scope_still_shares_its_variables() -> None:
    source = GAN.replace('tf.variable_scope("gen", reuse=reuse)', 'tf.variable_scope("gen")').replace(
        "return tf.contrib.layers.batch_norm(tf.layers.dense(z, 8), is_training=phase_train)",
        "return NORM(tf.layers.dense(z, 8), training=phase_train)").replace(
        "z = tf.placeholder", "NORM = tf.layers.BatchNormalization()\nz = tf.placeholder")
    facts = build(source)
    objects = [site for site in facts.batch_norm_sites if site.how in ("class", "apply")]
    assert objects and not any(statistics.private_per_build(facts, site) for site in objects)
