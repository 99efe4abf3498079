"""Summaries known empty from a module's syntax tree and text, without its facts
(`migrate_bn.model.producer_free`): each one is the summary its full facts give."""

from __future__ import annotations

import pytest

from migrate_bn.model import producer_free
from migrate_bn.project import Project

LIB = ("import tensorflow as tf\n\ndef net(x, is_training=True):\n"
       "    return tf.layers.batch_normalization(x, training=is_training)\n\n"
       "def helper(x):\n    return x\n")

USES = {
    # name -> (module text, can the summary be told empty without the facts)
    "helper only": ("import lib\n\ndef f(x):\n    return lib.helper(x)\n", True),
    "in comments and strings": ('"""Calls lib.net, or lib."""\nimport lib\n\ndef f(x):\n'
                                '    # lib.net(x) would build batch norm; lib\n    return lib.helper("lib")\n', True),
    "a producer called": ("import lib\n\ndef f(x):\n    return lib.net(x)\n", False),
    "the module bound to a name": ("import lib\n\ndef f(x):\n    m = lib\n    return m.net(x)\n", False),
    "a producer bound to a name": ("import lib\n\nbuild = lib.net\n\ndef f(x):\n    return build(x)\n", False),
    "after a semicolon": ("import lib\n\ndef f(x):\n    y = 1; return lib.net(x)\n", False),
    "a submodule of a package": ("from pkg import inner\n\ndef f(x):\n    return inner.net(x)\n", False),
    "a package's module through the package": ("import pkg.inner\n\ndef f(x):\n    return pkg.inner.net(x)\n",
                                               False),
    "a producer as a default": ("import lib\n\ndef f(x, build=lib.net):\n    return build(x)\n", False),
    "a producer passed or subclassed": ("import lib\n\nclass A(lib.net):\n    def f(self, x):\n"
                                        "        return lib.helper(lib.net, x)\n", True),
    "a producer bound, extended only": ("import lib\n\ndef f(x):\n    cfg = lib.net\n    return cfg.x(x)\n", True),
    "a producer bound twice": ("import lib\n\ndef f(x):\n    cfg = lib.net\n    other = cfg\n"
                               "    return other(x)\n", False),
    "a producer re-exported": ("from lib import net\n", False),
    "not ASCII": ("import lib\n\ndef f(x):\n    return lib.helper(x)  # é\n", False),
    "params dict callable": ("import lib\n\ndef model_fn(features, params):\n"
                             "    return params['net'](features) + lib.helper(1)\n", False),
}


def _tree(tmp_path, text):
    (tmp_path / "lib.py").write_text(LIB)
    (tmp_path / "pkg").mkdir()
    (tmp_path / "pkg" / "__init__.py").write_text("")
    (tmp_path / "pkg" / "inner.py").write_text(LIB)
    module = tmp_path / "user.py"
    module.write_text(text, encoding="utf-8")
    return [str(path) for path in (module, tmp_path / "lib.py", tmp_path / "pkg" / "inner.py")]


@pytest.mark.parametrize("case", sorted(USES))
def test_the_short_cut_agrees_with_the_facts(tmp_path, monkeypatch, case) -> None:
    text, empty = USES[case]
    paths = _tree(tmp_path, text)
    project = Project(paths)
    view = project.views.read(paths[0], text.encode("utf-8"))
    assert producer_free.summary_is_empty(view.tree, view.text, project.resolver(paths[0])) is empty
    fast = Project(paths).summary(paths[0])
    monkeypatch.setattr(producer_free, "summary_is_empty", lambda *args: False)
    assert fast == Project(paths).summary(paths[0])
    if empty:
        assert fast == {}


NESTED_IMPORTS = (
    "import a as x\r\n"
    "try:\r\n    import b as x\r\nexcept ImportError:\r\n    import c as y\r\nfinally:\r\n    pass\r\n"
    "def f():\n    if True:\n        from d import e as x\n    else:\n        def g():\n            import h as z\n"
    "class K:\n    from i import j as y\n    def m(self):\n        return 'import'\n"
    "while False:\n    pass\nelse:\n    import k as z\n"
    "with open('f') as handle:\n    from l import (\n        m as w,\n    )\n"
    "def no_import():\n    return 1\n")


def test_the_import_table_skips_blocks_without_imports_in_the_same_order(tmp_path) -> None:
    from migrate_bn.model.program import import_table

    path = str(tmp_path / "user.py")
    project = Project([path])
    view = project.views.read(path, NESTED_IMPORTS.encode())
    full = import_table(view.tree, project.resolver(path))
    pruned = import_table(view.tree, project.resolver(path), view.text)
    assert list(pruned.names.items()) == list(full.names.items())
    assert set(full.names) == {"x", "y", "z", "w"}
