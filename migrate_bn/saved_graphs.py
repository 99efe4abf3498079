"""Find and read what a TF1 run left on disk: checkpoint values and the graph beside them.

`migrate-bn doctor PATH` takes any of:

- a checkpoint prefix (`model.ckpt`, `model.ckpt-1000`), its `.meta` beside it;
- a directory of checkpoints (the newest one, as its `checkpoint` file names it);
- an Estimator model directory (`graph.pbtxt`, `model.ckpt-N.*`);
- a SavedModel directory (`saved_model.pb`, `variables/`).

Graphs are read as protocol buffers (MetaGraphDef, GraphDef, SavedModel) and values with
TensorFlow's checkpoint reader: nothing the project wrote is imported or run. TensorFlow
is imported here only, with its start-up logging silenced.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Optional

import numpy as np

from . import graph_functions
from .graph_doctor import Node, Signature


class SavedGraphError(Exception):
    """PATH is none of the accepted forms, or a file in it cannot be read."""


@dataclass
class Saved:
    """What PATH holds."""

    path: str
    kind: str  # "checkpoint" | "estimator" | "saved_model"
    checkpoint: Optional[str]  # the prefix the values are read from
    graph_file: Optional[str]  # the .meta / graph.pbtxt / saved_model.pb the graph came from
    nodes: list[Node] = field(default_factory=list)
    signatures: list[Signature] = field(default_factory=list)
    values: dict[str, np.ndarray] = field(default_factory=dict)  # moving statistics and global_step
    global_step: Optional[int] = None


def tensorflow() -> Any:
    """TensorFlow, imported quietly: no C++ start-up lines, no absl warnings."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    try:
        import absl.logging
        absl.logging.set_verbosity(absl.logging.ERROR)
        import tensorflow as tf
    except ImportError:
        raise SavedGraphError("`migrate-bn doctor` needs TensorFlow: pip install 'migrate-bn[tf1]' "
                              "or any tensorflow") from None
    tf.get_logger().setLevel("ERROR")
    return tf


_STEP = re.compile(r"-(\d+)$")


def locate(path: str) -> tuple[str, Optional[str], Optional[str]]:
    """(kind, checkpoint prefix, graph file) for PATH, without TensorFlow."""
    target = Path(path)
    if target.suffix == ".meta" and target.is_file():
        target = target.with_suffix("")
    if target.is_dir():
        for name in ("saved_model.pb", "saved_model.pbtxt"):
            if (target / name).is_file():
                prefix = target / "variables" / "variables"
                return "saved_model", str(prefix) if _is_checkpoint(prefix) else None, str(target / name)
        prefix = _latest(target)
        graph_pbtxt = target / "graph.pbtxt"
        if prefix is None and not graph_pbtxt.is_file():
            raise SavedGraphError(f"{path}: no checkpoint, graph.pbtxt or saved_model.pb in this directory")
        return _with_graph(prefix, graph_pbtxt)
    if _is_checkpoint(target):
        return _with_graph(target, target.parent / "graph.pbtxt")
    if not target.exists() and not target.parent.is_dir():
        raise SavedGraphError(f"{path} does not exist")
    raise SavedGraphError(f"{path} is not a checkpoint prefix (no {target.name}.index), a checkpoint or "
                          "Estimator model directory, or a SavedModel")


def _with_graph(prefix: Optional[Path], graph_pbtxt: Path) -> tuple[str, Optional[str], Optional[str]]:
    kind = "estimator" if graph_pbtxt.is_file() else "checkpoint"
    meta = Path(f"{prefix}.meta") if prefix is not None else None
    if meta is not None and meta.is_file():
        graph = str(meta)
    elif graph_pbtxt.is_file():
        graph = str(graph_pbtxt)
    else:
        graph = None
    return kind, str(prefix) if prefix is not None else None, graph


