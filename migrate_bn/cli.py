"""The `migrate-bn` command: a thin shell over runner and api."""

from __future__ import annotations

import os
import sqlite3
import sys
import time
from collections import Counter
from dataclasses import dataclass, replace
from typing import Optional, Sequence

import click

from . import __version__, config
from .config import ConfigError, Settings
from .output import (FORMATS, fix_hints, fixed_counts, fixes_report, plural, render,
                     statistics_report, text_line, unified_diff)
from .rules import Options, all_rules, known_prefix, rule_by_code, select_rules
from .cache import DEFAULT_DIRECTORY as DEFAULT_CACHE, Cache, configuration_key
from .collection import own_process
from .problems import Kind
from .progress import Progress
from .report import FileRecord, RunReport
from .runner import Job, analyze_as, plan, run

EXIT_CLEAN, EXIT_FINDINGS, EXIT_ERROR = 0, 1, 2

MAIN_HELP = """\
Find and fix batch-normalization bugs in TensorFlow 1.x code.

\b
  migrate-bn check src/            list findings as path:line:col CODE message
  migrate-bn fix --dry-run src/    show the fixes as a unified diff, write nothing
  migrate-bn fix src/              apply the safe fixes in place
  migrate-bn --dry-run src/        the same as `fix --dry-run src/`
  migrate-bn explain BN001         what a rule finds, why it is wrong, the fix
  migrate-bn rules                 the table of rules
  migrate-bn doctor model.ckpt     is a saved model's batch norm wired? did it update?
  migrate-bn lsp                   language server for editors (docs/editors.md)

\b
Exit codes: 0 nothing found; 1 findings, or fixes pending;
2 usage error, or a file that could not be processed.
"""


class InputError(click.ClickException):
    """Input migrate-bn cannot use (not a checkpoint, no TensorFlow): exit code 2."""

    exit_code = EXIT_ERROR


