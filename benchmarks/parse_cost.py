"""What analysis costs per file: ast vs LibCST parsing, LibCST metadata, the prefilter.

    python benchmarks/parse_cost.py DIR [--limit N]

The numbers behind docs/architecture.md's choice of `ast` for the facts pass.
"""

from __future__ import annotations

import argparse
import ast
import time
from pathlib import Path

import libcst as cst
from libcst.metadata import MetadataWrapper, PositionProvider, QualifiedNameProvider

from migrate_bn.prefilter import may_matter


def seconds(function) -> float:
    start = time.perf_counter()
    function()
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("directory")
    parser.add_argument("--limit", type=int, default=400)
    parser.add_argument("--metadata-sample", type=int, default=40)
    args = parser.parse_args()
    files = sorted(Path(args.directory).rglob("*.py"))[: args.limit]
    sources = [path.read_bytes() for path in files]
    lines = sum(source.count(b"\n") for source in sources)

    prefilter = seconds(lambda: [may_matter(s) for s in sources])
    parse_ast = seconds(lambda: [ast.parse(s) for s in sources])
    modules: list[cst.Module] = []
    parse_cst = seconds(lambda: modules.extend(cst.parse_module(s) for s in sources))
    sample = modules[: args.metadata_sample]
    qualified = seconds(lambda: [MetadataWrapper(m).resolve(QualifiedNameProvider) for m in sample]) / len(sample)
    positions = seconds(lambda: [MetadataWrapper(m, unsafe_skip_copy=True).resolve(PositionProvider)
                                 for m in sample]) / len(sample)
    matching = sum(may_matter(s) for s in sources)
    print(f"{len(files)} files, {lines} lines")
    print(f"  prefilter (regex on bytes)      {prefilter:6.2f} s   ({matching} files match)")
    print(f"  ast.parse                        {parse_ast:6.2f} s")
    print(f"  libcst.parse_module              {parse_cst:6.2f} s   ({parse_cst / parse_ast:.1f}x ast)")
    print(f"  LibCST QualifiedNameProvider     {qualified * 1000:6.0f} ms/file")
    print(f"  LibCST PositionProvider          {positions * 1000:6.0f} ms/file")


if __name__ == "__main__":
    main()
