"""The rewriting layer keeps every byte it does not mean to change."""

from __future__ import annotations

import ast

from migrate_bn.api import analyze

HEADER = "with tf.control_dependencies(tf.get_collection(tf.GraphKeys.UPDATE_OPS)):"

PROGRAM = """\
import tensorflow as tf
# -*- a comment that stays -*-
x = tf.placeholder(tf.float32, [None, 4])
is_training = tf.placeholder(tf.bool)
h = tf.layers.batch_normalization(x, training=is_training)
loss = tf.reduce_mean(h)  # trailing comment
train_op = tf.train.AdamOptimizer(0.1).minimize(loss)
print("done")
"""


def fixed(source: bytes) -> bytes:
    result = analyze(source, "t.py", fix=True)
    assert result.internal_error is None
    assert result.fixed_source is not None
    return result.fixed_source


def test_only_the_train_op_statement_changes() -> None:
    after = fixed(PROGRAM.encode()).decode()
    before_lines, after_lines = PROGRAM.splitlines(), after.splitlines()
    assert after_lines[:6] == before_lines[:6]
    assert after_lines[6] == HEADER
    assert after_lines[7] == "    " + before_lines[6]
    assert after_lines[8:] == before_lines[7:]


def test_crlf_line_endings_are_kept() -> None:
    source = PROGRAM.replace("\n", "\r\n").encode()
    after = fixed(source)
    assert b"\n" not in after.replace(b"\r\n", b"")
    assert (HEADER + "\r\n").encode() in after


def test_mixed_line_endings_outside_the_edit_are_kept() -> None:
    lines = PROGRAM.splitlines(keepends=True)
    lines[1] = lines[1].replace("\n", "\r\n")
    source = "".join(lines).encode()
    after = fixed(source)
    assert after.startswith("".join(lines[:6]).encode())


def test_tabs_stay_tabs() -> None:
    source = "def train(loss, x, flag):\n\th = tf.layers.batch_normalization(x, training=flag)\n" \
             "\top = tf.train.AdamOptimizer(0.1).minimize(loss)\n\treturn op\n"
    source = "import tensorflow as tf\n" + source
    after = fixed(source.encode()).decode()
    assert "\t" + HEADER + "\n\t\top = tf.train" in after


def test_backslash_continuation_is_reindented() -> None:
    source = PROGRAM.replace("train_op = tf.train.AdamOptimizer(0.1).minimize(loss)",
                             "train_op = tf.train.AdamOptimizer(0.1) \\\n    .minimize(loss)")
    after = fixed(source.encode()).decode()
    assert "    train_op = tf.train.AdamOptimizer(0.1) \\\n        .minimize(loss)" in after
    ast.parse(after)


def test_declared_encoding_and_bom_are_kept() -> None:
    latin = ("# -*- coding: latin-1 -*-\n# caf\u00e9\n" + PROGRAM).encode("latin-1")
    after = fixed(latin)
    assert after.startswith("# -*- coding: latin-1 -*-\n# caf\u00e9\n".encode("latin-1"))
    after.decode("latin-1")
    bom = b"\xef\xbb\xbf" + PROGRAM.encode()
    assert fixed(bom).startswith(b"\xef\xbb\xbf")


def test_statement_sharing_its_line_gets_no_fix() -> None:
    # Wrapping the line would make `eval_op` wait for the update ops too.
    source = PROGRAM.replace("train_op = ", "eval_op = tf.identity(h); train_op = ")
    result = analyze(source.encode(), "t.py", fix=True)
    assert [f.code for f in result.findings] == ["BN001"]
    assert result.findings[0].fix is None and result.fixed_source is None


def test_second_tensorflow_alias_for_the_v1_api_is_preferred() -> None:
    source = PROGRAM.replace("import tensorflow as tf\n", "import tensorflow as tf\nimport tensorflow.compat.v1 as tf1\n")
    assert "with tf1.control_dependencies(tf1.get_collection(tf1.GraphKeys.UPDATE_OPS)):" in fixed(source.encode()).decode()


def test_compat_v1_elsewhere_in_the_file_does_not_change_the_spelling() -> None:
    source = PROGRAM.replace("print(\"done\")", "tf.compat.v1.logging.set_verbosity(tf.compat.v1.logging.ERROR)")
    assert HEADER in fixed(source.encode()).decode()


