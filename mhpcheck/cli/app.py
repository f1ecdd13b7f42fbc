"""The command group, the console entry point and its exit codes, and what every command shares."""

from __future__ import annotations

import contextlib
import os
import shlex
import signal
import sys
import tempfile
import threading
import time
import traceback
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import click

from mhpcheck import __version__
from mhpcheck.config import Config, load_config
from mhpcheck.core import outputs
from mhpcheck.core.errors import InputError, Interrupted
from mhpcheck.core.exitcodes import HELP as EXIT_HELP
from mhpcheck.core.exitcodes import ExitCode, interrupted_by
from mhpcheck.core.inputs import one_line


class BadInput(click.ClickException):
    """Bad input: one line on stderr, exit 2."""

    exit_code = 2


# Settings of the configuration file that only the commands writing a check report take
REPORT_KEYS = frozenset({"fmt", "output", "trace_dir", "cache", "cache_dir", "executor"})
# ... and which of them each command takes: diff reads check's cache
TAKES = {
    "check": REPORT_KEYS,
    "simulate": REPORT_KEYS,
    "diff": frozenset({"cache", "cache_dir"}),
}


@click.group(
    help="Bounded model checker for Linux memory hotplug.\n\nSettings come from mhpcheck.toml, or "
    "[tool.mhpcheck] in pyproject.toml, in this folder or the nearest parent holding one; flags "
    f"override them.\n\n{EXIT_HELP}"
)
@click.version_option(__version__, prog_name="mhpcheck")
@click.option(
    "--config",
    "config_file",
    type=click.Path(dir_okay=False),
    default=None,
    help="Read settings from this file instead of looking for mhpcheck.toml / pyproject.toml.",
)
@click.pass_context
def cli(ctx: click.Context, config_file: str | None) -> None:
    cfg = load_config(Path.cwd(), Path(config_file) if config_file is not None else None)
    ctx.obj = cfg
    # Every command that explores takes the file's settings for the options it has (click
    # ignores the others); the report's settings go to the commands that write one.
    ctx.default_map = {
        name: {k: v for k, v in cfg.values.items() if k not in REPORT_KEYS or k in TAKES.get(name, ())}
        for name in cli.commands  # type: ignore[attr-defined]
    }


def run() -> None:
    """Console entry point: one-line errors, exit codes from mhpcheck.core.exitcodes."""
    try:
        with _stop_on_sigterm():
            code = cli.main(standalone_mode=False)
    except click.exceptions.Abort as e:  # click's form of a KeyboardInterrupt: the signal is its cause
        signum = e.__cause__.signum if isinstance(e.__cause__, Interrupted) else signal.SIGINT
        click.echo(f"mhpcheck: interrupted ({signal.Signals(signum).name})", err=True)
        sys.exit(interrupted_by(signum))
    except click.ClickException as e:
        click.echo(f"mhpcheck: error: {one_line(e.format_message())}", err=True)
        sys.exit(ExitCode.BAD_INPUT)
    except InputError as e:
        click.echo(f"mhpcheck: error: {one_line(str(e))}", err=True)
        sys.exit(ExitCode.BAD_INPUT)
    except KeyboardInterrupt as e:
        signum = e.signum if isinstance(e, Interrupted) else signal.SIGINT
        click.echo(f"mhpcheck: interrupted ({signal.Signals(signum).name})", err=True)
        sys.exit(interrupted_by(signum))
    except Exception as e:
        crash = _save_crash()
        where = f"traceback saved to {crash}" if crash is not None else "the traceback could not be saved"
        what = one_line(str(e) or type(e).__name__, 200)
        click.echo(f"mhpcheck: internal error: {what}; {where}", err=True)
        sys.exit(ExitCode.INTERNAL_ERROR)
    sys.exit(code if isinstance(code, int) else 0)


@contextlib.contextmanager
def _stop_on_sigterm() -> Iterator[None]:
    """SIGTERM stops mhpcheck as Ctrl-C does: the pool's workers are killed, what finished is
    written, temporary files are removed, and the exit code is 143."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def stop(signum: int, frame: object) -> None:
        raise Interrupted(signum)

    old = signal.signal(signal.SIGTERM, stop)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, old)


def _save_crash() -> Path | None:
    """The traceback of the exception being handled, in mhpcheck-out/ or, where that cannot be
    written (a read-only folder), in the temporary folder; None if neither can be written."""
    text = traceback.format_exc()
    name = f"crash-{time.strftime('%Y%m%d-%H%M%S')}-{os.getpid()}.txt"
    for folder in (Path("mhpcheck-out"), Path(tempfile.gettempdir())):
        try:
            folder.mkdir(exist_ok=True)
            path = folder / name
            outputs.write_atomic(path, text)
            return path
        except OSError:
            continue
    return None


def command_line() -> str:
    """The command as the user typed it, for trace and report metadata."""
    prog = Path(sys.argv[0]).name if sys.argv else ""
    if prog in ("mhpcheck", "__main__.py"):
        return shlex.join(["mhpcheck", *sys.argv[1:]])
    ctx = click.get_current_context(silent=True)
    return ctx.command_path if ctx is not None else "mhpcheck"


def effective(ctx: click.Context) -> dict[str, Any]:
    """The options a command ran with, as plain JSON values, for reports and traces."""
    return {k: list(v) if isinstance(v, tuple) else v for k, v in sorted(ctx.params.items())}


def config_file() -> str | None:
    cfg = click.get_current_context().find_object(Config)
    return cfg.file if cfg is not None else None


def check_writable(name: str, option: str) -> outputs.Target:
    """Where `option NAME` will write, checked before any work: bad input if nothing can be
    written there ("-" is stdout)."""
    return outputs.target(name, option)


def check_folder(name: str, option: str) -> Path:
    """A folder files will be written to, checked before any work: it, or the nearest folder
    above it that exists (it will be made), must take new files."""
    path = Path(name)
    if path.is_symlink() and not path.exists():
        raise BadInput(f"{option} {name}: a dangling symbolic link (to {os.readlink(path)})")
    existing = path
    while not existing.exists() and existing != existing.parent:
        if existing.is_symlink():
            raise BadInput(f"{option} {name}: {existing} is a dangling symbolic link")
        existing = existing.parent
    if not existing.is_dir():
        raise BadInput(f"{option} {name}: {existing} is not a folder")
    why = outputs.writable_folder(existing)
    if why is not None:
        raise BadInput(f"{option} {name}: folder {existing} is not writable ({why})")
    return path


def write_output(t: outputs.Target, text: str) -> None:
    """Write a report or file the user asked for where `t` says; a failure is bad input."""
    try:
        outputs.write_to(t, text)
    except OSError as e:
        raise BadInput(f"{t.path}: cannot write: {e.strerror or e}") from None
