"""What a whole project does with Keras batch norm: the project-wide questions behind the
Keras forms of BN003 and BN008 (design.md section 7).

A Keras `BatchNormalization` follows the Keras learning phase when it is called without
`training=`, and keeps its update ops in `layer.updates`, never in `UPDATE_OPS`. Whether
that is a bug depends on the rest of the program: a Keras `fit` sets the phase and runs
the updates, `set_learning_phase` or a fed `learning_phase()` sets it, a model's `call`
passes `training` on to the layers inside it, and a train op that depends on `.updates`
runs them. Those places are usually in other modules (the layers in a helper module, the
train op in a trainer class or an Estimator `model_fn` looked up by name), so one
module's facts cannot tell. This module reads every Python file of the project once per
run (the raw text, never run: its imports and whether it makes a Keras batch norm; the
rest of a file's facts only as far as an answer needs them, `TreePicture`) and answers:

- `phase_never_set`: the project trains only through TF1 graph train ops (`minimize`,
  `apply_gradients`, an `EstimatorSpec`, ...), and nothing sets the learning phase,
  calls `fit`/`train_on_batch`, records a `GradientTape`, builds or subclasses a Keras
  model: a Keras batch norm called without `training=` runs in inference mode for the
  whole training run.
- `keras_updates_never_run`: the project's batch norm is all Keras, called with a
  training flag, and nothing mentions `.updates` / `get_updates_for` nor trains with
  Keras: a train op that groups `UPDATE_OPS` runs none of the batch-norm updates it meant to.

The picture is coarse on purpose: a word it cannot place (in a comment, a string, a
function never called) can only make it answer "unknown", which keeps the rules silent;
the two positive facts (a Keras batch norm, a TF1 train op) come from code patterns
that are not written by accident.
"""

from __future__ import annotations

import os
import re
import weakref
from dataclasses import dataclass
from typing import Optional

from .spelled import word_start


class _Words:
    """A regular expression given as its alternatives, each with a word that every match
    of it contains; an alternative is searched only in a text holding its word. `re`
    tries an alternation, or a pattern that starts with `\\b`, at every position of the
    text, while a pattern that starts with a literal is found by a fast scan for it, and a
    substring test (`str.__contains__`) is cheaper still; most files hold none of the
    words (reading the Keras picture of the bulk tree took 8 s of regular expressions
    for 1,801 files, four times parsing the analysed ones). `search` finds a match of
    some alternative when there is one (the leftmost match when there is one alternative)."""

    def __init__(self, *alternatives: tuple[str, str]) -> None:
        self.alternatives = tuple((word, re.compile(pattern)) for word, pattern in alternatives)
        self.pattern = re.compile("|".join(pattern for _, pattern in alternatives))  # the same matches, at once

    def search(self, text: str) -> Optional[re.Match]:
        for word, pattern in self.alternatives:
            if word in text:
                found = pattern.search(text)
                if found is not None:
                    return found
        return None


# Directories that are never the project's own code.
_SKIPPED_DIRECTORIES = frozenset({".git", ".hg", ".svn", "__pycache__", "node_modules", "site-packages",
                                  ".venv", "venv", ".tox", "build", "dist"})
_MAX_FILES = 5000  # a tree larger than this is not read: unknown, so silent
# Notebooks too: a notebook that calls `fit` on the project's model sets the phase.
_READ_SUFFIXES = (".py", ".ipynb")