class _Main(click.Group):
    """`migrate-bn --dry-run src/` is the design card's short form of `fix --dry-run`."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        if args and args[0] in ("--dry-run", "--diff"):
            args = ["fix", *args]
        return super().parse_args(ctx, args)


def _codes(values: Sequence[str]) -> list[str]:
    codes = [code.strip().upper() for value in values for code in value.split(",") if code.strip()]
    for code in codes:
        if not known_prefix(code):
            raise click.BadParameter(f"unknown rule code {code!r} (see `migrate-bn rules`)")
    return codes


def _color(mode: str, stream) -> bool:
    if mode == "always":
        return True
    if mode == "never":
        return False
    return hasattr(stream, "isatty") and stream.isatty()


def _decorate(function, decorators):
    """Apply `decorators` as if stacked above `function` in this order."""
    for decorator in reversed(decorators):
        function = decorator(function)
    return function


def _common(function):
    options = [
        click.argument("paths", nargs=-1, type=click.Path(exists=True)),
        click.option("--select", multiple=True, metavar="CODES",
                     help="Only these rules (comma-separated codes or prefixes, e.g. BN001,BN002)."),
        click.option("--ignore", multiple=True, metavar="CODES", help="Skip these rules."),
        click.option("--output-format", type=click.Choice(FORMATS), default="text", show_default=True,
                     help="How findings are printed: text, json, json-lines, sarif (SARIF 2.1.0, for "
                          "code scanning), github (workflow annotations)."),
        click.option("--color", type=click.Choice(["auto", "always", "never"]), default="auto",
                     show_default=True, help="Colour output (auto: only on a terminal)."),
        click.option("--exclude", multiple=True, metavar="GLOB",
                     help="Skip matching files and directories (adds to the configuration's)."),
        click.option("--force-exclude", is_flag=True, help="Apply excludes to files named on the command line too."),
        click.option("--config", "config_path", type=click.Path(exists=True, dir_okay=False),
                     help="Read settings from this pyproject.toml or setup.cfg."),
        click.option("--isolated", is_flag=True, help="Ignore configuration files."),
        click.option("--no-notebooks", is_flag=True,
                     help="Do not search directories for Jupyter notebooks (*.ipynb); notebooks named "
                          "on the command line are still read. Configuration: notebooks = false."),
    ]
    return _decorate(function, options)


def _editor_options(function):
    """check and fix: editors (stdin) and CI (statistics, exit code)."""
    options = [
        click.option("--stdin-filename", metavar="PATH",
                     help="Read the source from stdin, as the file PATH (for its configuration and "
                          "imports); write findings (check) or the fixed source (fix) to stdout."),
        click.option("--statistics", is_flag=True, help="Count the findings by rule instead of listing them."),
        click.option("--show-fixes", is_flag=True,
                     help="check: show each finding's fix; fix: list what was fixed, by file and rule."),
        click.option("--exit-zero", is_flag=True, help="Exit 0 even when findings remain (2 still means an error)."),
    ]
    return _decorate(function, options)


def _bulk_options(function):
    """check and fix over large trees: workers, cache, report, sharding."""
    options = [
        click.option("-j", "--jobs", type=click.IntRange(min=1), default=None, metavar="N",
                     help="Worker processes (default: the machine's cores)."),
        click.option("--no-cache", is_flag=True, help="Analyse every file afresh."),
        click.option("--cache-dir", type=click.Path(file_okay=False), default=None, metavar="DIR",
                     help=f"Where results are cached (default: {DEFAULT_CACHE} next to the configuration, "
                          "or in the working directory)."),
        click.option("--report", "report_path", type=click.Path(dir_okay=False), metavar="FILE.json|FILE.md",
                     help="Write a report: counts per file and rule, files skipped and why, fixes, time."),
        click.option("--files-from", type=click.File("r"), metavar="LIST",
                     help="Also process the files listed in LIST, one a line ('-': stdin), to shard a run."),
        click.option("--no-respect-gitignore", is_flag=True,
                     help="Also search files that .gitignore excludes."),
    ]
    return _decorate(function, options)


@click.group(cls=_Main, help=MAIN_HELP, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="migrate-bn")
def main() -> None:
    pass


@main.command()
@_common
@_editor_options
@_bulk_options
def check(paths, select, ignore, output_format, color, exclude, force_exclude, config_path, isolated,
          no_notebooks, stdin_filename, statistics, show_fixes, exit_zero, jobs, no_cache, cache_dir, report_path,
          files_from, no_respect_gitignore) -> None:
    """Report batch-norm bugs as path:line:col CODE message.

    PATHS are files or directories (searched for *.py and *.ipynb); default: the current directory.
    Findings marked [*] have a safe automatic fix (`migrate-bn fix`).
    """
    job = _job(select, ignore, exclude, force_exclude, config_path, isolated, unsafe_fixes=False, fix=False,
               no_notebooks=no_notebooks)
    editor = dict(statistics=statistics, show_fixes=show_fixes, exit_zero=exit_zero)
    if stdin_filename is not None:
        sys.exit(_stdin(paths, stdin_filename, job, output_format, color, dry_run=False, diff=False, **editor))
    paths, job, bulk = _bulk(paths, job, jobs, no_cache, cache_dir, report_path, files_from, no_respect_gitignore)
    sys.exit(_report(paths, job, output_format, color, dry_run=False, diff=False, bulk=bulk, **editor))


@main.command()
@_common
@_editor_options
@click.option("--dry-run", is_flag=True, help="Print the fixes as a unified diff and write nothing.")
@click.option("--diff", is_flag=True, help="Also print the diff of what was written.")
@click.option("--unsafe-fixes", is_flag=True, help="Also apply fixes that change program structure.")
@click.option("--bn-momentum", type=click.FloatRange(0.0, 1.0, min_open=True, max_open=True), metavar="X",
              help="BN005: write this batch-norm momentum (decay) where the moving averages are too slow "
                   "for the run (an unsafe fix: applied with --unsafe-fixes).")
@_bulk_options
def fix(paths, select, ignore, output_format, color, exclude, force_exclude, config_path, isolated,
        no_notebooks, stdin_filename, statistics, show_fixes, exit_zero, dry_run, diff, unsafe_fixes, bn_momentum,
        jobs, no_cache, cache_dir, report_path, files_from, no_respect_gitignore) -> None:
    """Fix batch-norm bugs in place (atomic writes; untouched code stays byte-identical).

    With --dry-run nothing is written: the fixes are printed as a unified diff (a/ and b/
    paths relative to the working directory) and the exit code is 1 when any is pending.
    """
    job = _job(select, ignore, exclude, force_exclude, config_path, isolated, unsafe_fixes,
               fix=True, write=not dry_run, bn_momentum=bn_momentum, no_notebooks=no_notebooks)
    editor = dict(statistics=statistics, show_fixes=show_fixes, exit_zero=exit_zero)
    if stdin_filename is not None:
        sys.exit(_stdin(paths, stdin_filename, job, output_format, color, dry_run=dry_run, diff=diff, **editor))
    paths, job, bulk = _bulk(paths, job, jobs, no_cache, cache_dir, report_path, files_from, no_respect_gitignore)
    sys.exit(_report(paths, job, output_format, color, dry_run=dry_run, diff=diff, bulk=bulk, **editor))


@dataclass
class _Bulk:
    cache: Optional[Cache]
    report_path: Optional[str]
    command: str


def _bulk(paths, job: Job, jobs, no_cache, cache_dir, report_path, files_from, no_respect_gitignore):
    """The paths of a bulk run (with --files-from), and the job and cache for it."""
    paths = list(paths)
    if files_from is not None:
        paths += [line.strip() for line in files_from if line.strip()]
        missing = [path for path in paths if not os.path.exists(path) and not os.path.islink(path)]
        if missing:
            raise click.BadParameter(f"no such file: {missing[0]}", param_hint="--files-from")
    paths = paths or ["."]
    job = replace(job, jobs=jobs or os.cpu_count() or 1, respect_gitignore=not no_respect_gitignore,
                  explicit=frozenset(os.path.normpath(path) for path in paths if not os.path.isdir(path)))
    cache = None
    if not no_cache:
        root = job.settings.root if job.settings is not None and job.settings.path else "."
        directory = cache_dir or os.path.join(root, DEFAULT_CACHE)
        key = configuration_key(sorted(rule.code for rule in job.rules), job.options, job.fix,
                                job.settings.per_file_ignores if job.settings else None)
        try:
            cache = Cache(directory, key)
        except (OSError, sqlite3.Error) as error:
            click.echo(f"warning: cache disabled ({directory}: {error})", err=True)
    command = "migrate-bn " + " ".join(sys.argv[1:])
    own_process()  # the run is this process's whole job: the collector's policy for it
    return paths, job, _Bulk(cache, report_path, command)


def _job(select, ignore, exclude, force_exclude, config_path, isolated, unsafe_fixes, fix, write=False,
         bn_momentum=None, no_notebooks=False) -> Job:
    """Command-line options over the configuration file: --select replaces its select,
    --ignore and --exclude add to its lists, --unsafe-fixes turns them on."""
    try:
        if isolated:
            settings = Settings()
        elif config_path:
            settings = config.read(config_path) or Settings(path=config_path)
        else:
            settings = config.discover(".")
    except ConfigError as error:
        raise click.UsageError(str(error)) from None
    for code in [*settings.select, *settings.ignore,
                 *(c for codes in settings.per_file_ignores.values() for c in codes)]:
        if not known_prefix(code):
            raise click.UsageError(f"{settings.path}: unknown rule code {code!r} (see `migrate-bn rules`)")
    chosen = _codes(select) or settings.select
    settings.exclude = [*settings.exclude, *exclude]
    settings.notebooks = settings.notebooks and not no_notebooks
    rules = select_rules(chosen, [*settings.ignore, *_codes(ignore)])
    options = Options(unsafe_fixes=unsafe_fixes or settings.unsafe_fixes, bn_momentum=bn_momentum)
    return Job(rules, options, fix=fix, write=write, settings=settings, force_exclude=force_exclude)


@main.command()
@click.argument("code")
def explain(code: str) -> None:
    """Print a rule's documentation (e.g. `migrate-bn explain BN001`)."""
    rule = rule_by_code(code)
    if rule is None:
        raise click.BadParameter(f"unknown rule {code!r}; known: "
                                 + ", ".join(r.code for r in all_rules()), param_hint="CODE")
    click.echo(rule.documentation())


