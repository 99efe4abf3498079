"""The API tables agree with each other and with the prefilter."""

from __future__ import annotations

from migrate_bn import tfapi


def _covered(name: str) -> bool:
    return any(word in name for word in tfapi.PREFILTER_WORDS)


def test_every_batch_norm_name_passes_the_prefilter() -> None:
    names = [*tfapi.BATCH_NORM_APIS, *tfapi.BATCH_NORM_NETS, *tfapi.BATCH_NORM_ARG_SCOPES,
             tfapi.NORMALIZER_FN_KW, tfapi.UPDATE_OPS_KEY, tfapi.UPDATE_OPS_STRING]
    assert [name for name in names if not _covered(name)] == []


def test_canonical_names() -> None:
    assert tfapi.canonical("tensorflow.compat.v1.layers.batch_normalization") == "tensorflow.layers.batch_normalization"
    assert tfapi.canonical("tf_slim.batch_norm") == "tensorflow.contrib.slim.batch_norm"
    assert tfapi.canonical("tf_slim") == "tensorflow.contrib.slim"
    assert tfapi.canonical("tensorflow.contrib.layers.python.layers.layers.batch_norm") == "tensorflow.contrib.layers.batch_norm"
    assert tfapi.canonical("tensorflow.keras.layers.BatchNormalization") == "keras.layers.BatchNormalization"


def test_defaults_match_the_reference() -> None:
    # bn_semantics.md 1.1 and 1.2: tf.layers trains only when told; slim by default.
    assert tfapi.BATCH_NORM_APIS["tensorflow.layers.batch_normalization"].default_training is False
    slim = tfapi.BATCH_NORM_APIS["tensorflow.contrib.slim.batch_norm"]
    assert (slim.default_training, slim.default_decay, slim.training_pos, slim.updates_pos) == (True, 0.999, 9, 8)
    assert tfapi.BATCH_NORM_APIS["keras.layers.BatchNormalization"].updates == "keras"
