"""migrate_bn/binding.py: calls bound to signatures as Python binds them."""

from __future__ import annotations

import ast
from typing import Optional

from migrate_bn.binding import api_signature, argument, bind, def_signature, named_arguments, positional_parameters

DEF = ast.parse("def model(self, images, is_training=False, *rest, scope, reuse=None, **options): pass").body[0]


def _call(code: str) -> ast.Call:
    call = ast.parse(code).body[0].value  # type: ignore[attr-defined]
    assert isinstance(call, ast.Call)
    return call


def _source(bound: Optional[dict]) -> Optional[dict]:
    return None if bound is None else {name: ast.unparse(value) for name, value in bound.items()}


def test_a_def_binds_positions_keywords_and_defaults() -> None:
    bound = bind(_call("net.model(x, True, scope='a', decay=0.9)"), def_signature(DEF, bound_method=True))
    assert bound is not None and bound.complete
    assert _source(bound.arguments) == {"images": "x", "is_training": "True", "scope": "'a'", "decay": "0.9"}
    assert _source(bound.defaults) == {"reuse": "None"}
    # Called as a plain function, `self` takes the first argument.
    assert _source(bind(_call("model(net, x)"), def_signature(DEF)).arguments) == {"self": "net", "images": "x"}
    assert positional_parameters(def_signature(DEF, bound_method=True)) == ("images", "is_training")


def test_starred_arguments_leave_what_they_may_pass_unknown() -> None:
    signature = def_signature(DEF, bound_method=True)
    bound = bind(_call("net.model(x, *more, scope=s)"), signature)
    assert bound is not None and not bound.complete and set(bound.arguments) == {"images", "scope"}
    bound = bind(_call("net.model(x, **settings)"), signature)
    assert bound is not None and not bound.complete and "is_training" not in bound.arguments


def test_a_call_python_would_reject_binds_nothing() -> None:
    assert bind(_call("net.model(x, images=y)"), def_signature(DEF, bound_method=True)) is None


def test_an_api_table_names_positions_and_keeps_other_keywords() -> None:
    positions = ("loss", "global_step", "var_list")
    assert _source(named_arguments(_call("opt.minimize(l, step, name='m')"), positions)) == {
        "loss": "l", "global_step": "step", "name": "'m'"}
    assert named_arguments(_call("opt.minimize(l, **kw)"), positions) is None
    assert named_arguments(_call("opt.minimize(l, a, b, c)"), positions) is None  # a position it does not know
    assert ast.unparse(argument(_call("f(a, b, v)"), "var_list", 2)) == "v"
    assert ast.unparse(argument(_call("f(a, var_list=v)"), "var_list", 2)) == "v"
    assert argument(_call("f(*a, b, v)"), "var_list", 2) is None
    assert api_signature(positions).bind_partial(1).arguments == {"loss": 1}
