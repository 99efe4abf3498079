"""A module's summary asked for a name its bytes cannot bind is not made
(`migrate_bn.model.summary_names`): the answer is the one the full summary gives."""

from __future__ import annotations

import pytest

from migrate_bn.model.summary_names import may_bind
from migrate_bn.project import Project

BINDS = {
    # module text -> may it bind `net` (a superset: True whenever it cannot tell)
    "def net(x):\n    pass\n": True,
    "class net:\n    pass\n": True,
    "async  def net(x):\n    pass\n": True,
    "from lib import net\n": True,
    "from lib import helper as net\n": True,
    "import net.inner\n": True,
    "from lib import (helper,  # a comment: x = 1\n    net)\n": True,
    "from lib import helper, \\\n    net\n": True,
    "try:\n    from lib import net\nexcept ImportError:\n    net = None\n": True,
    "x = 1; import net\n": True,
    "def f(x):\n    return lib.net(x)\n": False,
    "# net\n'''net'''\nnet = lib.helper\n": False,
    "network = 1\ndef netx():\n    pass\n": False,
    "import lib\n\ndef f(x):\n    y = lib.net\n    return y\n": False,
    "def f(x, net=None):\n    return net\n": False,
    "x = 'é'\n": True,  # not ASCII: cannot tell
    "def long(x):\n    pass\n": False,
}


@pytest.mark.parametrize("text", sorted(BINDS))
def test_what_the_bytes_may_bind(text) -> None:
    assert may_bind(text.encode("utf-8"), "net") is BINDS[text]


def test_names_a_python_2_view_may_spell() -> None:
    # `unicode` -> `str` in the Python 3 view of a Python 2 module: always "may bind".
    assert may_bind(b"def unicode(x):\n    print x\n", "str")
    assert may_bind(b"x = 1\n", "xxx_todo_changeme")
    assert may_bind(None, "net")


LIB = ("import tensorflow as tf\n\ndef net(x, is_training=True):\n"
       "    return tf.layers.batch_normalization(x, training=is_training)\n")


def test_the_resolver_answers_as_the_full_summary(tmp_path) -> None:
    (tmp_path / "lib.py").write_text(LIB)
    (tmp_path / "reexport.py").write_text("from lib import net as build\n\ndef helper(x):\n    return x\n")
    user = tmp_path / "user.py"
    user.write_text("import reexport\n")
    paths = [str(user), str(tmp_path / "lib.py"), str(tmp_path / "reexport.py")]
    project = Project(paths)
    resolver = project.resolver(str(user))
    assert resolver.producer("reexport.conv") is None
    assert str(tmp_path / "reexport.py") not in project._summaries  # not made for it
    assert resolver.producer("reexport.build").name == "net"
    assert resolver.producer("reexport.conv") is None
    assert set(project.summary(str(tmp_path / "reexport.py"))) == {"build"}
    # Watching (the language server): the summary is made as before.
    watched = Project(paths, watch=True)
    assert watched.resolver(str(user)).producer("reexport.conv") is None
    assert str(tmp_path / "reexport.py") in watched._summaries