@main.command()
@click.argument("path", type=click.Path())
@click.option("--output-format", "output_format", type=click.Choice(["text", "json"]), default="text",
              show_default=True)
@click.option("--source", "source", type=click.Path(exists=True, file_okay=False), metavar="DIR",
              help="The program's source tree: map each finding to the line that built it.")
def doctor(path: str, output_format: str, source: Optional[str]) -> None:
    """Read a saved model and diagnose its batch norm: the graph's wiring and the
    checkpoint's moving statistics. Needs TensorFlow; reads data only, runs nothing.

    PATH is a checkpoint prefix (model.ckpt-1000), a directory of checkpoints, an
    Estimator model directory or a SavedModel. The graph beside the values (.meta,
    graph.pbtxt, saved_model.pb) says which train op skips which batch norm's update ops
    and which served output normalizes with batch statistics; the values confirm it.
    Exit code 1 on findings, 2 when PATH cannot be read.
    """
    import json

    from . import doctor as model_doctor
    from .saved_graphs import SavedGraphError

    try:
        diagnosis = model_doctor.examine(path)
    except SavedGraphError as error:
        raise InputError(str(error)) from None
    sites = None
    if source is not None:
        from . import doctor_source

        sites = doctor_source.locate(diagnosis, source)
    if output_format == "json":
        record = model_doctor.to_json(diagnosis)
        if sites is not None:
            record["source"] = doctor_source.to_json(sites)
        click.echo(json.dumps(record, indent=2))
    else:
        for line in model_doctor.render_text(diagnosis):
            click.echo(line)
        if sites is not None:
            for line in doctor_source.render_text(sites):
                click.echo(line)
    sys.exit(EXIT_FINDINGS if diagnosis.findings else EXIT_CLEAN)


