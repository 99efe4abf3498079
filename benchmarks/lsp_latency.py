"""How long after a change the language server publishes a document's diagnostics.

    python benchmarks/lsp_latency.py                    # a 2,000-line training script
    python benchmarks/lsp_latency.py --lines 4000 --changes 40
    python benchmarks/lsp_latency.py --profile dense    # batch norm and a train op every 20 lines

It starts `migrate-bn lsp` as an editor would (stdio), opens a generated
document, then makes `--changes` single-line edits, one at a time, and times each from
the `didChange` notification to the `publishDiagnostics` for that version: the debounce,
the analysis and the round trip. It also times `api.analyze` on the same text in this
process, to show how much of the latency is the analysis itself. The figures in
docs/editors.md come from this script.

Profiles: `typical` is a TF1 training script of the kind migrate-bn is for: a ResNet-style
model of 60 `conv_bn` units (one `tf.layers.batch_normalization` in the helper), input
pipeline helpers, and one train op that misses the update ops (one BN001). `dense` packs
a batch-norm block and a train op into every 20 lines (100 findings in 2,000 lines).
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import time
from pathlib import Path

from lsprotocol import types
from pygls.lsp.client import LanguageClient

from migrate_bn.api import analyze

TYPICAL_HEAD = '''"""A generated TF1 training script for the language-server latency benchmark."""
import os
import time

import numpy as np
import tensorflow as tf

FLAGS = tf.app.flags.FLAGS
tf.app.flags.DEFINE_integer("batch_size", 64, "Images per batch.")
tf.app.flags.DEFINE_float("learning_rate", 0.1, "Initial learning rate.")


def conv_bn(inputs, filters, kernel, stride, training, name):
    with tf.variable_scope(name):
        net = tf.layers.conv2d(inputs, filters, kernel, stride, padding="same", use_bias=False)
        net = tf.layers.batch_normalization(net, training=training)
        return tf.nn.relu(net)

'''
TYPICAL_HELPER = '''

def parse_record_{i}(serialized, image_size={i}):
    """Decode one example (helper {i})."""
    features = tf.parse_single_example(serialized, {{
        "image": tf.FixedLenFeature([], tf.string),
        "label": tf.FixedLenFeature([], tf.int64),
    }})
    image = tf.image.decode_jpeg(features["image"], channels=3)
    image = tf.image.resize_images(image, [image_size, image_size])
    image = tf.cast(image, tf.float32) / 255.0
    if image_size > 100:
        image = tf.image.random_flip_left_right(image)
    label = tf.cast(features["label"], tf.int32)
    return image, label

'''
TYPICAL_MODEL = '''
def resnet(images, training):
    net = images
{units}    logits = tf.layers.dense(tf.reduce_mean(net, [1, 2]), 1000)
    return logits


def train(images, labels, training):
    logits = resnet(images, training)
    loss = tf.losses.sparse_softmax_cross_entropy(labels, logits)
    optimizer = tf.train.MomentumOptimizer(FLAGS.learning_rate, momentum=0.9)
    train_op = optimizer.minimize(loss, global_step=tf.train.get_or_create_global_step())
    return train_op, loss
'''
DENSE_HEAD = '''"""A generated TF1 module: a batch-norm block and a train op every 20 lines."""
import tensorflow as tf
'''
DENSE_BLOCK = '''

def block_{i}(inputs, labels, training):
    net = tf.layers.conv2d(inputs, 16, 3, padding="same", use_bias=False)
    net = tf.layers.batch_normalization(net, training=training)
    net = tf.nn.relu(net)
    logits = tf.layers.dense(tf.layers.flatten(net), 10)
    loss = tf.losses.sparse_softmax_cross_entropy(labels, logits)
    tf.summary.scalar("loss_{i}", loss)
    optimizer = tf.train.AdamOptimizer(learning_rate=1e-3)
    # The moving statistics never update with this train op.
    train_op = optimizer.minimize(loss)
    return train_op, loss
'''


def document(lines: int, profile: str) -> str:
    if profile == "dense":
        parts = [DENSE_HEAD]
        i = 0
        while sum(part.count("\n") for part in parts) < lines:
            parts.append(DENSE_BLOCK.format(i=i))
            i += 1
        text = "".join(parts)
    else:
        units = 60
        model = TYPICAL_MODEL.format(units="".join(
            f'    net = conv_bn(net, {64 * (1 + k // 20)}, 3, 1, training, "unit_{k}")\n' for k in range(units)))
        parts = [TYPICAL_HEAD]
        budget = lines - TYPICAL_HEAD.count("\n") - model.count("\n")
        i = 0
        while (i + 1) * TYPICAL_HELPER.count("\n") <= budget:
            parts.append(TYPICAL_HELPER.format(i=i))
            i += 1
        parts.append(model)
        text = "".join(parts)
    text_lines = text.split("\n")[:lines]
    text_lines += [""] * (lines - len(text_lines))
    return "\n".join(text_lines) + "\n"


class Client(LanguageClient):
    def __init__(self) -> None:
        super().__init__("lsp-latency-benchmark", "1")
        self.arrived: dict[int, float] = {}
        self.waiting: dict[int, asyncio.Future] = {}
        self.findings: dict[int, int] = {}

        @self.feature(types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS)
        def published(params: types.PublishDiagnosticsParams) -> None:
            if params.version is None:
                return
            self.arrived[params.version] = time.perf_counter()
            self.findings[params.version] = len(params.diagnostics)
            future = self.waiting.pop(params.version, None)
            if future is not None and not future.done():
                future.set_result(None)

    async def diagnostics(self, version: int, timeout: float) -> None:
        if version in self.arrived:
            return
        future = asyncio.get_running_loop().create_future()
        self.waiting[version] = future
        await asyncio.wait_for(future, timeout)


async def measure(text: str, changes: int, pause: float, timeout: float) -> tuple[list[float], int]:
    client = Client()
    script = Path(sys.executable).with_name("migrate-bn")  # what editors run
    command = [str(script), "lsp"] if script.exists() else [sys.executable, "-I", "-m", "migrate_bn", "lsp"]
    await client.start_io(*command)
    await client.initialize_async(types.InitializeParams(capabilities=types.ClientCapabilities(),
                                                         root_uri=Path.cwd().as_uri()))
    client.initialized(types.InitializedParams())
    uri = (Path.cwd() / "lsp_latency_benchmark.py").as_uri()
    client.text_document_did_open(types.DidOpenTextDocumentParams(
        text_document=types.TextDocumentItem(uri=uri, language_id="python", version=1, text=text)))
    await client.diagnostics(1, timeout)
    latencies = []
    line = next(number for number, content in enumerate(text.split("\n")) if content.startswith("def "))
    for version in range(2, changes + 2):
        await asyncio.sleep(pause)  # one edit at a time, as a person types a word and stops
        # Alternately add and remove a comment at the end of a `def` line: one-line edits.
        edit = "  # edited" if version % 2 == 0 else ""
        end = len(text.split("\n")[line]) + (0 if version % 2 == 0 else len("  # edited"))
        start = len(text.split("\n")[line])
        sent = time.perf_counter()
        client.text_document_did_change(types.DidChangeTextDocumentParams(
            text_document=types.VersionedTextDocumentIdentifier(uri=uri, version=version),
            content_changes=[types.TextDocumentContentChangePartial(
                range=types.Range(start=types.Position(line=line, character=start),
                                  end=types.Position(line=line, character=end)),
                text=edit)]))
        await client.diagnostics(version, timeout)
        latencies.append(client.arrived[version] - sent)
    findings = client.findings[changes + 1]
    await client.shutdown_async(None)
    client.exit(None)
    await client.stop()
    return latencies, findings


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lines", type=int, default=2000)
    parser.add_argument("--profile", choices=["typical", "dense"], default="typical")
    parser.add_argument("--changes", type=int, default=30)
    parser.add_argument("--pause", type=float, default=0.3, help="seconds between edits")
    parser.add_argument("--timeout", type=float, default=600.0, help="seconds to wait for one publication")
    args = parser.parse_args()
    text = document(args.lines, args.profile)
    source = text.encode()
    analyze(source, "warmup.py")
    timings = []
    for _ in range(max(5, min(args.changes, 20))):
        start = time.perf_counter()
        analyze(source, "lsp_latency_benchmark.py")
        timings.append(time.perf_counter() - start)
    latencies, findings = asyncio.run(measure(text, args.changes, args.pause, args.timeout))

    def ms(seconds: float) -> str:
        return f"{seconds * 1000:.0f} ms"

    ordered = sorted(latencies)
    p90 = ordered[min(len(ordered) - 1, int(round(0.9 * (len(ordered) - 1))))]
    print(f"document: {args.lines} lines ({args.profile}), {findings} finding(s)")
    print(f"change -> diagnostics: median {ms(statistics.median(latencies))}, p90 {ms(p90)}, "
          f"min {ms(ordered[0])}, max {ms(ordered[-1])} over {len(latencies)} changes")
    print(f"api.analyze alone:     median {ms(statistics.median(timings))}, min {ms(min(timings))} "
          f"over {len(timings)} runs")


if __name__ == "__main__":
    main()
