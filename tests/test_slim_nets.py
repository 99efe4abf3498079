"""`upgrade` of tf-slim net calls: model code becomes a Keras model built once and called
with `training=`, the Keras nets are put beside it, and whatever else is in the way is
refused with a typed reason while the net's conversion is still offered.
The numeric proofs are in test_slim_nets_runtime.py.
"""

from __future__ import annotations

import ast
import textwrap
from pathlib import Path


from click.testing import CliRunner

from migrate_bn import facts as facts_module
from migrate_bn.cli import main
from migrate_bn.slim_nets.upgrade import NetCall, NetRefusal, net_calls, package_files
from migrate_bn.source import parse
from migrate_bn.upgrade import upgrade_source

# Model code as tf-slim users wrote it (weight decay as resnet_arg_scope()'s default).
MODEL = (Path(__file__).resolve().parent.parent / "fixtures" / "slim_nets" / "model.py").read_text()


def calls(text: str, path=None) -> list:
    return net_calls(facts_module.build(parse(text), text), path)


def test_model_code_becomes_a_keras_model_built_once() -> None:
    result = upgrade_source(MODEL)
    assert result.skipped is None
    assert result.text == textwrap.dedent("""\
        import tensorflow as tf
        from slim_nets_keras import resnet_v1

        NUM_CLASSES = 10


        resnet_v1_50_model = resnet_v1.resnet_v1_50(num_classes=NUM_CLASSES, weight_decay=1e-4)


        def model(images, is_training):
            logits, end_points = resnet_v1_50_model(images, training=is_training)
            return logits, end_points['predictions']
    """)
    assert sorted(result.files) == sorted(f"slim_nets_keras/{name}" for name in (
        "__init__.py", "inception_v1.py", "inception_v2.py", "inception_v3.py", "layers.py", "mobilenet_v1.py",
        "resnet_utils.py", "resnet_v1.py", "resnet_v2.py", "vgg.py"))
    # A second run has nothing left to do.
    again = upgrade_source(result.text)
    assert again.text is None and again.skipped is None


def test_tensor_code_with_a_tf2_spelling_stays() -> None:
    text = MODEL.replace("return logits, end_points['predictions']", "return tf.nn.softmax(logits)")
    result = upgrade_source(text)
    assert result.skipped is None and "    return tf.nn.softmax(logits)\n" in result.text


def test_every_net_of_the_table_and_its_spellings() -> None:
    text = textwrap.dedent("""\
        from tensorflow.contrib.slim.nets import vgg, resnet_v2
        import tensorflow.contrib.slim as slim
        with slim.arg_scope(vgg.vgg_arg_scope()):
            net, points = vgg.vgg_16(images, 5, dropout_keep_prob=0.8)
        with slim.arg_scope(resnet_v2.resnet_utils.resnet_arg_scope()):
            features, _ = resnet_v2.resnet_v2_50(images, is_training=False, global_pool=False)
        from tf_slim.nets import inception_v3
        with slim.arg_scope(inception_v3.inception_v3_arg_scope(batch_norm_decay=0.99)):
            logits, _ = inception_v3.inception_v3(images, 5, flag, create_aux_logits=False)
        from tf_slim.nets import inception_v2
        with slim.arg_scope(inception_v2.inception_v2_arg_scope(weight_decay=1e-5)):
            logits, _ = inception_v2.inception_v2(images, 5, flag, 0.8, 8, 0.5)
    """)
    found = calls(text)
    assert [type(call) for call in found] == [NetCall, NetCall, NetCall, NetCall]
    assert [call.constructor.format(family="m") for call in found] == [
        "m.vgg_16(num_classes=5, dropout_keep_prob=0.8)", "m.resnet_v2_50(global_pool=False)",
        "m.inception_v3(num_classes=5, create_aux_logits=False, batch_norm_decay=0.99)",
        "m.inception_v2(num_classes=5, dropout_keep_prob=0.8, min_depth=8, depth_multiplier=0.5, weight_decay=1e-5)"]
    # slim's nets train their batch norm unless told otherwise: the flag is written.
    assert [call.arguments for call in found] == ["images, training=True", "images, training=False",
                                                  "images, training=flag", "images, training=flag"]
    assert found[0].notes and "is_training" in found[0].notes[0]