def _is_checkpoint(prefix: Path) -> bool:
    return Path(f"{prefix}.index").is_file() or Path(f"{prefix}").is_file() and prefix.suffix == ".ckpt"


def _latest(directory: Path) -> Optional[Path]:
    """The checkpoint the directory's `checkpoint` file names, else the highest step."""
    state = directory / "checkpoint"
    if state.is_file():
        match = re.search(r'^model_checkpoint_path:\s*"(.*)"', state.read_text(errors="replace"), re.M)
        if match:
            named = Path(match.group(1))
            named = named if named.is_absolute() else directory / named
            if _is_checkpoint(named):
                return named
    prefixes = [Path(str(index)[: -len(".index")]) for index in directory.glob("*.index")]
    if not prefixes:
        return None

    def step(prefix: Path) -> int:
        match = _STEP.search(prefix.name)
        return int(match.group(1)) if match else -1
    return max(prefixes, key=lambda prefix: (step(prefix), prefix.name))


def load(path: str, statistics: Callable[[list[str]], list[str]]) -> Saved:
    """Read PATH: its graph's nodes and signatures, and the checkpoint values of the
    variables `statistics` picks from the checkpoint's names."""
    kind, prefix, graph_file = locate(path)
    saved = Saved(path, kind, prefix, graph_file)
    tf = tensorflow()
    if graph_file is not None:
        saved.nodes, saved.signatures = _read_graph(graph_file)
    if prefix is not None:
        try:
            reader = tf.train.load_checkpoint(prefix)
            names = list(reader.get_variable_to_shape_map())
            for name in statistics(names):
                saved.values[name] = np.asarray(reader.get_tensor(name))
            if "global_step" in names:
                saved.global_step = int(np.asarray(reader.get_tensor("global_step")))
        except Exception as error:  # TensorFlow's reader: not a checkpoint, truncated, ...
            raise SavedGraphError(f"cannot read {prefix} as a TensorFlow checkpoint: {error}") from None
    return saved


def _read_graph(graph_file: str) -> tuple[list[Node], list[Signature]]:
    from google.protobuf import text_format
    from tensorflow.core.framework import graph_pb2
    from tensorflow.core.protobuf import meta_graph_pb2, saved_model_pb2

    try:
        data = Path(graph_file).read_bytes()
        if graph_file.endswith("saved_model.pb") or graph_file.endswith("saved_model.pbtxt"):
            model = saved_model_pb2.SavedModel()
            _parse(model, data, graph_file, text_format)
            metas = list(model.meta_graphs)
            if not metas:
                return [], []
            meta = next((m for m in metas if "serve" in m.meta_info_def.tags), metas[0])
            return _nodes(meta.graph_def), _signatures(meta)
        if graph_file.endswith(".meta"):
            meta = meta_graph_pb2.MetaGraphDef()
            _parse(meta, data, graph_file, text_format)
            return _nodes(meta.graph_def), _signatures(meta)
        graph = graph_pb2.GraphDef()
        _parse(graph, data, graph_file, text_format)
        return _nodes(graph), []
    except (OSError, ValueError, text_format.ParseError) as error:
        raise SavedGraphError(f"cannot read the graph {graph_file}: {error}") from None


def _parse(message: Any, data: bytes, path: str, text_format: Any) -> None:
    if path.endswith(".pbtxt"):
        text_format.Parse(data.decode("utf-8"), message)
    else:
        message.ParseFromString(data)


def _nodes(graph_def: Any) -> list[Node]:
    return graph_functions.flatten(graph_def)


def _signatures(meta: Any) -> list[Signature]:
    found = []
    for key in sorted(meta.signature_def):
        signature = meta.signature_def[key]
        inputs = tuple(signature.inputs[alias].name for alias in sorted(signature.inputs))
        outputs = tuple((alias, signature.outputs[alias].name) for alias in sorted(signature.outputs))
        found.append(Signature(key, inputs, outputs))
    return found
