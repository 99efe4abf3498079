"""`migrate-bn upgrade`: the TF2 programs it writes, and what it refuses to convert.

Golden: fixtures/upgrade/<case>/tf1.py upgrades to exactly tf2.py (Keras 3). Refusals:
a script that still has a batch-norm bug, or anything the conversion cannot follow,
is left byte for byte as it was with the line and the reason. The numeric proofs are
in test_upgrade_runtime.py.
"""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import pytest
from click.testing import CliRunner

from migrate_bn.cli import main
from migrate_bn.upgrade import upgrade_source
from test_programs import WIRED, upgradable_script as script  # conftest.py makes it importable

CASES = sorted((Path(__file__).resolve().parent.parent / "fixtures" / "upgrade").glob("*/tf1.py"))


@pytest.mark.parametrize("case", CASES, ids=lambda path: path.parent.name)
def test_upgrade_writes_the_expected_program(case: Path) -> None:
    result = upgrade_source(case.read_text())
    assert result.skipped is None
    assert result.text == (case.parent / "tf2.py").read_text()


@pytest.mark.parametrize("case", CASES, ids=lambda path: path.parent.name)
def test_upgraded_program_is_left_alone_by_a_second_run(case: Path) -> None:
    once = upgrade_source(case.read_text()).text
    again = upgrade_source(once)
    assert again.text is None and again.skipped is None


def test_nested_layers_and_an_inline_optimizer() -> None:
    text = upgrade_source(script()).text
    assert "h = batch_normalization(dense(x), training=True)" in text
    assert "optimizer = tf.keras.optimizers.SGD(learning_rate=0.1)" in text
    assert "print(compute_prediction(x=data).numpy())" in text
    assert "def compute_prediction(x):" in text  # y is not needed to predict


@pytest.mark.parametrize("train, evaluation, reason", [
    ("train_op = tf.train.GradientDescentOptimizer(0.1).minimize(loss)", "pass", "BN001 must be fixed first"),
    (WIRED, "print(sess.run(loss, {x: data, y: target, flag: True}))", "TF1 did not update"),
    (WIRED, "saver = tf.train.Saver()", "`tf.train.Saver` has no checked TF2 equivalent"),
    (WIRED, "print(sess.run(prediction, {x: data, flag: step > 3}))", "something other than True or False"),
    (WIRED, "print(sess.run(prediction))", "`x` is needed but not fed"),
    (WIRED, "print(sess.run(prediction, feed))", "not a literal"),
    (WIRED + "\nsecond = tf.train.AdamOptimizer().minimize(loss)", "pass", "more than one optimizer"),
    (WIRED.replace("minimize(loss)", "minimize(loss, var_list=None)"), "pass", "more than the loss"),
    (WIRED, "print(prediction.name)", "used outside `sess.run`"),
    (WIRED, "sess.run(tf.global_variables_initializer())", "initialised again"),
])
def test_what_cannot_be_converted_is_left_with_a_reason(train: str, evaluation: str, reason: str) -> None:
    result = upgrade_source(script(train, evaluation))
    assert result.text is None
    assert result.skipped is not None and reason in result.skipped[1]


SHARED = '''\
import tensorflow.compat.v1 as tf

x = tf.placeholder(tf.float32, [None, 4])
y = tf.placeholder(tf.float32, [None, 1])
f = tf.placeholder_with_default(False, ())
{graph}
loss = tf.reduce_mean(tf.square(train - y))
with tf.control_dependencies(tf.get_collection(tf.GraphKeys.UPDATE_OPS)):
    train_op = tf.train.GradientDescentOptimizer(0.1).minimize(loss)
with tf.Session() as sess:
    sess.run(tf.global_variables_initializer())
    sess.run(train_op, {{x: data, y: target, f: True}})
    print(sess.run(test, {{x: data}}))
'''


def shared(graph: str) -> str:
    return "data = target = None\n" + SHARED.format(graph=graph)