def refusal(body: str, imports: str = "import tf_slim as slim\nfrom tf_slim.nets import resnet_v1\n",
            path=None) -> NetRefusal:
    found = calls(imports + textwrap.dedent(body), path)
    assert len(found) == 1 and isinstance(found[0], NetRefusal), found
    return found[0]


def test_what_does_not_convert_is_refused_with_its_kind() -> None:
    assert refusal("net = resnet_v1.resnet_v1_50(images, 10)\n").kind == "no-arg-scope"
    assert refusal("with slim.arg_scope([slim.conv2d], padding='SAME'):\n"
                   "    net = resnet_v1.resnet_v1_50(images, 10)\n").kind == "arg-scope"
    assert refusal("with slim.arg_scope(resnet_v1.resnet_arg_scope()):\n"
                   "    net = resnet_v1.resnet_v1_50(images, 10, reuse=True)\n").kind == "reuse"
    assert refusal("def f(n):\n    with slim.arg_scope(resnet_v1.resnet_arg_scope()):\n"
                   "        return resnet_v1.resnet_v1_50(images, n)\n").kind == "not-constant"
    assert refusal("with slim.arg_scope(inception_v3.inception_v3_arg_scope(use_fused_batchnorm=False)):\n"
                   "    net = inception_v3.inception_v3(images, 10)\n",
                   imports="import tf_slim as slim\nfrom tf_slim.nets import inception_v3\n").kind == "arg-scope"
    assert refusal("with slim.arg_scope(inception_v2.inception_v2_arg_scope(batch_norm_var_collection='bn')):\n"
                   "    net = inception_v2.inception_v2(images, 10)\n",
                   imports="import tf_slim as slim\nfrom tf_slim.nets import inception_v2\n").kind == "arg-scope"
    assert refusal("with slim.arg_scope(resnet_v1.resnet_arg_scope(use_batch_norm=False)):\n"
                   "    net = resnet_v1.resnet_v1_50(images, 10)\n").kind == "arg-scope"
    assert refusal("with slim.arg_scope(resnet_v1.resnet_arg_scope()):\n    net = resnet_v1.resnet_v1_50(images, 10)\n",
                   imports="import tf_slim as slim\nfrom nets import resnet_v1\n").kind == "models-variant"


# MobileNet v1 from the TF models repository's research/slim (`nets` on the user's path).
MOBILENET = textwrap.dedent("""\
    import tf_slim as slim
    from nets import mobilenet_v1

    NUM_CLASSES = 1001


    def model(images, is_training):
        with slim.arg_scope(mobilenet_v1.mobilenet_v1_arg_scope(weight_decay=1e-5, batch_norm_decay=0.99)):
            logits, end_points = mobilenet_v1.mobilenet_v1(images, NUM_CLASSES, 0.8, is_training,
                                                           depth_multiplier=0.5)
        return logits, end_points['Predictions']
""")


def test_mobilenet_v1_of_the_models_repository_converts(tmp_path: Path) -> None:
    project = tmp_path / "project"
    project.mkdir()
    (project / "model.py").write_text(MOBILENET)
    assert CliRunner().invoke(main, ["upgrade", str(project)]).exit_code == 0
    assert (project / "model.py").read_text() == textwrap.dedent("""\
        from slim_nets_keras import mobilenet_v1

        NUM_CLASSES = 1001


        mobilenet_v1_model = mobilenet_v1.mobilenet_v1(num_classes=NUM_CLASSES, dropout_keep_prob=0.8, depth_multiplier=0.5, batch_norm_decay=0.99, weight_decay=1e-5)


        def model(images, is_training):
            logits, end_points = mobilenet_v1_model(images, training=is_training)
            return logits, end_points['Predictions']
    """)
    assert (project / "slim_nets_keras" / "mobilenet_v1.py").is_file()


