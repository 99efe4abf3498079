"""What a save costs the language server on a real project tree: the model thrown away
and rebuilt (as before issue 14) against the model kept and refreshed (Project.refresh).

    python benchmarks/lsp_save.py /tmp/trees/LevinJ__SSD_tensorflow_VOC
    python benchmarks/lsp_save.py TREE --saves 10 --file train_ssd_network.py

The tree is copied to a scratch directory (the saves write to it). The open document is
`--file`, else the module whose findings rest on the most project files. Each save
appends a comment line to it (buffer and disk) and times, in this process, the server's
own work up to its new diagnostics: `reset` makes a new Project and analyses the
buffer; `refresh` refreshes the kept Project and analyses the buffer. A second pair
saves an imported module instead (the buffer is analysed again in both). Medians over
`--saves` saves.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import tempfile
import time

from pygls.uris import from_fs_path

from migrate_bn.lsp import MigrateBnServer
from migrate_bn.project import Project


def _sources(root: str) -> list[str]:
    found = []
    for directory, subdirectories, files in os.walk(root):
        subdirectories[:] = sorted(d for d in subdirectories if not d.startswith("."))
        found.extend(os.path.join(directory, name) for name in sorted(files) if name.endswith(".py"))
    return found


def _save(server: MigrateBnServer, path: str, text: str, keep: bool, saved: str) -> float:
    """Append a line to `saved` on disk (and to the buffer when it is the open file),
    then time the server's work: reset or refresh, and the analysis of the buffer."""
    with open(saved, "a", encoding="utf-8") as handle:
        handle.write("# saved\n")
    if saved == path:
        text += "# saved\n"
    start = time.perf_counter()
    if keep:
        server.project.refresh()
    else:
        server.project = Project(watch=True)
    server.analyze_text(from_fs_path(path), text, None)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("tree")
    parser.add_argument("--file", help="the open document, relative to the tree")
    parser.add_argument("--saves", type=int, default=10)
    args = parser.parse_args()
    scratch = tempfile.mkdtemp(prefix="lsp-save-")
    root = os.path.join(scratch, os.path.basename(os.path.abspath(args.tree)))
    shutil.copytree(args.tree, root, ignore=shutil.ignore_patterns(".git"))
    open(os.path.join(root, "setup.cfg"), "a").close()  # the project root, as a checkout's .git says
    try:
        server = MigrateBnServer()
        if args.file:
            path = os.path.join(root, args.file)
        else:  # the module whose findings rest on the most project files
            depends = {p: server.analyze_text(from_fs_path(p), open(p, encoding="utf-8", errors="replace").read(),
                                              None).dependencies for p in _sources(root)}
            path = max(depends, key=lambda p: (len(depends[p]), p))
        server.project = Project(watch=True)
        first = server.analyze_text(from_fs_path(path), open(path, encoding="utf-8", errors="replace").read(), None)
        imported = sorted(p for p in first.dependencies if p.endswith(".py") and p != path)
        print(f"{os.path.relpath(path, root)}: {len(first.findings)} findings, "
              f"rests on {len(first.dependencies)} project files; {len(_sources(root))} modules in the tree")
        for label, saved in (("the open file", path), ("an imported module", imported[0] if imported else None)):
            if saved is None:
                continue
            times = {}
            for keep in (False, True):
                text = open(path, encoding="utf-8", errors="replace").read()
                server.analyze_text(from_fs_path(path), text, None)  # warm
                runs = []
                for _ in range(args.saves):
                    runs.append(_save(server, path, text, keep, saved))
                    text = open(path, encoding="utf-8", errors="replace").read()
                times[keep] = statistics.median(runs) * 1000
            print(f"save of {label} ({os.path.relpath(saved, root)}): model rebuilt {times[False]:.0f} ms, "
                  f"kept and refreshed {times[True]:.0f} ms")
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


if __name__ == "__main__":
    main()
