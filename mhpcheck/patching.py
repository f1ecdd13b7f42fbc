"""User patch files: replace model functions by their kernel name, for design review of a change.

A patch file is ordinary Python:

    from mhpcheck.patching import replaces

    @replaces("mm/memory_hotplug.c:__add_pages")
    def _add_pages(k, s, nid, zone, phys_start_pfn, nr_pages, altmap):
        ...

Installing a patch puts a dispatcher in place of each replaced function: kernels whose variant
names the patch ("v4.5@my-change") run the replacement, every other kernel the model's own
function, so one process can explore a variant with and without the patch side by side.
"""

from __future__ import annotations

import importlib
import inspect
import pkgutil
import re
import runpy
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mhpcheck.core.errors import InputError

_DOC = re.compile(r"^(?P<path>[\w./-]+\.[ch]):(?P<name>\w+)\(\)")
_collecting: list[tuple[str, Callable[..., Any]]] | None = None


@dataclass
class UserPatch:
    """A loaded patch file: its name (the file's stem) and the functions it replaces."""

    name: str
    path: Path
    replacements: dict[str, Callable[..., Any]] = field(default_factory=dict)  # "file:function" -> fn


def replaces(kernel_function: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Mark a function of a patch file as the new body of `kernel_function` ("mm/file.c:name")."""

    def deco(fn: Callable[..., Any]) -> Callable[..., Any]:
        if _collecting is None:
            raise InputError(f"@replaces({kernel_function!r}) used outside a patch file being loaded")
        _collecting.append((kernel_function, fn))
        return fn

    return deco


def model_functions() -> dict[str, tuple[Any, str]]:
    """Every kernel function of the model: "path:name" and bare "name" -> (module, attribute)."""
    import mhpcheck.model.arch as arch_pkg
    import mhpcheck.model.ops as ops_pkg

    out: dict[str, tuple[Any, str]] = {}
    for pkg in (ops_pkg, arch_pkg):
        for info in pkgutil.iter_modules(pkg.__path__):
            mod = importlib.import_module(f"{pkg.__name__}.{info.name}")
            for attr, fn in vars(mod).items():
                # a function already patched in this process is its dispatcher: look through it
                fn = getattr(fn, "__wrapped__", fn)
                if not inspect.isfunction(fn) or fn.__module__ != mod.__name__:
                    continue
                m = _DOC.match((fn.__doc__ or "").strip())
                if m:
                    out[f"{m.group('path')}:{m.group('name')}"] = (mod, attr)
                    out.setdefault(m.group("name"), (mod, attr))
    return out


_LOADED: dict[str, UserPatch] = {}
_INSTALLED: dict[tuple[str, str], Callable[..., Any]] = {}  # (module, attr) -> model's function


def load_patch(path: str | Path) -> UserPatch:
    """Load and check a patch file; any problem is bad input (InputError), in one line."""
    global _collecting
    p = Path(path)
    if not p.is_file():
        raise InputError(f"{p}: no such patch file")
    patch = UserPatch(p.stem, p)
    _collecting = []
    try:
        runpy.run_path(str(p), run_name=f"mhpcheck_patch_{p.stem}")
    except InputError:
        raise
    except SyntaxError as e:
        raise InputError(f"{p}:{e.lineno}: the patch file does not parse: {e.msg}") from e
    except BaseException as e:
        raise InputError(f"{p}: the patch file raised {type(e).__name__}: {e}") from e
    finally:
        collected, _collecting = _collecting, None
    if not collected:
        raise InputError(f"{p}: replaces no function (use @replaces('mm/<file>.c:<function>'))")
    known = model_functions()
    for name, fn in collected:
        if name not in known:
            close = [k for k in known if ":" in k and name.split(":")[-1] in k]
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            raise InputError(f"{p}: {fn.__name__} replaces unknown kernel function {name!r}{hint}")
        mod, attr = known[name]
        orig = _INSTALLED.get((mod.__name__, attr), getattr(mod, attr))
        want = list(inspect.signature(orig).parameters)
        got = list(inspect.signature(fn).parameters)
        if want != got:
            raise InputError(
                f"{p}: {fn.__name__} must keep the signature of {name}: ({', '.join(want)}), "
                f"not ({', '.join(got)})"
            )
        patch.replacements[f"{mod.__name__}:{attr}"] = fn
    return patch


def activate(path: str | Path) -> UserPatch:
    """Load a patch file once per process and install its dispatchers; returns the patch."""
    key = str(Path(path).resolve())
    if key in _LOADED:
        return _LOADED[key]
    patch = load_patch(path)
    for target, fn in patch.replacements.items():
        modname, attr = target.split(":")
        mod = sys.modules[modname]
        orig = _INSTALLED.setdefault((modname, attr), getattr(mod, attr))
        current = getattr(mod, attr)
        setattr(mod, attr, _dispatcher(current, fn, patch.name, orig))
    _LOADED[key] = patch
    return patch


def _dispatcher(
    current: Callable[..., Any], new: Callable[..., Any], name: str, orig: Callable[..., Any]
) -> Callable[..., Any]:
    def dispatch(k: Any, *args: Any, **kwargs: Any) -> Any:
        if k.variant.user_patch == name:
            return new(k, *args, **kwargs)
        return current(k, *args, **kwargs)

    dispatch.__doc__ = orig.__doc__
    dispatch.__name__ = orig.__name__
    dispatch.__wrapped__ = orig  # type: ignore[attr-defined]
    return dispatch