@main.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path())
@click.option("--dry-run", is_flag=True, help="Print the TF2 program as a unified diff and write nothing.")
@click.option("--diff", is_flag=True, help="Also print the diff of what was written.")
@click.option("--keras", type=click.Choice(["2", "3"]), default=None,
              help="The Keras the program will run on: 2 (tf.keras up to TF 2.15) or 3 (TF 2.16 and "
                   "later). Default: target-keras from the configuration, else 3.")
@click.option("--name-map", "name_map", type=click.Path(dir_okay=False), metavar="FILE",
              help="Write which TF1 variable becomes which Keras weight (JSON), for ckpt-convert.")
@click.option("--stock-keras-bn", "stock_bn", is_flag=True,
              help="Keras 3: keep stock BatchNormalization where TF1 used its fused kernel (the moving "
                   "variance then differs by n/(n-1), noted per layer) instead of the exact subclass.")
@click.option("--color", type=click.Choice(["auto", "always", "never"]), default="auto", show_default=True)
def upgrade(paths, dry_run, diff, keras, name_map, stock_bn, color) -> None:
    """Rewrite TF1 training scripts as native TF2 programs.

    A script that builds its graph from placeholders with tf.layers or slim batch norm,
    trains it with one optimizer's `minimize` and runs it in a `with tf.Session()`
    block becomes: Keras layers built once, a `tf.function` train step with
    `GradientTape`, one step function per kind of `sess.run`, feeds as arguments and
    the training flag as a Python bool. TF1 defaults Keras does not share are written out.

    A file with a batch-norm bug (run `migrate-bn fix` first), or with anything the
    conversion cannot follow, is left exactly as it was, with the line and the reason.

    \b
    Examples:
      migrate-bn upgrade --dry-run train.py
      migrate-bn upgrade --name-map names.json train.py
      migrate-bn ckpt-convert --name-map names.json model.ckpt-1000 tf2/ckpt

    Exit code 0 when done, 1 when a dry run has changes or a script was left as it
    was, 2 on errors.
    """
    from . import upgrade_command

    if keras is None:
        try:
            keras = config.discover(".").target_keras
        except config.ConfigError as error:
            raise InputError(str(error)) from None
    sys.exit(upgrade_command.run(paths, int(keras), dry_run, diff, name_map, sys.stdout, sys.stderr,
                                 _color(color, sys.stdout), stock_bn=stock_bn))