def test_statement_in_a_one_line_suite_gets_no_fix() -> None:
    source = PROGRAM.replace("train_op = ", "if True: train_op = ")
    result = analyze(source.encode(), "t.py", fix=True)
    assert [f.code for f in result.findings] == ["BN001"]
    assert result.findings[0].fix is None
    assert result.fixed_source is None


def test_train_op_in_a_compound_header_gets_no_fix() -> None:
    source = PROGRAM.replace("train_op = tf.train.AdamOptimizer(0.1).minimize(loss)",
                             "for _ in [tf.train.AdamOptimizer(0.1).minimize(loss)]:\n    pass")
    result = analyze(source.encode(), "t.py", fix=True)
    assert [f.code for f in result.findings] == ["BN001"]
    assert result.findings[0].fix is None


def test_import_is_added_only_when_missing() -> None:
    source = ('"""Doc."""\nfrom tensorflow.contrib import slim\nfrom tensorflow.train import AdamOptimizer\n'
              "h = slim.batch_norm(x)\nop = AdamOptimizer(0.1).minimize(h)\n")
    after = fixed(source.encode()).decode()
    assert after.splitlines()[:4] == ['"""Doc."""', "from tensorflow.contrib import slim",
                                      "from tensorflow.train import AdamOptimizer", "import tensorflow as tf"]
    assert HEADER in after


def test_upgraded_code_keeps_its_compat_v1_spelling() -> None:
    source = PROGRAM.replace("tf.layers.", "tf.compat.v1.layers.").replace("tf.train.", "tf.compat.v1.train.")
    after = fixed(source.encode()).decode()
    assert "with tf.control_dependencies(tf.compat.v1.get_collection(tf.compat.v1.GraphKeys.UPDATE_OPS)):" in after


def test_slim_code_is_offered_create_train_op() -> None:
    from migrate_bn.api import check_source
    from migrate_bn.edits import apply_edits
    from migrate_bn.rules import Options, select_rules

    source = ("import tensorflow as tf\nimport tensorflow.contrib.slim as slim\n"
              "net = slim.conv2d(x, 8, [3, 3], normalizer_fn=slim.batch_norm)\n"
              "train_op = tf.train.AdamOptimizer(0.1).minimize(\n    loss, var_list=head_vars)  # keep\n")
    (finding,) = check_source(source, select_rules(["BN001"]), Options())
    (alternative,) = finding.alternatives
    assert alternative.applicability == "unsafe"
    after = apply_edits(source.encode(), alternative.edits).code.decode()
    assert after.splitlines()[3:] == [
        "train_op = slim.learning.create_train_op(loss, tf.train.AdamOptimizer(0.1), global_step=None, "
        "variables_to_train=head_vars, check_numerics=False)  # keep"]
    # Not offered where slim is not imported, nor for minimize arguments it cannot take.
    plain = source.replace("import tensorflow.contrib.slim as slim\n", "from tensorflow.contrib import layers\n")
    plain = plain.replace("slim.conv2d(x, 8, [3, 3], normalizer_fn=slim.batch_norm)", "layers.batch_norm(x)")
    assert check_source(plain, select_rules(["BN001"]), Options())[0].alternatives == ()
    named = source.replace("var_list=head_vars", "name='train'")
    assert check_source(named, select_rules(["BN001"]), Options())[0].alternatives == ()


def test_a_function_indented_unlike_the_file_keeps_its_indentation() -> None:
    # The file's first block uses a tab; the function with the train op uses two spaces.
    source = ("import tensorflow as tf\nif True:\n\tx = tf.placeholder(tf.float32, [None, 4])\n"
              "def build(flag):\n  h = tf.layers.batch_normalization(x, training=flag)\n"
              "  for i in range(2):\n    h = h + 1\n  op = tf.train.AdamOptimizer(0.1).minimize(tf.reduce_mean(h))\n"
              "  return op\n")
    after = fixed(source.encode()).decode()
    assert "  for i in range(2):\n    h = h + 1\n" in after  # untouched lines, byte for byte
    assert ("  with tf.control_dependencies(tf.get_collection(tf.GraphKeys.UPDATE_OPS)):\n"
            "  \top = tf.train") in after
    ast.parse(after)
