"""The command group, the console entry point and its exit codes, and what every command shares."""

from __future__ import annotations

import shlex
import sys
import time
import traceback
from pathlib import Path
from typing import Any

import click

from mhpcheck import __version__, trace
from mhpcheck.config import Config, load_config
from mhpcheck.core.errors import InputError
from mhpcheck.core.exitcodes import HELP as EXIT_HELP
from mhpcheck.core.exitcodes import ExitCode
from mhpcheck.core.inputs import one_line


class BadInput(click.ClickException):
    """Bad input: one line on stderr, exit 2."""

    exit_code = 2


# Settings of the configuration file that only the commands writing a check report take
REPORT_KEYS = frozenset({"fmt", "output", "trace_dir", "cache", "cache_dir", "executor"})
REPORT_COMMANDS = frozenset({"check", "simulate"})


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
        name: {k: v for k, v in cfg.values.items() if name in REPORT_COMMANDS or k not in REPORT_KEYS}
        for name in cli.commands  # type: ignore[attr-defined]
    }


def run() -> None:
    """Console entry point: one-line errors, exit codes from mhpcheck.core.exitcodes."""
    try:
        code = cli.main(standalone_mode=False)
    except click.exceptions.Abort:
        click.echo("mhpcheck: interrupted", err=True)
        sys.exit(ExitCode.INTERRUPTED)
    except click.ClickException as e:
        click.echo(f"mhpcheck: error: {one_line(e.format_message())}", err=True)
        sys.exit(ExitCode.BAD_INPUT)
    except InputError as e:
        click.echo(f"mhpcheck: error: {one_line(str(e))}", err=True)
        sys.exit(ExitCode.BAD_INPUT)
    except KeyboardInterrupt:
        click.echo("mhpcheck: interrupted", err=True)
        sys.exit(ExitCode.INTERRUPTED)
    except Exception as e:
        crash = _save_crash()
        click.echo(f"mhpcheck: internal error: {e}; traceback saved to {crash}", err=True)
        sys.exit(ExitCode.INTERNAL_ERROR)
    sys.exit(code if isinstance(code, int) else 0)


def _save_crash() -> Path:
    out = Path("mhpcheck-out")
    out.mkdir(exist_ok=True)
    path = out / f"crash-{time.strftime('%Y%m%d-%H%M%S')}.txt"
    tmp = path.with_suffix(".tmp")
    tmp.write_text(traceback.format_exc())
    tmp.replace(path)
    return path


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


def check_writable(path: Path, option: str) -> None:
    """Fail before any work if a file could not be written there."""
    folder = path.parent
    if not folder.is_dir():
        raise BadInput(f"{option} {path}: folder {folder} does not exist")
    if not _writable(folder):
        raise BadInput(f"{option} {path}: folder {folder} is not writable")
    if path.is_dir():
        raise BadInput(f"{option} {path}: is a folder")


def _writable(folder: Path) -> bool:
    import os

    return os.access(folder, os.W_OK)


def write_output(path: Path, text: str) -> None:
    """Write a report or file the user asked for, atomically; a failure is bad input."""
    try:
        trace.write_atomic(path, text)
    except OSError as e:
        raise BadInput(f"{path}: cannot write: {e.strerror or e}") from None