@main.command(name="ckpt-convert")
@click.argument("old")
@click.argument("new")
@click.option("--name-map", "name_map", type=click.Path(exists=True, dir_okay=False),
              metavar="FILE", help="The name map `migrate-bn upgrade --name-map` wrote.")
@click.option("--slim-net", "slim_net", metavar="NAME",
              help="OLD is a checkpoint of tf-slim's net NAME (resnet_v1_50, vgg_16, ...): write the Keras "
                   "weights file NEW (*.weights.h5) of the Keras net `upgrade` put beside the code.")
@click.option("--scope", "scope", metavar="SCOPE", help="With --slim-net: the net's variable scope, if not its name.")
def ckpt_convert(old: str, new: str, name_map: Optional[str], slim_net: Optional[str], scope: Optional[str]) -> None:
    """Convert the TF1 checkpoint OLD into the TF2 checkpoint NEW for an upgraded program.

    Needs TensorFlow: run it with the TensorFlow that runs the upgraded program (Keras 2
    and 3 store some weights under different names). The upgraded program restores NEW
    with `checkpoint.read(NEW).assert_consumed()`; a Keras model converted from model
    code, once built, with `tf.train.Checkpoint(model=model).read(NEW)` (what the model
    does not hold, such as optimizer slots, is listed); a slim net with
    `model.load_weights(NEW)`. Reads OLD as data only.
    """
    from . import checkpoints

    if (name_map is None) == (slim_net is None):
        raise InputError("ckpt-convert takes one of --name-map FILE and --slim-net NAME")
    try:
        if slim_net is not None:
            from .slim_nets import convert as slim_convert

            try:
                lines = slim_convert.convert_checkpoint(old, new, slim_net, scope)
            except slim_convert.SlimCheckpointError as error:
                raise checkpoints.ConversionError(str(error)) from None
        else:
            lines = checkpoints.convert(old, new, checkpoints.read_name_map(name_map))
    except checkpoints.ConversionError as error:
        raise InputError(str(error)) from None
    except ImportError:
        raise InputError("ckpt-convert needs TensorFlow: pip install tensorflow-cpu") from None
    for line in lines:
        click.echo(line)
    click.echo(f"Wrote {new}", err=True)


@main.command(name="rules")
def list_rules() -> None:
    """List the rules: code, name, what each finds."""
    for rule in all_rules():
        click.echo(f"{rule.code}  {rule.name:<28} {rule.summary}")