_COMMENT = re.compile(r"#[^\n]*")
# A Keras BatchNormalization made in the file: `keras.layers.BatchNormalization(` (any
# prefix: tf.keras, tf.compat.v1.keras, a project's `tf` alias), or the class imported
# from a Keras module and called.
_KERAS_BN_DOTTED = _Words(("keras.layers.", r"keras\.layers\.(?:normalization\.)?BatchNormalization(?:V[12])?\s*\("))
_KERAS_IMPORT = re.compile(r"from\s+[\w.]*keras[\w.]*\s+import\s+(?:\([^)]*\)|[^\n]*)")
_BN_CALL = _Words(("BatchNormalization", word_start("BatchNormalization") + r"(?:V[12])?\s*\("))
# Any other batch norm: tf.layers, contrib/slim, fused, a project's own moving averages,
# slim nets, updates written to the collection by hand.
_OTHER_BN = _Words(("batch_norm", r"\.batch_norm\s*\("), ("batch_norm", r"import[^\n]*\bbatch_norm\b"),
                   ("batch_normalization", r"batch_normalization\s*\("), ("fused_batch_norm", "fused_batch_norm"),
                   ("assign_moving_average", "assign_moving_average"),
                   ("ExponentialMovingAverage", "ExponentialMovingAverage"), ("normalizer_fn", "normalizer_fn"),
                   ("UPDATE_OPS", r"add_to_collections?\s*\([^)]*UPDATE_OPS"),
                   ("layers.BatchNormalization", r"(?<!keras\.)layers\.BatchNormalization"),
                   *((f"{net}_", word_start(net) + r"_v?\d") for net in ("inception", "resnet", "mobilenet", "nasnet")))
# Keras sets the learning phase or runs the updates itself, or the phase is set by hand.
_KERAS_TRAINING = _Words(("learning_phase", "learning_phase"), ("fit_generator", r"fit_generator\s*\("),
                         ("train_on_batch", r"train_on_batch\s*\("), ("GradientTape", "GradientTape"),
                         ("K.function", word_start("K") + r"\.function\s*\("),
                         ("backend.function", r"backend\.function\s*\("))
# `x.fit(...)`: Keras training only where a Keras model exists (libraries have their own `fit`).
_FIT = re.compile(r"\.fit\s*\(")
# A Keras model, whose call passes `training` on to the layers inside it.
_KERAS_MODEL = _Words(("Model", word_start("Model") + r"\s*\("), ("Sequential", word_start("Sequential") + r"\s*\("),
                      ("Input", word_start("Input") + r"\s*\("),
                      ("class", r"class\s+\w+\s*\([^)]*\b(?:Layer|Model)\s*\)"),
                      ("load_model", r"load_model\s*\("), ("applications.", r"applications\."))
# Searched in "\n" + code: a pattern that starts with a literal is found by a fast scan
# for it, where `^` in MULTILINE mode is tried at every position (3.5 times slower).
_IMPORTED = re.compile(r"\n[ \t]*(?:from|import)[ \t]+(\w+)")
_KERAS_UPDATES = _Words((".updates", r"\.updates\b"), ("get_updates_for", r"get_updates_for\s*\("))
# A training flag given to a Keras batch norm (anything but a literal False / None).
_TRAINING_GIVEN = _Words(("training", word_start("training") + r"\s*=\s*(?!False\b|None\b|0\b)[\w(]"))
# TF1 graph training: a train op built in a file that shows TF1 graph code.
_TRAIN_OP = _Words((".minimize", r"\.minimize\s*\("), (".apply_gradients", r"\.apply_gradients\s*\("),
                   ("EstimatorSpec", r"EstimatorSpec\s*\("), ("create_train_op", r"create_train_op\s*\("),
                   ("optimize_loss", r"optimize_loss\s*\("))
_TF1_GRAPH = _Words(("compat.v1", r"compat\.v1"), ("Session", r"Session\s*\("), ("placeholder", "placeholder"),
                    ("estimator", word_start("estimator") + r"\b"),
                    ("tf.train.", word_start("tf") + r"\.train\.\w*Optimizer"), ("GraphKeys", "GraphKeys"),
                    ("disable_v2_behavior", "disable_v2_behavior"),
                    ("disable_eager_execution", "disable_eager_execution"))


