"""`analyze` on awkward input: reported, never fatal, never executed."""

from __future__ import annotations

from migrate_bn.api import analyze

BN = "h = tf.layers.batch_normalization(x, training=flag)\n"


def test_neither_python_3_nor_python_2_is_reported_not_fatal() -> None:
    result = analyze(("import tensorflow as tf\n" + BN + 'print "step\n').encode(), "old.py")
    assert result.error is not None
    assert "cannot parse" in str(result.error) and "Python 2" in str(result.error)
    assert result.findings == []


def test_undecodable_bytes_are_reported() -> None:
    result = analyze(b"# batch_norm\nx = '\xff\xfe'\n", "bad.py")
    assert result.error is not None and "cannot decode" in str(result.error)


def test_unknown_encoding_cookie_is_reported() -> None:
    result = analyze(b"# -*- coding: klingon -*-\n# batch_norm\n", "bad.py")
    assert result.error is not None and "cannot decode" in str(result.error)


def test_null_bytes_are_reported() -> None:
    result = analyze(b"batch_norm = 1\x00\n", "bin.py")
    assert result.error is not None


def test_empty_and_irrelevant_files_are_clean() -> None:
    assert analyze(b"", "empty.py").findings == []
    # Never parsed: nothing in it can hold batch norm, so not even a syntax error matters.
    assert analyze(b"def broken(:\n", "x.py").error is None


def test_code_is_never_executed() -> None:
    source = ("import tensorflow as tf\nraise SystemExit('executed!')\n" + BN +
              "op = tf.train.AdamOptimizer(0.1).minimize(h)\n").encode()
    result = analyze(source, "t.py", fix=True)
    assert [f.code for f in result.findings] == ["BN001"]


def test_finding_names_the_batch_norm_site() -> None:
    source = ("import tensorflow as tf\n" + BN + "op = tf.train.AdamOptimizer(0.1).minimize(h)\n").encode()
    (finding,) = analyze(source, "t.py").findings
    assert "line 2" in finding.message
    assert finding.related[0].span.line == 2
    assert (finding.span.line, finding.span.column, finding.span.end_line) == (3, 6, 3)


def test_columns_count_characters_not_bytes() -> None:
    source = ("import tensorflow as tf\n" + BN +
              "é = 1; op = tf.train.AdamOptimizer(0.1).minimize(h)\n").encode()
    (finding,) = analyze(source, "t.py").findings
    assert finding.span.column == 13


def test_a_fix_that_does_not_parse_is_never_returned(monkeypatch) -> None:
    from migrate_bn import api
    from migrate_bn.edits import EditOutcome

    def broken(source, edits):
        return EditOutcome(source + b"\nwith:\n", list(edits), [])

    monkeypatch.setattr(api, "apply_edits", broken)
    source = ("import tensorflow as tf\n" + BN + "op = tf.train.AdamOptimizer(0.1).minimize(h)\n").encode()
    result = analyze(source, "t.py", fix=True)
    assert result.fixed_source is None
    assert result.internal_error is not None and "does not parse" in result.internal_error