def _report(paths: Sequence[str], job: Job, output_format: str, color_mode: str,
            dry_run: bool, diff: bool, results=None, statistics: bool = False, show_fixes: bool = False,
            exit_zero: bool = False, bulk: Optional[_Bulk] = None) -> int:
    """Run (or take `results`, (result, source) pairs) and print; returns the exit code."""
    out, err = sys.stdout, sys.stderr
    color_out, color_err = _color(color_mode, out), _color(color_mode, err)
    paths = list(paths) or ["."]
    findings_total = fixed_total = files_fixed = unsafe_total = safe_total = 0
    collected = []
    fixed_by_file = []  # --show-fixes after a fix
    failed = []
    interrupted = False
    started = time.monotonic()
    cache = bulk.cache if bulk is not None else None
    report = RunReport(bulk.command if bulk is not None else "migrate-bn")
    if results is None:
        planned = plan(paths, job)
        progress = Progress(len(planned.paths), err, enabled=_color("auto", err) and output_format == "text")
        results = run(paths, job, cache, planned)
    else:
        progress = Progress(0, err, enabled=False)
    try:
        for done, (result, source) in enumerate(results, 1):
            progress.update(done, findings_total)
            report.add(FileRecord(result.path, Counter(f.code for f in result.findings),
                                  fixed=result.fixed_count if result.changed and not dry_run else 0,
                                  pending=result.fixed_count if result.changed and dry_run else 0,
                                  skipped=result.problem))
            problem = result.problem
            if problem:
                kind = "internal error" if problem.kind is Kind.INTERNAL_ERROR else "error"
                failed.append(result.path)
                err.write(f"{result.path}: {kind}: {problem}\n")
                if result.internal_error:
                    err.write(f"  (a bug in migrate-bn {__version__}; please report it with this file)\n")
            shown = result.remaining if job.fix else result.findings
            if job.fix and result.changed and source is not None:
                files_fixed += 1
                fixed_total += result.fixed_count
                if (dry_run or diff) and output_format == "text":
                    out.write(unified_diff(result.path, source, result.fixed_source or b"", color_out))
            findings_total += len(shown)
            unsafe_total += sum(1 for f in shown if f.fix_applicability == "unsafe")
            safe_total += sum(1 for f in shown if f.fix_applicability == "safe")
            if show_fixes and job.fix:
                fixed_by_file.append((result.path, fixed_counts(result)))
            if output_format != "text" or statistics:
                # After a fix, the findings' lines (and SARIF's fixes) are those of the fixed source.
                collected.append((result, shown, result.fixed_source if job.fix and result.changed else source))
            else:
                # A dry run's stdout is a patch and nothing else; what it cannot fix goes aside.
                stream, colored = (err, color_err) if dry_run else (out, color_out)
                for finding in shown:
                    stream.write(text_line(result.path, finding, colored) + "\n")
                    if show_fixes:
                        stream.writelines(line + "\n" for line in fix_hints(finding))
    except KeyboardInterrupt:
        # Ctrl-C: every file is as it was or wholly fixed (fsio writes by renaming).
        interrupted = True
    finally:
        progress.close()
        if cache is not None:
            cache.close()
    if bulk is not None and bulk.report_path:
        report.seconds = time.monotonic() - started
        report.parsed = sum(1 for record in report.files if record.findings or record.skipped) if cache is None \
            else cache.hits + cache.misses
        report.write(bulk.report_path)
    if statistics:
        (err if dry_run and output_format == "text" else out).write(
            statistics_report(collected, output_format, job.rules))
    elif output_format != "text":
        out.write(render(output_format, collected, job.rules))
    if fixed_by_file:
        err.write(fixes_report(fixed_by_file, job.rules, dry_run))
    _summary(err, job, dry_run, findings_total, fixed_total, files_fixed, failed, output_format, unsafe_total,
             safe_total)
    if interrupted:
        # Worker processes may have finished (and written) files not reported above yet.
        err.write("Interrupted: files after those reported above may be fixed or as they were, "
                  "none half-written.\n")
        return 130  # 128 + SIGINT, as shells report Ctrl-C
    if failed:
        return EXIT_ERROR
    if (findings_total or (dry_run and files_fixed)) and not exit_zero:
        return EXIT_FINDINGS
    return EXIT_CLEAN