@dataclass(frozen=True)
class FileFacts:
    """What one file's text shows about Keras batch norm and training."""

    keras_batch_norm: bool
    keras_flag_given: bool  # its Keras batch norm is called with a training flag somewhere
    other_batch_norm: bool
    keras_training: bool
    fit_call: bool
    keras_model: bool
    keras_updates: bool
    tf1_training: bool
    imports: frozenset[str] = frozenset()  # the top-level modules it imports
    keras_line: int = 0  # the line of its first Keras batch norm


def read_text(text: str) -> FileFacts:
    """The facts of one file's source text (comments dropped)."""
    code = _COMMENT.sub("", text)
    first = _KERAS_BN_DOTTED.search(code)
    if first is None and any("BatchNormalization" in match.group(0) for match in _KERAS_IMPORT.finditer(code)):
        first = _BN_CALL.search(code)
    keras_bn = first is not None
    other = bool(_OTHER_BN.search(code))
    return FileFacts(
        keras_batch_norm=keras_bn,
        keras_flag_given=keras_bn and bool(_TRAINING_GIVEN.search(code)),
        other_batch_norm=other,
        keras_training=bool(_KERAS_TRAINING.search(code)),
        fit_call=bool(_FIT.search(code)),
        keras_model="keras" in code and bool(_KERAS_MODEL.search(code)),
        keras_updates=bool(_KERAS_UPDATES.search(code)),
        tf1_training=bool(_TRAIN_OP.search(code)) and bool(_TF1_GRAPH.search(code)),
        imports=frozenset(_IMPORTED.findall("\n" + code)),
        keras_line=code.count("\n", 0, first.start()) + 1 if first is not None else 0,
    )


@dataclass(frozen=True)
class KerasPicture:
    """The project's files, summed up."""

    files: tuple[str, ...]  # every file read (the answers depend on them)
    keras_batch_norm: tuple[str, ...]  # files that make a Keras batch norm
    keras_lines: tuple[int, ...]  # the line of the first one in each
    keras_flag_given: bool  # every such file passes a training flag to it
    other_batch_norm: bool
    keras_training: bool
    keras_model: bool
    keras_updates: bool
    tf1_training: bool
    complete: bool  # every file could be read

    @property
    def phase_never_set(self) -> bool:
        """Keras batch norm called without `training=` runs in inference mode whenever this
        project trains it."""
        return (self.complete and self.tf1_training and bool(self.keras_batch_norm) and
                not (self.keras_training or self.keras_model))

    @property
    def keras_updates_never_run(self) -> bool:
        """A train op of this project that reads UPDATE_OPS for batch-norm updates gets none:
        its batch norm is all Keras, trained with a flag, and nothing runs `.updates`."""
        return (self.complete and self.tf1_training and bool(self.keras_batch_norm) and self.keras_flag_given and
                not (self.other_batch_norm or self.keras_training or self.keras_updates))


def combine(paths: tuple[str, ...], facts: list[FileFacts], complete: bool) -> KerasPicture:
    keras_files = tuple(path for path, fact in zip(paths, facts) if fact.keras_batch_norm)
    return KerasPicture(
        files=paths,
        keras_batch_norm=keras_files,
        keras_lines=tuple(fact.keras_line for fact in facts if fact.keras_batch_norm),
        keras_flag_given=bool(keras_files) and all(f.keras_flag_given for f in facts if f.keras_batch_norm),
        other_batch_norm=any(f.other_batch_norm for f in facts),
        keras_training=any(f.keras_training for f in facts) or (
            any(f.fit_call for f in facts) and any(f.keras_model for f in facts)),
        keras_model=any(f.keras_model for f in facts),
        keras_updates=any(f.keras_updates for f in facts),
        tf1_training=any(f.tf1_training for f in facts),
        complete=complete,
    )


def module_picture(text: str, path: str = "<module>") -> KerasPicture:
    """A module read alone (no project around it): it is the whole program."""
    return combine((path,), [read_text(text)], True)


