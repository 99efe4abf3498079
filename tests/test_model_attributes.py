"""The model's attribute values: what `self.<attr>` holds when `__init__` builds the graph."""

from __future__ import annotations

import ast
import textwrap
from typing import Optional

import pytest

from migrate_bn import facts as facts_module
from migrate_bn.model.attributes import build_time_value

HEAD = """
import tensorflow as tf


class Model:
    def __init__(self, images, is_training=True):
        self.images = images
{init}

    def _build(self):
        self.out = self._bn(self.images)

    def _bn(self, net):
        return tf.layers.batch_normalization(net, training=self.is_training)
{more}
"""


def _value(init: str, more: str = "") -> Optional[bool]:
    source = HEAD.format(init=textwrap.indent(textwrap.dedent(init), " " * 8), more=textwrap.indent(
        textwrap.dedent(more), " " * 4))
    facts = facts_module.build(ast.parse(source), source)
    [site] = facts.batch_norm_sites
    found = build_time_value(facts, site)
    return None if found is None else found.value


def test_literal_set_before_the_build() -> None:
    assert _value("self.is_training = True\nself._build()") is True
    assert _value("self.is_training = False\nself._build()") is False


def test_the_last_assignment_before_the_build_counts() -> None:
    assert _value("self.is_training = False\nself.is_training = True\nself._build()\nself.is_training = False") \
        is True


def test_the_build_inside_a_branch_still_follows_the_assignment() -> None:
    assert _value("self.is_training = True\nif images is not None:\n    self._build()") is True


@pytest.mark.parametrize("init", [
    "self.is_training = is_training\nself._build()",  # a parameter: unknown
    "if is_training:\n    self.is_training = True\nself._build()",  # set in a branch
    "self._build()\nself.is_training = True",  # set after the build
    "self.is_training = True",  # no build in __init__
])
def test_unknown_in_init(init: str) -> None:
    assert _value(init) is None


def test_a_public_method_that_builds_is_unknown() -> None:
    assert _value("self.is_training = True\nself._build()", "def rebuild(self):\n    self._bn(self.images)\n") \
        is None


def test_a_builder_that_assigns_the_attribute_is_unknown() -> None:
    source = HEAD.format(init="        self.is_training = True\n        self._build()", more="").replace(
        "        self.out = self._bn(self.images)", "        self.is_training = False\n        self.out = self._bn(self.images)")
    facts = facts_module.build(ast.parse(source), source)
    assert build_time_value(facts, facts.batch_norm_sites[0]) is None


def test_a_method_handed_on_as_a_value_is_followed() -> None:
    source = HEAD.format(init="        self.is_training = True\n        self._build()", more="").replace(
        "        self.out = self._bn(self.images)", "        self.out = self._apply(self._bn)") + \
        "\n    def _apply(self, block):\n        return block(self.images)\n"
    facts = facts_module.build(ast.parse(source), source)
    assert build_time_value(facts, facts.batch_norm_sites[0]).value is True