def _summary(err, job: Job, dry_run: bool, findings: int, fixed: int, files_fixed: int,
             failed: list, output_format: str, unsafe: int = 0, safe: int = 0) -> None:
    lines = []
    if job.fix and files_fixed:
        verb = "Would fix" if dry_run else "Fixed"
        lines.append(f"{verb} {plural(fixed, 'finding')} in {plural(files_fixed, 'file')}.")
    if findings:
        if job.fix:
            lines.append(f"{plural(findings, 'finding')} left without an automatic fix.")
        else:
            fixable = f" ({safe} marked [*] fixable with `migrate-bn fix`)" if safe else ""
            lines.append(f"Found {plural(findings, 'finding')}{fixable}.")
    if unsafe and not job.options.unsafe_fixes:
        lines.append(f"{plural(unsafe, 'more fix', 'more fixes')} available with `--unsafe-fixes` "
                     "(they change program structure: review the diff).")
    if failed:
        lines.append(f"{plural(len(failed), 'file')} could not be processed: " + ", ".join(failed[:5])
                     + (" ..." if len(failed) > 5 else ""))
    if not lines and output_format == "text":
        lines.append("No batch-norm problems found.")
    for line in lines:
        err.write(line + "\n")


# --- editors: stdin and the language server ------------------------------------------------


def _stdin(paths, filename: str, job: Job, output_format: str, color_mode: str, dry_run: bool, diff: bool,
           **editor) -> int:
    """--stdin-filename: the source comes on stdin; check prints findings on stdout, fix
    prints the fixed source (or, with --dry-run/--diff, the diff). Nothing is written."""
    import contextlib

    if paths:
        raise click.UsageError("--stdin-filename reads the source from stdin: name no PATHS")
    source = sys.stdin.buffer.read()
    result = _analyze_buffer(filename, source, job)
    if not job.fix or dry_run or diff:
        return _report([], job, output_format, color_mode, dry_run=job.fix, diff=False,
                       results=[(result, source)], **editor)
    # The source goes out whole even when it cannot be fixed, so an editor that pipes its
    # buffer through `fix` never loses it; findings and the summary go to stderr.
    with contextlib.redirect_stdout(sys.stderr):
        code = _report([], job, output_format, color_mode, dry_run=False, diff=False,
                       results=[(result, source)], **editor)
    stdout = sys.stdout.buffer
    stdout.write(result.fixed_source if result.changed and not result.internal_error else source)
    stdout.flush()
    return code


def _analyze_buffer(filename: str, source: bytes, job: Job):
    """One buffer, as `run` would analyse the file `filename`: its per-file ignores, its
    project's imports; excluded (with --force-exclude) means passed through untouched."""
    from .api import Result
    from .paths import display_path
    from .project import Project

    shown = display_path(filename)
    settings = job.settings
    if job.force_exclude and settings is not None and settings.exclude and settings.excluded(filename):
        return Result(path=shown)
    # A failure of migrate-bn is reported in the result; the buffer passes through.
    return analyze_as(filename, shown, source, job, Project().resolver(filename))


@main.command()
@click.option("--stdio", is_flag=True, hidden=True, help="Accepted for clients that pass it: stdio is the transport.")
def lsp(stdio: bool) -> None:
    """Run the language server for editors, on stdin/stdout.

    Findings as diagnostics while you type, quick fixes, "apply all safe fixes",
    "ignore on this line". Setup for VS Code, Neovim, Emacs and Helix: docs/editors.md.
    Needs `pip install 'migrate-bn[lsp]'`.
    """
    try:
        from . import lsp as server
    except ImportError as error:
        if (error.name or "").split(".")[0] in ("pygls", "lsprotocol"):
            raise InputError("the language server needs pygls: pip install 'migrate-bn[lsp]'") from None
        raise
    server.start()


if __name__ == "__main__":  # pragma: no cover
    main()