@pytest.mark.parametrize("graph", [
    # reuse on the call, in a reusing scope, AUTO_REUSE on the call and on the scope
    'train = tf.layers.dense(x, 1, name="fc")\ntest = tf.layers.dense(x, 1, name="fc", reuse=True)',
    'with tf.variable_scope("m"):\n    train = tf.layers.dense(x, 1, name="fc")\n'
    'with tf.variable_scope("m", reuse=True):\n    test = tf.layers.dense(x, 1, name="fc")',
    'train = tf.layers.dense(x, 1, name="fc", reuse=tf.AUTO_REUSE)\n'
    'test = tf.layers.dense(x, 1, name="fc", reuse=tf.AUTO_REUSE)',
    'with tf.variable_scope("m", reuse=tf.AUTO_REUSE):\n    train = tf.layers.dense(x, 1, name="fc")\n'
    'with tf.variable_scope("m", reuse=tf.AUTO_REUSE):\n    test = tf.layers.dense(x, 1, name="fc")',
])
def test_variables_shared_by_reuse_become_one_layer(graph: str) -> None:
    result = upgrade_source(shared(graph))
    assert result.text is not None, result.skipped
    assert result.text.count("tf.keras.layers.Dense(") == 1
    assert [entry["tf1_scope"] for entry in result.name_map["layers"]] in (["fc"], ["m/fc"])
    layer = result.name_map["layers"][0]["object"]
    assert f"train = {layer}(x)" in result.text and f"test = {layer}(x)" in result.text


@pytest.mark.parametrize("graph, reason", [
    ('train = tf.layers.dense(x, 1, name="fc")\ntest = tf.layers.dense(x, 1, name="fc")',
     "built a second time without `reuse`"),
    ('test = tf.layers.dense(x, 1, name="fc", reuse=True)\ntrain = tf.layers.dense(x, 1, name="fc")',
     "reused before it is built"),
    ('train = tf.layers.dense(x, 1, name="fc")\ntest = tf.layers.dense(x, 1, name="fc", use_bias=False, reuse=True)',
     "reused with arguments other than"),
    ('train = tf.layers.dense(x, 1)\nwith tf.variable_scope("", reuse=True):\n    test = tf.layers.dense(x, 1)',
     "reused without a name"),
    ('train = tf.layers.dense(x, 1, name="fc", reuse=flag)\ntest = train', "a `reuse` other than"),
    # TF1's train op ran this batch norm's updates too: the TF2 step would not.
    ('train = tf.layers.dense(x, 1)\ntest = tf.layers.batch_normalization(x, training=f)',
     "in training mode that the loss does not need"),
    ('h = tf.layers.batch_normalization(x, training=f, name="bn")\n'
     'h2 = tf.layers.batch_normalization(x, training=f, name="bn", reuse=True)\n'
     'train = tf.layers.dense(h + h2, 1)\ntest = train', "runs twice in training mode"),
])
def test_sharing_that_cannot_be_followed_is_left_with_a_reason(graph: str, reason: str) -> None:
    result = upgrade_source("flag = True\n" + shared(graph))
    assert result.text is None
    assert result.skipped is not None and reason in result.skipped[1], result.skipped


def test_the_global_learning_phase_goes_and_its_feed_too() -> None:
    text = script(evaluation="print(sess.run(prediction, {x: data, tf.keras.backend.learning_phase(): 0}))")
    text = text.replace("\nx = ", "\ntf.keras.backend.set_learning_phase(1)\nx = ")
    result = upgrade_source(text)
    assert result.text is not None, result.skipped
    assert "learning_phase" not in result.text
    assert "print(compute_prediction(x=data).numpy())" in result.text
    assert any("global learning phase is removed" in note for _, note in result.notes)


