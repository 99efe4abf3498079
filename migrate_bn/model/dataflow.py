"""Which values does one batch norm feed? Data flow by names (design.md section 7).

`ModuleFacts.model_outputs` holds every name computed from any batch norm of the
module. A run that fetches one of them evaluates *some* batch norm, not necessarily a
given one: a training network and a validation network built by two calls of the same
model function (weights shared through `reuse`) each have their own batch norm, and a
run that fetches the validation network's predictions computes nothing of the
training network's. Rules ask this module whether a run computes a value that one
site feeds.

The flow follows names as `model_outputs` does: what the site's statement binds (and,
for a site inside a function, what the calls of that function and of its callers
bind), then every assignment and collecting call (`outputs.append(x)`) that uses them.
When the site's statement and its callers bind nothing, the flow is unknown and every
run that evaluates the module's batch norm may evaluate this one.
"""

from __future__ import annotations

import ast
from typing import TYPE_CHECKING, Optional

if TYPE_CHECKING:  # the facts are built below the model; the model only reads them
    from ..facts import BatchNormSite, ModuleFacts, SessionRun

_MAX_ROUNDS = 8


def may_evaluate(facts: "ModuleFacts", site: "BatchNormSite", run: "SessionRun") -> bool:
    """May `run` (a run that evaluates the module's batch norm) compute a value this
    site feeds?"""
    outputs = site_outputs(facts, site)
    if outputs is None or run.fetches is None:
        return True
    from ..facts import mentions_names

    return mentions_names(run.fetches, outputs)


def site_outputs(facts: "ModuleFacts", site: "BatchNormSite") -> Optional[set[str]]:
    """The names (and `self.` attributes) computed from this site; None when unknown."""
    cache = facts.model_cache.setdefault("site_outputs", {})
    if id(site) not in cache:
        cache[id(site)] = _outputs(facts, site)
    return cache[id(site)]


def seed_names(facts: "ModuleFacts", site: "BatchNormSite") -> set[str]:
    """What the site's statement binds and what the calls of the functions that
    (transitively) build it bind: where the flow from one batch norm starts."""
    from ..facts import assigned_names

    names = set(assigned_names(site.stmt))
    builders = facts.with_callers({id(site.scope)}) if site.scope.kind == "function" else set()
    for call in facts.local_calls:
        target = facts.called_function(call)
        if target is not None and id(target) in builders:
            names |= assigned_names(call.stmt)
    return names


def _outputs(facts: "ModuleFacts", site: "BatchNormSite") -> Optional[set[str]]:
    names = seed_names(facts, site)
    if not names:
        return None
    return propagate(facts, names, _MAX_ROUNDS)


def propagate(facts: "ModuleFacts", names: set[str], rounds: int) -> set[str]:
    """`names` and every name an assignment or a collecting call (`outputs.append(x)`)
    computes from them, over at most `rounds` passes (assignments out of source order,
    in methods, settle in later passes)."""
    from ..facts import COLLECTING_METHODS, assigned_names, mentions_names

    names = set(names)
    for _ in range(rounds):
        before = len(names)
        for node in facts.assignment_nodes:
            if mentions_names(node.value, names):
                names |= assigned_names(node)
        # `outputs.append(logits)` puts model outputs into `outputs`.
        for call, _ in facts.calls:
            func = call.func
            if isinstance(func, ast.Attribute) and func.attr in COLLECTING_METHODS and \
                    any(mentions_names(argument, names) for argument in call.args):
                target = func.value
                if isinstance(target, ast.Name):
                    names.add(target.id)
                elif isinstance(target, ast.Attribute) and isinstance(target.value, ast.Name) and \
                        target.value.id == "self":
                    names.add(f"self.{target.attr}")
        if len(names) == before:
            break
    return names
