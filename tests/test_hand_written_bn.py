"""BN011-BN013's model questions (migrate_bn/model/unapplied_averages.py,
tensor_branches.py, normalization_statistics.py): each positive beside the nearest code
that must stay silent."""

from __future__ import annotations

from pathlib import Path

from migrate_bn.api import analyze
from migrate_bn.project import Project


def _codes(source: str) -> list[tuple[str, int]]:
    return [(f.code, f.span.line) for f in analyze(source.encode(), "model.py").findings]


# --- BN011 -------------------------------------------------------------------------------

LOCAL_AVERAGE = """
import tensorflow as tf


def batch_norm(x, train):
    ema = tf.train.ExponentialMovingAverage(decay=0.9)
    mean, variance = tf.nn.moments(x, [0])
    return tf.nn.batch_normalization(x, mean, variance, None, None, 1e-5)
"""


def test_a_local_average_nothing_reads() -> None:
    assert _codes(LOCAL_AVERAGE) == [("BN011", 6)]


def test_an_average_passed_on_or_applied_is_used() -> None:
    returned = LOCAL_AVERAGE.replace("    return tf.nn.batch_normalization(x, mean, variance, None, None, 1e-5)",
                                     "    return tf.nn.batch_normalization(x, mean, variance, None, None, 1e-5), ema")
    assert _codes(returned) == []
    applied = LOCAL_AVERAGE.replace("    mean, variance = tf.nn.moments(x, [0])\n",
                                    "    mean, variance = tf.nn.moments(x, [0])\n    update = ema.apply([mean])\n")
    assert _codes(applied) == []


def test_an_average_without_batch_moments_is_not_a_batch_norm() -> None:
    other = LOCAL_AVERAGE.replace("mean, variance = tf.nn.moments(x, [0])", "mean, variance = x, x")
    assert _codes(other) == []


def test_an_attribute_average_needs_the_whole_project(tmp_path: Path) -> None:
    library = (Path(__file__).resolve().parent.parent / "fixtures" / "projects" / "bn011_class_ema_never_applied"
               / "libs" / "batch_norm.py").read_bytes()
    assert analyze(library, "batch_norm.py").findings == []  # alone: who reads `.ema` is unknown
    (tmp_path / "setup.cfg").write_text("[metadata]\nname = p\n")
    (tmp_path / "batch_norm.py").write_bytes(library)
    (tmp_path / "train.py").write_text("from batch_norm import batch_norm\nbn = batch_norm()\n")
    resolver = Project().resolver(str(tmp_path / "batch_norm.py"))
    assert [f.code for f in analyze(library, "batch_norm.py", resolver=resolver).findings] == ["BN011"]
    (tmp_path / "evaluate.py").write_text("from batch_norm import batch_norm\nprint(batch_norm().ema)\n")
    resolver = Project().resolver(str(tmp_path / "batch_norm.py"))
    assert analyze(library, "batch_norm.py", resolver=resolver).findings == []


# --- BN012 -------------------------------------------------------------------------------

PYTHON_IF = """
import tensorflow as tf

training = tf.placeholder(tf.bool)
ewma = tf.train.ExponentialMovingAverage(decay=0.99)


def encoder(z, running_mean, running_var):
    if training:
        mean, var = tf.nn.moments(z, axes=[0])
    else:
        mean, var = ewma.average(running_mean), ewma.average(running_var)
    return (z - mean) / tf.sqrt(var + 1e-10)
"""


def test_a_python_if_on_a_bool_placeholder() -> None:
    assert _codes(PYTHON_IF) == [("BN012", 9)]
    assert _codes(PYTHON_IF.replace("    if training:", "    if not training:")) == [("BN012", 9)]
    with_default = PYTHON_IF.replace("tf.placeholder(tf.bool)", "tf.placeholder_with_default(False, shape=())")
    assert _codes(with_default) == [("BN012", 9)]
    expression = PYTHON_IF.replace("""    if training:
        mean, var = tf.nn.moments(z, axes=[0])
    else:
        mean, var = ewma.average(running_mean), ewma.average(running_var)""",
                                   """    mean, var = tf.nn.moments(z, axes=[0]) if training else (running_mean, running_var)""")
    assert _codes(expression) == [("BN012", 9)]


def test_a_python_bool_of_the_same_name_is_silent() -> None:
    parameter = PYTHON_IF.replace("def encoder(z, running_mean, running_var):",
                                  "def encoder(z, running_mean, running_var, training=True):")
    assert _codes(parameter) == []
    rebound = PYTHON_IF.replace("ewma = tf", "training = True\newma = tf")
    assert _codes(rebound) == []
    assert _codes(PYTHON_IF.replace("    if training:", "    if training is not None:")) == []
    other_dtype = PYTHON_IF.replace("tf.placeholder(tf.bool)", "tf.placeholder(tf.float32)")
    assert _codes(other_dtype) == []


def test_a_branch_that_normalizes_nothing_is_silent() -> None:
    plain = """
import tensorflow as tf

keep = tf.placeholder(tf.bool)


def head(x):
    if keep:
        return tf.nn.dropout(x, 0.5)
    return x
"""
    assert _codes(plain) == []


# --- BN013 -------------------------------------------------------------------------------

def test_identity_constants_and_other_constants() -> None:
    template = "import tensorflow as tf\ny = tf.nn.batch_normalization(x, {}, {}, 0, 1, 1e-4)\n"
    assert _codes(template.format("0.001", "1.0")) == [("BN013", 2)]
    assert _codes(template.format("0", "1")) == [("BN013", 2)]
    assert _codes(template.format("127.5", "16256.25")) == []
    assert _codes(template.format("0.0", "4.0")) == []
    assert _codes(template.format("mean", "1.0")) == []
    global_normalization = "import tensorflow as tf\ny = tf.nn.batch_norm_with_global_normalization(x, 0.0, 1.0, b, g, 1e-5, True)\n"
    assert _codes(global_normalization) == [("BN013", 2)]


BORROWED = """
import tensorflow as tf


def block(a, w):
    b = tf.nn.conv2d(a, w, [1, 1, 1, 1], "SAME")
    b = tf.nn.bias_add(b, bias)
    mean, var = tf.nn.moments(a, [0, 1, 2])
    return tf.nn.batch_normalization(b, mean, var, 0, 1, 1e-4)
"""


def test_moments_of_the_layer_input() -> None:
    assert _codes(BORROWED) == [("BN013", 9)]


def test_moments_related_otherwise_are_silent() -> None:
    reshaped = BORROWED.replace('b = tf.nn.conv2d(a, w, [1, 1, 1, 1], "SAME")', "b = tf.reshape(a, [-1, 8])")
    assert _codes(reshaped) == []
    reference = BORROWED.replace("tf.nn.moments(a, [0, 1, 2])", "tf.nn.moments(reference, [0, 1, 2])")
    assert _codes(reference) == []
    rebound = BORROWED.replace("    mean, var = tf.nn.moments(a, [0, 1, 2])",
                               "    a = tf.identity(b)\n    mean, var = tf.nn.moments(a, [0, 1, 2])")
    assert _codes(rebound) == []
    own = BORROWED.replace("tf.nn.moments(a, [0, 1, 2])", "tf.nn.moments(b, [0, 1, 2])")
    assert _codes(own) == []