def test_cli_dry_run_writes_nothing_and_leaves_refused_files_byte_identical(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    good = tmp_path / "good.py"
    good.write_text(script())
    bad = tmp_path / "bad.py"
    bad_text = script("train_op = tf.train.GradientDescentOptimizer(0.1).minimize(loss)")
    bad.write_bytes(bad_text.encode())
    result = CliRunner().invoke(main, ["upgrade", "--dry-run", "good.py", "bad.py"])
    assert result.exit_code == 1
    assert "+++ b/good.py" in result.stdout and "bad.py" not in result.stdout
    assert "bad.py:10: not upgraded: BN001 must be fixed first" in result.stderr
    assert good.read_text() == script() and bad.read_bytes() == bad_text.encode()


def test_cli_writes_the_program_and_its_name_map(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "train.py").write_text(script())
    result = CliRunner().invoke(main, ["upgrade", "--name-map", "names.json", "train.py"])
    assert result.exit_code == 0, result.stderr
    assert "Upgraded 1 file to TF2." in result.stderr
    assert "tf.Session" not in (tmp_path / "train.py").read_text()
    layers = json.loads((tmp_path / "names.json").read_text())["layers"]
    assert [(layer["object"], layer["weights"]) for layer in layers] == [
        ("dense", {"kernel": "dense/kernel", "bias": "dense/bias"}),
        ("batch_normalization", {"gamma": "batch_normalization/gamma", "beta": "batch_normalization/beta",
                                 "moving_mean": "batch_normalization/moving_mean",
                                 "moving_variance": "batch_normalization/moving_variance"}),
        ("dense_1", {"kernel": "dense_1/kernel", "bias": "dense_1/bias"}),
    ]


def test_keras_2_keeps_an_explicit_unfused_batch_norm_unfused() -> None:
    text = script().replace("training=flag)", "training=flag, fused=False)")
    assert "fused=False" in upgrade_source(text, keras=2).text
    assert "fused" not in upgrade_source(text, keras=3).text


def test_python_2_file_goes_to_python_3_beside_the_upgrade(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "old.py").write_text("print 'hello', tf.layers.batch_normalization\n")
    (tmp_path / "train.py").write_text(script())
    result = CliRunner().invoke(main, ["upgrade", "--dry-run", "."])
    assert "-print 'hello', tf.layers.batch_normalization\n+print('hello', tf.layers.batch_normalization)\n" \
        in result.stdout and "+++ b/train.py" in result.stdout
    assert "Would upgrade 1 Python 2 file to Python 3 only" in result.stderr
    assert result.exit_code == 1  # changes pending


def test_crlf_file_stays_crlf() -> None:
    text = upgrade_source(script().replace("\n", "\r\n")).text
    assert "\n" not in text.replace("\r\n", "")


def test_unrecognised_module_is_not_touched() -> None:
    assert upgrade_source(textwrap.dedent("import tensorflow as tf\nx = tf.constant(1)\n")).text is None


def test_an_internal_error_on_one_file_leaves_it_and_goes_on(tmp_path: Path, monkeypatch) -> None:
    import migrate_bn.upgrade_command as command

    monkeypatch.chdir(tmp_path)
    (tmp_path / "a.py").write_text(script())
    (tmp_path / "b.py").write_text(script())
    real = command.upgrade_source

    def failing_on_a(text: str, keras: int, stock_bn: bool = False, path=None):
        if text.startswith("#a"):
            raise RuntimeError("boom")
        return real(text, keras, stock_bn, path)

    (tmp_path / "a.py").write_text("#a\n" + script())
    monkeypatch.setattr(command, "upgrade_source", failing_on_a)
    result = CliRunner().invoke(main, ["upgrade", "--dry-run", "."])
    assert result.exit_code == 2
    assert "a.py: internal error in migrate-bn (RuntimeError: boom)" in result.stderr
    assert "+++ b/b.py" in result.stdout


def test_a_bug_is_named_before_what_the_conversion_cannot_follow() -> None:
    """A literal training=True that is also evaluated (BN004) would make the conversion
    refuse the evaluation run too; the bug is the first thing the user must hear of."""
    result = upgrade_source(script().replace("training=flag)", "training=True)"))
    assert result.text is None and "BN004 must be fixed first" in result.skipped[1]


def in_graph(opening: str, session: str = "tf.Session()", extra: str = "") -> str:
    """`script()`'s graph and session moved into `opening` (a `with` or an `if`)."""
    lines = script().replace("tf.Session()", session).splitlines()
    first = next(i for i, line in enumerate(lines) if line.startswith("x = "))
    body = [("    " + line if line else line) for line in lines[first:]]
    return "\n".join(lines[:first] + [opening] + body + ([extra] if extra else [])) + "\n"


@pytest.mark.parametrize("opening, session", [
    ("with tf.Graph().as_default():", "tf.Session()"),
    ("with tf.Graph().as_default() as graph:", "tf.Session(graph=graph)"),
    ("with tf.get_default_graph().as_default():", "tf.Session()"),
    ('if __name__ == "__main__":', "tf.Session()"),
])
def test_a_script_in_its_own_graph_or_under_main_is_upgraded(opening: str, session: str) -> None:
    result = upgrade_source(in_graph(opening, session))
    assert result.text is not None, result.skipped
    assert "as_default" not in result.text and "graph" not in result.text
    indent = "    " if opening.startswith("if") else ""
    assert f"\n{indent}dense = tf.keras.layers.Dense(units=8)\n" in result.text
    assert f"\n{indent}print(compute_prediction(x=data).numpy())\n" in result.text


@pytest.mark.parametrize("session, extra, reason", [
    ("tf.Session()", "    graph.finalize()", "used for more than `tf.Session(graph=...)`"),
    ("tf.Session(graph=other)", "", "a graph other than the one it is built in"),
    ("tf.Session()", "print(prediction)", "the graph is used after its `with` block"),
])
def test_a_graph_used_otherwise_is_left_with_a_reason(session: str, extra: str, reason: str) -> None:
    text = "other = None\n" + in_graph("with tf.Graph().as_default() as graph:", session, extra)
    result = upgrade_source(text)
    assert result.text is None
    assert result.skipped is not None and reason in result.skipped[1], result.skipped


def test_kept_code_must_mean_the_same_in_tf2() -> None:
    helper = "def log_to(directory):\n    return tf.summary.FileWriter(directory)\n\n\n"
    result = upgrade_source(helper + in_graph("def main():"))
    assert result.text is None and result.skipped == (2, "`tf.summary.FileWriter` has no checked TF2 equivalent")
    renamed = upgrade_source("def safe_log(v):\n    return tf.log(v + 1e-6)\n\n\n" + in_graph("def main():"))
    assert renamed.text is not None and "return tf.math.log(v + 1e-6)" in renamed.text


def test_a_graph_at_module_level_run_under_main_is_one_script() -> None:
    lines = script().splitlines()
    at = next(i for i, line in enumerate(lines) if line.startswith("with tf.Session()"))
    text = "\n".join(lines[:at] + ['if __name__ == "__main__":'] + ["    " + line for line in lines[at:]]) + "\n"
    result = upgrade_source(text)
    assert result.text is not None, result.skipped
    assert "placeholder" not in result.text and "tf.Session" not in result.text
    assert '\nif __name__ == "__main__":\n    dense = tf.keras.layers.Dense(units=8)\n' in result.text


def saving(saver: str, use: str) -> str:
    return script(WIRED + "\n" + saver, use)


def test_a_saver_of_everything_becomes_the_checkpoint_written_to_the_same_path() -> None:
    result = upgrade_source(saving("saver = tf.train.Saver(max_to_keep=2)",
                                   'path = saver.save(sess, "run/model", global_step=7)'))
    assert result.text is not None, result.skipped
    assert 'path = checkpoint.write("{}-{}".format("run/model", 7))' in result.text
    assert "Saver" not in result.text
    assert any("CheckpointManager" in note for _, note in result.notes)


@pytest.mark.parametrize("saver, use, reason", [
    ("saver = tf.train.Saver()", 'saver.restore(sess, "run/model")', "only `save` is converted"),
    ("saver = tf.train.Saver(tf.trainable_variables())", 'saver.save(sess, "m")', "a Saver of chosen variables"),
    ("saver = tf.train.Saver()", 'saver.save(sess, next(paths))', "side effects"),
    ("saver = tf.train.Saver()", 'saver.save(sess, "m", latest_filename="x")', "a `save` other than"),
])
def test_saving_that_cannot_be_followed_is_left_with_a_reason(saver: str, use: str, reason: str) -> None:
    result = upgrade_source(saving(saver, use))
    assert result.text is None
    assert result.skipped is not None and reason in result.skipped[1], result.skipped


@pytest.mark.parametrize("opening, extra, where", [
    ("with tf.Graph().as_default():", '    note = """two\n    lines"""', "the graph's `with` block"),
    ('if __name__ == "__main__":', '        note = """two\n        lines"""', "the session block"),
])
def test_a_string_over_several_lines_is_not_moved(opening: str, extra: str, where: str) -> None:
    # Moving a block out (or the session's body) dedents each line: it would change the string.
    result = upgrade_source(in_graph(opening, extra=extra))
    assert result.text is None
    assert result.skipped is not None and result.skipped[1] == f"a string over several lines in {where}"


def test_fused_batch_norm_is_exact_by_default_and_stock_on_request() -> None:
    conv = script()  # the rank is told at run time: the subclass corrects only 4-D and 5-D input
    exact = upgrade_source(conv)
    assert "class FusedBatchNormalization(tf.keras.layers.BatchNormalization):" in exact.text
    assert "FusedBatchNormalization(fused_ranks=(4, 5)" in exact.text
    assert not any("fused kernel" in note for _, note in exact.notes)
    stock = upgrade_source(conv, stock_bn=True)
    assert "FusedBatchNormalization" not in stock.text
    assert any("Keras 3 has no fused kernel" in note for _, note in stock.notes)
    # fused=False: TF1 computed what stock Keras computes; Keras 2 fuses itself.
    unfused = script().replace("training=flag)", "training=flag, fused=False)")
    assert "FusedBatchNormalization" not in upgrade_source(unfused).text
    assert "FusedBatchNormalization" not in upgrade_source(conv, keras=2).text


def test_stock_keras_bn_option_of_the_cli(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    Path("train.py").write_text(script())
    result = CliRunner().invoke(main, ["upgrade", "--dry-run", "--stock-keras-bn", "train.py"])
    assert result.exit_code == 1 and "FusedBatchNormalization" not in result.stdout
    assert "Keras 3 has no fused kernel" in result.stderr
