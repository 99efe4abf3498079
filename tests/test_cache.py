"""The results cache: hits for unchanged files, misses when anything they depend on changes."""

from __future__ import annotations

from pathlib import Path

from migrate_bn.cache import Cache, configuration_key, content_hash
from migrate_bn.findings import Finding, Fix, Related, Span


def _finding() -> Finding:
    return Finding("BN001", "message", Span(3, 5, 3, 20), "error", Fix("safe", "wrap it", ()),
                   (Related(Span(1, 1, 1, 9), "the batch norm", "/x/models.py"),), (Fix("unsafe", "other", ()),))


def test_round_trip_and_invalidation(tmp_path: Path) -> None:
    dependency = tmp_path / "models.py"
    dependency.write_text("x = 1\n")
    cache = Cache(str(tmp_path / "cache"), configuration_key("BN001"))
    digest = content_hash(b"source")
    assert cache.get("train.py", digest) is None
    cache.put("train.py", digest, [_finding()], None, [str(dependency)])
    findings, error = cache.get("train.py", digest)
    assert findings == [_finding()] and error is None
    assert cache.get("train.py", content_hash(b"changed")) is None  # the file changed
    assert cache.get("other.py", digest) is None  # another path
    dependency.write_text("x = 22\n")  # an imported module changed
    assert cache.get("train.py", digest) is None
    cache.close()
    assert (tmp_path / "cache" / "CACHEDIR.TAG").exists()
    assert (tmp_path / "cache" / ".gitignore").read_text() == "*\n"


def test_configuration_is_part_of_the_key(tmp_path: Path) -> None:
    first = Cache(str(tmp_path), configuration_key("BN001"))
    first.put("a.py", "d", [], None, [])
    first.close()
    assert Cache(str(tmp_path), configuration_key("BN001", "BN002")).get("a.py", "d") is None