class TreeFile:
    """One file of a project tree, as the picture reads it with the tree: the modules it
    imports, and whether it makes a Keras batch norm (every match of those patterns
    holds `BatchNormalization`: a file without the word makes none), with all its
    `FileFacts` when it may. The other facts of a file without the word are read when an
    answer first needs them (`facts`), from the file again: most programs have no Keras
    batch norm, or other batch norm and Keras training in their first files, and the
    facts of every file cost 0.25 s for the bulk tree's two pictures (13.8 MB of text,
    notebooks with their images among them)."""

    __slots__ = ("path", "imports", "keras_batch_norm", "_facts", "_read")

    def __init__(self, path: str, text: str) -> None:
        self.path = path
        code = _COMMENT.sub("", text)
        self.imports = frozenset(_IMPORTED.findall("\n" + code))
        self._read = "BatchNormalization" in code
        self._facts: Optional[FileFacts] = read_text(text) if self._read else None
        self.keras_batch_norm = self._facts is not None and self._facts.keras_batch_norm

    def facts(self) -> Optional[FileFacts]:
        """All its facts; None when the file can no longer be read."""
        if not self._read:
            self._read = True
            text = _read(self.path)
            self._facts = None if text is None else read_text(text)
        return self._facts


class TreePicture:
    """`KerasPicture`'s answers for files of a tree, each file's facts read only as far
    as an answer needs them (cheapest first, each `any` stopping at its first file):
    the answers `combine` gives for the facts of all of them. A file that can no longer
    be read makes an answer unknown: no."""

    def __init__(self, files: list[Optional[TreeFile]]) -> None:
        self._files = [file for file in files if file is not None]
        self._complete = len(self._files) == len(files)
        keras = [file for file in self._files if file.keras_batch_norm]
        self.keras_batch_norm = tuple(file.path for file in keras)
        self.keras_lines = tuple(file.facts().keras_line for file in keras)  # type: ignore[union-attr]
        self._keras_flag_given = bool(keras) and all(file.facts().keras_flag_given for file in keras)  # type: ignore[union-attr]

    @property
    def phase_never_set(self) -> bool:
        """`KerasPicture.phase_never_set`."""
        if not (self._complete and self.keras_batch_norm):
            return False
        return self._none_of("keras_model", "keras_training") and self._any("tf1_training") is True

    @property
    def keras_updates_never_run(self) -> bool:
        """`KerasPicture.keras_updates_never_run`."""
        if not (self._complete and self.keras_batch_norm and self._keras_flag_given):
            return False
        if not self._none_of("other_batch_norm", "keras_training", "keras_updates"):
            return False
        fit = self._any("fit_call")
        if fit is None or (fit and self._any("keras_model") is not False):
            return False  # `fit` on a Keras model: Keras trains (or a file is unknown)
        return self._any("tf1_training") is True

    def _none_of(self, *fields: str) -> bool:
        return all(self._any(field) is False for field in fields)

    def _any(self, field: str) -> Optional[bool]:
        """Does a file have this fact? None: a file can no longer be read."""
        for file in self._files:
            found = file.facts()
            if found is None:
                return None
            if getattr(found, field):
                return True
        return False


# The files of each project root, read once per Project (one run): every module asks.
_TREES: "weakref.WeakKeyDictionary[object, dict[str, list[tuple[str, Optional[TreeFile]]]]]" = \
    weakref.WeakKeyDictionary()


def forget(project, changed: frozenset[str], came_or_went: frozenset[str]) -> None:
    """After a save (model/refresh.py): a file's Keras facts depend on its text alone,
    so the files that changed are read again; a tree whose files came or went is read
    again whole when next asked."""
    trees = _TREES.get(project)
    for root, files in list((trees or {}).items()):
        if any(path.startswith(root + os.sep) for path in came_or_went):
            del trees[root]
        elif any(path in changed for path, _ in files):
            trees[root] = read_files([path for path, _ in files], files, changed)


