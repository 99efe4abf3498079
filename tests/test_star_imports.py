"""`from module import *` of project modules, resolved as Python resolves it (issue 14,
idiom 2): a name the module does not bind comes from the last star import that hands it
over; a module's own binding shadows them; `__all__` limits what a star import hands
over; a package's `__init__` re-exports; a cycle of star imports ends."""

from __future__ import annotations

from pathlib import Path

from migrate_bn.api import analyze
from migrate_bn.project import Project

WRAPPER = """import tensorflow as tf


def conv_bn(inputs, training):
    return tf.layers.batch_normalization(tf.layers.conv2d(inputs, 8, 3), training=training)
"""
# A function of the same name that builds no batch norm.
PLAIN = """import tensorflow as tf


def conv_bn(inputs, training):
    return tf.layers.conv2d(inputs, 8, 3)
"""
TRAIN = """import tensorflow as tf
{imports}

images = tf.placeholder(tf.float32, [None, 8, 8, 3])
loss = tf.reduce_mean({call}(images, True))
train_op = tf.train.AdamOptimizer(1e-3).minimize(loss)
"""


def _codes(root: Path, files: dict[str, str], imports: str, call: str = "conv_bn") -> list[str]:
    (root / "setup.cfg").write_text("")
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)
    train = root / "train.py"
    train.write_text(TRAIN.format(imports=imports, call=call))
    resolver = Project().resolver(str(train))
    return [finding.code for finding in analyze(train.read_bytes(), str(train), resolver=resolver).findings]


def test_a_local_def_shadows_the_star_imported_name(tmp_path: Path) -> None:
    imports = "from ops import *\n\n\ndef conv_bn(inputs, training):\n    return tf.layers.conv2d(inputs, 8, 3)\n"
    assert _codes(tmp_path, {"ops.py": WRAPPER}, imports) == []


def test_a_parameter_of_the_name_anywhere_leaves_it_unknown(tmp_path: Path) -> None:
    imports = "from ops import *\n\n\ndef build(conv_bn):\n    return conv_bn\n"
    assert _codes(tmp_path, {"ops.py": WRAPPER}, imports) == []


def test_the_later_star_import_wins(tmp_path: Path) -> None:
    files = {"ops.py": WRAPPER, "plain.py": PLAIN}
    assert _codes(tmp_path, files, "from plain import *\nfrom ops import *") == ["BN001"]
    assert _codes(tmp_path, files, "from ops import *\nfrom plain import *") == []


def test_all_limits_what_a_star_import_hands_over(tmp_path: Path) -> None:
    listed = WRAPPER + '\n__all__ = ["conv_bn"]\n'
    unlisted = WRAPPER + '\n__all__ = ("other",)\n'
    assert _codes(tmp_path, {"ops.py": listed}, "from ops import *") == ["BN001"]
    assert _codes(tmp_path, {"ops.py": unlisted}, "from ops import *") == []


def test_a_private_name_is_not_handed_over(tmp_path: Path) -> None:
    files = {"ops.py": WRAPPER.replace("conv_bn", "_conv_bn")}
    assert _codes(tmp_path, files, "from ops import *", call="_conv_bn") == []
    files = {"ops.py": WRAPPER.replace("conv_bn", "_conv_bn") + '\n__all__ = ["_conv_bn"]\n'}
    assert _codes(tmp_path, files, "from ops import *", call="_conv_bn") == ["BN001"]


def test_a_star_import_of_a_star_import(tmp_path: Path) -> None:
    files = {"layers.py": WRAPPER, "ops.py": "from layers import *\n"}
    assert _codes(tmp_path, files, "from ops import *") == ["BN001"]


def test_a_package_init_that_re_exports(tmp_path: Path) -> None:
    by_star = {"blocks/__init__.py": "from .ops import *\n", "blocks/ops.py": WRAPPER}
    assert _codes(tmp_path, by_star, "from blocks import *") == ["BN001"]
    assert _codes(tmp_path, by_star, "from blocks import conv_bn") == ["BN001"]
    by_name = {"blocks/__init__.py": "from .ops import conv_bn\n", "blocks/ops.py": WRAPPER}
    assert _codes(tmp_path, by_name, "from blocks import *") == ["BN001"]


def test_a_cycle_of_star_imports_ends(tmp_path: Path) -> None:
    files = {"ops.py": "from layers import *\n", "layers.py": "from ops import *\n"}
    assert _codes(tmp_path, files, "from ops import *") == []
    files = {"ops.py": "from layers import *\n" + WRAPPER, "layers.py": "from ops import *\n"}
    assert _codes(tmp_path, files, "from layers import *") == ["BN001"]


def test_an_unknown_library_star_import_after_it_leaves_the_name_unknown(tmp_path: Path) -> None:
    assert _codes(tmp_path, {"ops.py": WRAPPER}, "from ops import *\nfrom somelib import *") == []
    assert _codes(tmp_path, {"ops.py": WRAPPER}, "from somelib import *\nfrom ops import *") == ["BN001"]


def test_a_library_star_import_the_api_table_knows(tmp_path: Path) -> None:
    text = """import tensorflow as tf
from tensorflow.contrib.layers import *

images = tf.placeholder(tf.float32, [None, 8, 8, 3])
is_training = tf.placeholder(tf.bool, [])
loss = tf.reduce_mean(batch_norm(images, is_training=is_training))
train_op = tf.train.AdamOptimizer(1e-3).minimize(loss)
"""
    (tmp_path / "setup.cfg").write_text("")
    train = tmp_path / "train.py"
    train.write_text(text)
    resolver = Project().resolver(str(train))
    codes = [finding.code for finding in analyze(train.read_bytes(), str(train), resolver=resolver).findings]
    assert codes == ["BN001"]


def test_a_file_is_looked_at_again_once_an_analysis_begins(tmp_path) -> None:
    """A batch run (`fix` writes a file between two analyses) looks at a file's stamp
    once per analysis; the language server every time."""
    from migrate_bn.model import star_imports
    from migrate_bn.project import Project

    path = tmp_path / "ops.py"
    path.write_text("def conv(x):\n    return x\n")
    batch, watched = Project([str(path)]), Project([str(path)], watch=True)
    assert not star_imports._has_star_import(batch, str(path))
    assert not star_imports._has_star_import(watched, str(path))
    path.write_text("from layers import *\n\ndef conv(x):\n    return x\n")
    assert not star_imports._has_star_import(batch, str(path))  # the same analysis
    assert star_imports._has_star_import(watched, str(path))
    batch.analyses += 1
    assert star_imports._has_star_import(batch, str(path))