def test_a_project_copy_of_nets_mobilenet_v1_is_not_taken_for_it(tmp_path: Path) -> None:
    """A project's own `nets/mobilenet_v1.py` (copies are often modified) is project code:
    this path leaves its calls alone; without the module's file nothing tells them apart."""
    project = tmp_path / "project"
    (project / "nets").mkdir(parents=True)
    (project / "nets" / "__init__.py").write_text("")
    (project / "nets" / "mobilenet_v1.py").write_text("def mobilenet_v1(inputs, num_classes):\n    return inputs\n")
    (project / "model.py").write_text(MOBILENET)
    CliRunner().invoke(main, ["upgrade", str(project)])
    assert (project / "model.py").read_text() == MOBILENET
    assert not (project / "slim_nets_keras").exists()
    assert calls(MOBILENET) == []
    found = net_calls(facts_module.build(parse(MOBILENET), MOBILENET), str(tmp_path / "elsewhere" / "model.py"))
    assert [type(call) for call in found] == [NetCall]
    thinner = calls("import tf_slim as slim\nfrom nets import mobilenet_v1\n"
                    "with slim.arg_scope(mobilenet_v1.mobilenet_v1_arg_scope(stddev=0.1)):\n"
                    "    net = mobilenet_v1.mobilenet_v1_050(images, 10, global_pool=True)\n",
                    str(tmp_path / "elsewhere" / "model.py"))
    assert [call.constructor.format(family="m") for call in thinner] == [
        "m.mobilenet_v1_050(num_classes=10, global_pool=True, stddev=0.1)"]
    # Only MobileNet v1 converts from research/slim: its other nets are another variant.
    assert refusal("with slim.arg_scope(mobilenet_v1.mobilenet_v1_arg_scope(use_explicit_padding=True)):\n"
                   "    net = mobilenet_v1.mobilenet_v1(images, 10)\n", imports="import tf_slim as slim\n"
                   "from nets import mobilenet_v1\n", path=str(tmp_path / "elsewhere" / "model.py")).kind == "arg-scope"


def test_other_tf1_code_leaves_the_module_and_offers_the_net() -> None:
    text = MODEL + "\nloss = tf.losses.softmax_cross_entropy(labels, logits)\n"
    result = upgrade_source(text)
    assert result.text is None and result.skipped is not None
    assert result.skipped[0] == text.splitlines().index("loss = tf.losses.softmax_cross_entropy(labels, logits)") + 1
    assert "TF1 code" in result.skipped[1]
    assert any("resnet_v1_50_model" not in note and "converts to the Keras model" in note and line == 10
               for line, note in result.notes)


def test_the_emitted_package_needs_only_keras() -> None:
    """Keras 3 only, except TensorFlow's fused batch-norm kernel, imported where it is
    called and only on the TensorFlow backend (layers.fused_batch_norm)."""
    files = package_files()
    for path, data in files.items():
        tree = ast.parse(data)
        kernel = [node for node in ast.walk(tree) if isinstance(node, ast.FunctionDef) and node.name == "fused_batch_norm"]
        inside = {id(node) for function in kernel for node in ast.walk(function)}
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom):
                assert node.level == 1 or node.module in ("__future__", "dataclasses", "keras"), (path, node.module)
            elif isinstance(node, ast.Import):
                allowed = ("math", "keras", "tensorflow") if id(node) in inside else ("math", "keras")
                assert all(alias.name in allowed for alias in node.names), path


def test_upgrade_writes_the_nets_beside_and_never_overwrites(tmp_path: Path) -> None:
    project = tmp_path / "project"
    project.mkdir()
    (project / "model.py").write_text(MODEL)
    runner = CliRunner()
    assert runner.invoke(main, ["upgrade", str(project)]).exit_code == 0
    assert (project / "slim_nets_keras" / "resnet_v1.py").read_bytes() == \
        package_files()["slim_nets_keras/resnet_v1.py"]
    # A user's own file of that name is never overwritten: the module is left as it was.
    other = tmp_path / "other"
    (other / "slim_nets_keras").mkdir(parents=True)
    (other / "slim_nets_keras" / "layers.py").write_text("# mine\n")
    (other / "model.py").write_text(MODEL)
    result = runner.invoke(main, ["upgrade", str(other)])
    assert result.exit_code == 1
    assert "not overwritten" in result.output
    assert (other / "model.py").read_text() == MODEL
    assert (other / "slim_nets_keras" / "layers.py").read_text() == "# mine\n"


def test_ckpt_convert_takes_a_name_map_or_a_slim_net() -> None:
    runner = CliRunner()
    assert runner.invoke(main, ["ckpt-convert", "old", "new"]).exit_code == 2

