"""Which network a GAN step trains, and whose batch norm it is: the whole-program model's
answer for train ops that each train one network (`var_list` picking a scope).

A step trains the variables its `var_list` names (`tf.trainable_variables('generator')`,
`[v for v in t_vars if v.name.startswith('discriminator')]`). A batch norm belongs to a
step when it is built under one of those scopes. The discriminator step of a GAN whose
discriminator has no batch norm computes the generator's batch norm (on the fakes) but
trains none of it: the generator's update ops belong to the generator's step, which is
reported on its own when it skips them, and running them in both steps would move the
generator's averages twice per iteration (BN009's concern). Established only when every
batch norm the step computes belongs to another step of the module; unknown scopes match
nothing.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Sequence

if TYPE_CHECKING:  # the facts are built below the model; the model only reads them
    from ..facts import BatchNormSite, ModuleFacts, TrainOp


def belongs(names: set[str], own: set[str]) -> bool:
    """Is a batch norm built under these scope names part of a network whose `var_list`
    strings are `own`?"""
    return any(fragment in name for name in names for fragment in own)


def trains_none_of(facts: "ModuleFacts", op: "TrainOp", sites: Sequence["BatchNormSite"],
                   steps: Sequence["TrainOp"]) -> bool:
    """Is `op` one network's step whose network builds none of `sites`, each of which
    belongs to another of `steps`?"""
    own = _fragments(facts, op)
    if not own or not sites:
        return False
    others = [_fragments(facts, step) for step in steps if step is not op and step.kind != "builder"]
    for site in sites:
        names = facts.scope_names_of(site)
        if belongs(names, own) or not any(other and belongs(names, other) for other in others):
            return False
    return True


def _fragments(facts: "ModuleFacts", op: "TrainOp") -> set[str]:
    """The scope names a step's `var_list` strings pick (`'G/' in v.name` picks `G`)."""
    return {string.strip("/") for string in facts.var_list_strings(op) if string.strip("/")}


def built_together(op: "TrainOp", other: "TrainOp") -> bool:
    """Are two steps built by the same top-level function or class (one GAN's two
    steps), not by two builders a program picks between (`SRGAN()` or `SRResnet()`,
    whose graph holds only one of the networks)?"""
    from .program import top_level_name

    return top_level_name(op.scope) == top_level_name(other.scope)