def project_picture(facts) -> "KerasPicture | TreePicture":
    """The picture of the program the module belongs to, or of the module alone when it
    is analysed without a project (stdin, an editor buffer).

    The program of a module inside a package is that package's files plus the files
    that import it (a script beside `distributed/` that builds its own graph and never
    imports the package trains nothing of it); a module outside any package belongs to
    its whole project tree."""
    resolver = getattr(facts, "resolver", None)
    if resolver is None:
        return module_picture(facts.text)
    root = project_root(resolver.path)
    trees = _TREES.setdefault(resolver.project, {})
    if root not in trees:
        resolver.project.watch(root)  # the language server's refresh sees its files change
        trees[root] = _read_tree(root)
    files = trees[root]
    if len(files) > _MAX_FILES:
        return combine((), [], False)
    package = package_directory(resolver.path)
    if package is not None:
        name = os.path.basename(package)
        inside = package + os.sep
        files = [(path, file) for path, file in files
                 if path.startswith(inside) or (file is not None and name in file.imports)]
    # A finding that rests on other files is stale when any of them changes (the cache).
    resolver.dependencies.update(path for path, _ in files if path != resolver.path)
    return TreePicture([file for _, file in files])


def package_directory(path: str) -> Optional[str]:
    """The outermost package directory holding `path`, or None outside any package."""
    directory = os.path.dirname(os.path.abspath(path))
    package = None
    while os.path.isfile(os.path.join(directory, "__init__.py")):
        package = directory
        parent = os.path.dirname(directory)
        if parent == directory:
            break
        directory = parent
    return package


def project_root(path: str) -> str:
    """The directory the project lives in: the nearest one above `path` with a root
    marker (.git, setup.py, ...); else the directory above the outermost package."""
    from ..project import marker_root

    root = marker_root(path)
    if root is not None:
        return root
    directory = os.path.dirname(os.path.abspath(path))
    while os.path.isfile(os.path.join(directory, "__init__.py")) and os.path.dirname(directory) != directory:
        directory = os.path.dirname(directory)
    return directory


def _read_tree(root: str) -> list[tuple[str, Optional[TreeFile]]]:
    """Every Python file and notebook under `root`, read (None: unreadable)."""
    paths: list[str] = []
    for directory, subdirectories, files in os.walk(root):
        subdirectories[:] = sorted(d for d in subdirectories if d not in _SKIPPED_DIRECTORIES and not d.startswith("."))
        paths.extend(os.path.join(directory, name) for name in sorted(files) if name.endswith(_READ_SUFFIXES))
        if len(paths) > _MAX_FILES:
            return [(path, None) for path in paths]
    return read_files(paths)


def read_files(paths: list[str], known: Optional[list[tuple[str, Optional[TreeFile]]]] = None,
               changed: frozenset[str] = frozenset()) -> list[tuple[str, Optional[TreeFile]]]:
    """Each file, read (None: unreadable), those of `known` (an earlier read of the
    files) kept for the files not in `changed` (the language server's refresh)."""
    reuse = dict(known or ())
    return [(path, reuse[path] if path in reuse and path not in changed else _file_of(path)) for path in paths]


def _file_of(path: str) -> Optional[TreeFile]:
    text = _read(path)
    return None if text is None else TreeFile(path, text)


def _read(path: str) -> Optional[str]:
    try:
        with open(path, "rb") as handle:
            return handle.read().decode("utf-8", "replace")
    except OSError:
        return None


# --- the questions the rules ask ------------------------------------------------------

# Methods whose layers get `training` from the call around them (Keras passes it on).
_PASSING_METHODS = frozenset({"call", "__call__"})


def keras_phase_unset(facts, site) -> bool:
    """BN003's Keras form: is this Keras batch norm, applied without `training=`, in a
    program that trains it with TF1 train ops and never sets the learning phase?"""
    if site.how != "apply" or site.flag is not None:
        return False
    scope = site.scope
    while scope is not None:
        if scope.kind == "class" or (scope.kind == "function" and scope.name in _PASSING_METHODS):
            return False  # a layer's or model's own method: its caller may pass `training`
        scope = scope.parent
    return project_picture(facts).phase_never_set
