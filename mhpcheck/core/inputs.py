"""Files a user gives (traces, configuration files): read and parsed within limits.

Only regular files are read (a FIFO would block, a device never ends), never more than a cap
set per kind of file, and parsed with a limit on nesting and on the digits of a number. Every
problem is an InputError of one readable line naming the file and where in it.
"""

from __future__ import annotations

import json
import os
import re
import stat
import tomllib
from pathlib import Path
from typing import Any

from mhpcheck.core.errors import InputError

MAX_DEPTH = 64  # nesting of arrays and objects; a trace nests 7 deep, a configuration 2
MAX_JSON_DIGITS = 1000  # 64-bit values are hex strings; a sub-section bitmap of 1 GiB sections has 155 digits
MAX_LINE = 500  # characters of an error message (a list of the valid names fits)

_KINDS = (
    (stat.S_ISDIR, "a folder"),
    (stat.S_ISFIFO, "a FIFO"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
    (stat.S_ISSOCK, "a socket"),
)


def file_kind(mode: int) -> str:
    """What a file that is not a regular file is, in words."""
    for test, kind in _KINDS:
        if test(mode):
            return kind
    return "not a regular file"


def one_line(text: str, limit: int = MAX_LINE) -> str:
    """`text` as one readable line: line breaks folded, any run of 200 or more characters without
    a space (a value pasted into a message) cut to its start and its length, the whole cut at
    `limit` characters."""
    text = re.sub(r"\s*[\r\n]+\s*", " ", text)
    text = re.sub(r"\S{200,}", lambda m: f"{m[0][:40]}…({len(m[0]):,} characters)", text)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _size(n: int) -> str:
    for unit, shift in (("GiB", 30), ("MiB", 20), ("KiB", 10)):
        if n >= 1 << shift:
            return f"{n / (1 << shift):.1f} {unit}"
    return f"{n} bytes"


def read_bytes(path: str | Path, limit: int, what: str) -> bytes:
    """The bytes of the regular file `path`, at most `limit`; `what` names the kind of file in
    messages ("a trace"). Opening never blocks, so a FIFO is refused, not waited on."""
    flags = os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC | os.O_NOCTTY
    try:
        fd = os.open(path, flags)
    except OSError as e:
        raise InputError(f"{path}: cannot read: {e.strerror or e}") from None
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise InputError(f"{path}: {file_kind(st.st_mode)}, not a regular file; give {what} file")
        if st.st_size > limit:
            raise InputError(f"{path}: {_size(st.st_size)}; {what} is at most {_size(limit)}")
        os.set_blocking(fd, True)
        with os.fdopen(fd, "rb", closefd=False) as f:
            data = f.read(limit + 1)
    except OSError as e:
        raise InputError(f"{path}: cannot read: {e.strerror or e}") from None
    finally:
        os.close(fd)
    if len(data) > limit:
        raise InputError(f"{path}: grew past {_size(limit)} while being read; {what} is at most that")
    return data


def read_text(path: str | Path, limit: int, what: str) -> str:
    """The UTF-8 text of the regular file `path`, as `read_bytes()` reads it."""
    data = read_bytes(path, limit, what)
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as e:
        raise InputError(f"{path}: not UTF-8 text (byte {e.start})") from None


class _Bad:
    """A value the parser met that is refused once its place in the document is known."""

    __slots__ = ("why",)

    def __init__(self, why: str) -> None:
        self.why = why


def _int(text: str) -> int | _Bad:
    if len(text.lstrip("-")) > MAX_JSON_DIGITS:
        return _Bad(f"a number of {len(text.lstrip('-')):,} digits (at most {MAX_JSON_DIGITS})")
    return int(text)


def _float(text: str) -> float | _Bad:
    if len(text) > MAX_JSON_DIGITS:
        return _Bad(f"a number of {len(text):,} characters (at most {MAX_JSON_DIGITS})")
    return float(text)


def _constant(name: str) -> _Bad:
    return _Bad(f"{name}, which is not a JSON number")


def _path(keys: list[Any], sep: str) -> str:
    shown = keys if len(keys) <= 12 else [*keys[:6], "…", *keys[-3:]]
    return sep.join(str(k) for k in shown)


def check_tree(doc: Any, depth: int = MAX_DEPTH) -> tuple[list[Any], str] | None:
    """The path to the first place in a parsed document nested deeper than `depth`, or holding a
    refused value, and what is wrong there; None if there is none."""
    stack: list[tuple[Any, list[Any]]] = [(doc, [])]
    while stack:
        node, keys = stack.pop()
        if isinstance(node, _Bad):
            return keys, node.why
        if isinstance(node, dict | list):
            if len(keys) >= depth:
                return keys, f"nested deeper than {depth} levels"
            items = node.items() if isinstance(node, dict) else enumerate(node)
            stack.extend((v, [*keys, k]) for k, v in reversed(list(items)))
    return None


def parse_json(text: str, file: str) -> Any:
    """A JSON document within the limits; InputError naming the file and the JSON path otherwise."""
    try:
        doc = json.loads(text, parse_int=_int, parse_float=_float, parse_constant=_constant)
    except json.JSONDecodeError as e:
        raise InputError(f"{file}: not JSON ({e.msg} at line {e.lineno} column {e.colno})") from None
    except RecursionError:
        keys, at = _too_deep(text, MAX_DEPTH)
        line = text.count("\n", 0, at) + 1
        column = at - text.rfind("\n", 0, at)
        raise InputError(
            f"{file}: at {_path(keys, '/') or 'top level'} (line {line} column {column}): "
            f"nested deeper than {MAX_DEPTH} levels"
        ) from None
    bad = check_tree(doc)
    if bad is not None:
        keys, why = bad
        raise InputError(f"{file}: at {_path(keys, '/') or 'top level'}: {why}")
    return doc


_STRUCTURE = re.compile(r'[\[\]{},:"]')
_STRING_REST = re.compile(r'(?:[^"\\]|\\.)*"', re.DOTALL)


def _too_deep(text: str, depth: int) -> tuple[list[Any], int]:
    """Where JSON text the parser gave up on first opens its array or object number `depth + 1`:
    the path there and the offset. Linear: each string is matched once, from its opening quote."""
    keys: list[Any] = []
    key: str | None = None  # the last string seen in an object, the key once a ':' follows
    pos = 0
    while True:
        m = _STRUCTURE.search(text, pos)
        if m is None:
            return keys, len(text)
        c, pos = m[0], m.end()
        if c == '"':
            end = _STRING_REST.match(text, pos)
            if end is None:
                return keys, m.start()
            key, pos = text[pos : end.end() - 1], end.end()
        elif c in "[{":
            if len(keys) >= depth:
                return keys, m.start()
            keys.append(0 if c == "[" else "")
        elif c in "]}":
            if keys:
                keys.pop()
        elif c == ":" and keys and isinstance(keys[-1], str):
            keys[-1] = key
        elif c == "," and keys and isinstance(keys[-1], int):
            keys[-1] += 1


_LONG_INT = re.compile(r"[+-]?[0-9][0-9_]{99,}")
_KEY = re.compile(r"^\s*([A-Za-z0-9_.\"'-]+)\s*=")


def parse_toml(text: str, file: str) -> dict[str, Any]:
    """A TOML document within the limits; InputError naming the file and the key (or line)."""
    try:
        doc = tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        raise InputError(f"{file}: not valid TOML: {e}") from None
    except RecursionError:
        raise InputError(f"{file}: arrays or tables nested deeper than {MAX_DEPTH} levels") from None
    except ValueError:  # an integer longer than Python converts (sys.get_int_max_str_digits())
        m = _LONG_INT.search(text)
        where = ""
        if m is not None:
            lineno = text.count("\n", 0, m.start()) + 1
            line = text.splitlines()[lineno - 1]
            key = _KEY.match(line)
            where = f" at line {lineno}" + (f", key {key.group(1)}" if key else "")
            digits = sum(c.isdigit() for c in m[0])
            raise InputError(f"{file}: not valid TOML{where}: an integer of {digits:,} digits") from None
        raise InputError(f"{file}: not valid TOML: an integer too long to read") from None
    bad = check_tree(doc)
    if bad is not None:
        keys, why = bad
        raise InputError(f"{file}: at {_toml_path(keys)}: {why}")
    return doc


def _toml_path(keys: list[Any]) -> str:
    out = ""
    for k in keys[:12]:
        out += f"[{k}]" if isinstance(k, int) else (f".{k}" if out else str(k))
    return out + ("…" if len(keys) > 12 else "")
