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

import ast
import contextlib
import functools
import importlib
import inspect
import pkgutil
import re
import runpy
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mhpcheck.core.errors import InputError
from mhpcheck.model import kernel

_DOC = re.compile(r"^(?P<path>[\w./-]+\.[ch]):(?P<name>\w+)\(\)")
_collecting: list[tuple[str, Callable[..., Any]]] | None = None


class PatchError(InputError):
    """A patch file went wrong while the model ran it: bad input, naming the file and line."""


def ended(patch: str | Path | None, exitcode: int | None, running: str) -> PatchError:
    """Bad input for a patch file that ended the process the model ran it in (os._exit, a signal)."""
    how = f"signal {-exitcode}" if exitcode is not None and exitcode < 0 else f"exit status {exitcode}"
    return PatchError(f"{patch}: the patch ended the process ({how}) while the model ran {running}")


@dataclass
class UserPatch:
    """A loaded patch file: its name (the file's stem) and the functions it replaces."""

    name: str
    path: Path
    replacements: dict[str, Callable[..., Any]] = field(default_factory=dict)  # "module:attr" -> fn
    names: dict[str, str] = field(default_factory=dict)  # "module:attr" -> the name the patch used


@dataclass(frozen=True)
class ModelFunction:
    """A function of the model a patch file may replace, and what it follows."""

    name: str  # what @replaces() takes: "mm/file.c:function", or "mhpcheck.model...module.helper"
    module: str
    attr: str
    kernel_file: str  # "" for a helper of the model's own
    kernel_function: str
    signature: str
    doc: str

    @property
    def helper(self) -> bool:
        return not self.kernel_file


def replaces(kernel_function: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Mark a function of a patch file as the new body of `kernel_function`: "mm/file.c:name" for a
    kernel function, or a helper's module-qualified name ("mhpcheck.model.ops.sparse._memmap_pages")."""

    def deco(fn: Callable[..., Any]) -> Callable[..., Any]:
        if _collecting is None:
            raise InputError(f"@replaces({kernel_function!r}) used outside a patch file being loaded")
        _collecting.append((kernel_function, fn))
        return fn

    return deco


def catalogue() -> list[ModelFunction]:
    """Every function a patch file may replace, module by module in source order: the kernel
    functions of model/ops and model/arch, and the model's helpers that run within a step (they
    take the kernel `k`)."""
    import mhpcheck.model.arch as arch_pkg
    import mhpcheck.model.ops as ops_pkg

    out = []
    for pkg in (ops_pkg, arch_pkg):
        for info in pkgutil.iter_modules(pkg.__path__):
            mod = importlib.import_module(f"{pkg.__name__}.{info.name}")
            for attr, fn in vars(mod).items():
                # a function already patched in this process is its dispatcher: look through it
                fn = getattr(fn, "__wrapped__", fn)
                if not inspect.isfunction(fn) or fn.__module__ != mod.__name__:
                    continue
                params = list(inspect.signature(fn).parameters)
                if not params or params[0] != "k":
                    continue  # not model code that runs in a kernel's step
                doc = (fn.__doc__ or "").strip().splitlines()[0] if fn.__doc__ else ""
                m = _DOC.match(doc)
                path, kname = (m.group("path"), m.group("name")) if m else ("", attr)
                name = f"{path}:{kname}" if m else f"{mod.__name__}.{attr}"
                sig = f"{kname if m else attr}({', '.join(params)})"
                out.append(ModelFunction(name, mod.__name__, attr, path, kname, sig, doc))
    return out


def model_functions() -> dict[str, ModelFunction]:
    """Every replaceable function by each name a patch may use: "path:name", the bare kernel
    name (the first module's, where two archs share one), or a helper's qualified name."""
    out: dict[str, ModelFunction] = {}
    for f in catalogue():
        out[f.name] = f
        if not f.helper:
            out.setdefault(f.kernel_function, f)
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
            close = [k for k in known if name.split(":")[-1].split(".")[-1] in k]
            hint = f" (did you mean {close[0]!r}?)" if close else " (mhpcheck list functions)"
            raise InputError(f"{p}: {fn.__name__} replaces unknown kernel function {name!r}{hint}")
        target = known[name]
        mod, attr = sys.modules[target.module], target.attr
        orig = _INSTALLED.get((mod.__name__, attr), getattr(mod, attr))
        want = list(inspect.signature(orig).parameters)
        got = list(inspect.signature(fn).parameters)
        if want != got:
            raise InputError(
                f"{p}: {fn.__name__} must keep the signature of {name}: ({', '.join(want)}), "
                f"not ({', '.join(got)})"
            )
        patch.replacements[f"{mod.__name__}:{attr}"] = fn
        patch.names[f"{mod.__name__}:{attr}"] = name
    return patch


# Names through which a file can reach its own functions without naming them
_REFLECTIVE = frozenset(
    {"globals", "locals", "vars", "getattr", "eval", "exec", "compile", "__import__", "__dict__", "modules"}
)


def outline(text: str) -> str | None:
    """What a patch file does apart from the bodies of its replacements: its syntax tree with each
    replacement's body set aside (comments and layout never count); None if it does not parse.

    Two patch files with one outline differ only inside replacements, so a run in which no
    replacement ran (count_calls() all zero) is the same under either: the cache keeps such a
    cell's result under the outline (mhpcheck.cache.untouched_key). A body stays in the outline
    where the file could call the function other than through its dispatcher: its name used
    anywhere else in the file, defined twice, or the file reaching names reflectively
    (globals(), getattr(), sys.modules, ...).
    """
    try:
        tree = ast.parse(text)
    except (SyntaxError, ValueError):
        return None
    names = [n.id for n in ast.walk(tree) if isinstance(n, ast.Name)]
    attrs = [n.attr for n in ast.walk(tree) if isinstance(n, ast.Attribute)]
    if _REFLECTIVE.isdisjoint(names) and _REFLECTIVE.isdisjoint(attrs):
        defined = [
            n.name for n in tree.body if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef)
        ]
        for node in tree.body:
            if not isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) or not _replacement(node):
                continue
            inside = sum(isinstance(n, ast.Name) and n.id == node.name for n in ast.walk(node))
            if names.count(node.name) == inside and defined.count(node.name) == 1:
                node.body = [ast.Pass()]
    return ast.dump(tree)


def _replacement(fn: ast.FunctionDef | ast.AsyncFunctionDef) -> bool:
    """Whether a def is decorated @replaces(...) (or @<module>.replaces(...)) and by nothing else:
    another decorator could run the body when the file is loaded."""
    if len(fn.decorator_list) != 1 or not isinstance(fn.decorator_list[0], ast.Call):
        return False
    f = fn.decorator_list[0].func
    return (isinstance(f, ast.Name) and f.id == "replaces") or (
        isinstance(f, ast.Attribute) and f.attr == "replaces"
    )


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
        setattr(mod, attr, _dispatcher(current, fn, patch, patch.names[target], orig))
    kernel.forget_kept()
    _LOADED[key] = patch
    return patch


# patch name -> replaced function (as the patch named it) -> calls of the replacement
_CALLS: dict[str, dict[str, int]] = {}


# patch name -> calls of the functions it replaces by kernels that do not run the patch
_UNPATCHED: dict[str, list[int]] = {}


def unpatched_calls(patch: str) -> int:
    """How often kernels without patch `patch` called a function it replaces, so far: a step
    during which this does not grow runs, with the patch, exactly as without it."""
    return _UNPATCHED.get(patch, [0])[0]


def count_calls(patch: str, reset: bool = False) -> dict[str, int]:
    """How often each replacement of patch `patch` ran in this process (since the last reset): a
    patch whose replacements never run changes nothing the bounds reach."""
    calls = _CALLS.get(patch, {})
    counts = dict(calls)
    if reset:
        for name in calls:
            calls[name] = 0
    return counts


@contextlib.contextmanager
def reaching() -> Iterator[set[str]]:
    """The replaceable functions ("module:attr", as UserPatch.replacements names them) that run
    inside the block: each is wrapped by a probe that notes it at its first call and puts the
    function back (a kernel built inside the block keeps the probe it resolved, which goes on
    noting). A patched kernel runs exactly as an unpatched one until a replacement runs, so a
    cell none of whose reached functions a patch replaces is the same with the patch
    (checker.derived())."""
    reached: set[str] = set()
    installed: list[tuple[Any, str, Callable[..., Any]]] = []
    for f in _targets():
        mod = sys.modules[f.module]
        current = getattr(mod, f.attr)
        probe = _probe(mod, f.attr, current, reached)
        setattr(mod, f.attr, probe)
        installed.append((mod, f.attr, current))
    try:
        yield reached
    finally:
        for mod, attr, current in installed:
            setattr(mod, attr, current)


@functools.cache
def _targets() -> tuple[ModelFunction, ...]:
    """Each replaceable function once (model_functions() names some twice)."""
    return tuple({(f.module, f.attr): f for f in catalogue()}.values())


def _probe(mod: Any, attr: str, current: Callable[..., Any], reached: set[str]) -> Callable[..., Any]:
    name = f"{mod.__name__}:{attr}"

    def probe(*args: Any, **kwargs: Any) -> Any:
        reached.add(name)
        if getattr(mod, attr) is probe:
            setattr(mod, attr, current)
        return current(*args, **kwargs)

    probe.__wrapped__ = getattr(current, "__wrapped__", current)  # type: ignore[attr-defined]
    probe.__name__ = current.__name__
    return probe


def _where(patch: UserPatch, e: BaseException) -> str:
    """The patch file's line the exception came through: its last frame in that file."""
    line = None
    tb = e.__traceback__
    real = str(patch.path.resolve())
    while tb is not None:
        if str(Path(tb.tb_frame.f_code.co_filename).resolve()) == real:
            line = tb.tb_lineno
        tb = tb.tb_next
    return f"{patch.path}:{line}" if line is not None else str(patch.path)


def _dispatcher(
    current: Callable[..., Any],
    new: Callable[..., Any],
    patch: UserPatch,
    name: str,
    orig: Callable[..., Any],
) -> Callable[..., Any]:
    calls = _CALLS.setdefault(patch.name, {})
    calls.setdefault(name, 0)
    unpatched = _UNPATCHED.setdefault(patch.name, [0])
    replaced = kernel.replaced_calls

    def dispatch(k: Any, *args: Any, **kwargs: Any) -> Any:
        replaced[0] += 1  # so that no kernel keeps a result this call went into (kernel.memoised)
        if k.variant.user_patch != patch.name:
            unpatched[0] += 1
            return current(k, *args, **kwargs)
        calls[name] += 1
        try:
            # a patch's prints go to stderr: stdout may hold a JSON, JUnit or SARIF report
            with contextlib.redirect_stdout(sys.stderr):
                return new(k, *args, **kwargs)
        except PatchError:
            raise
        except (KeyboardInterrupt, GeneratorExit):
            raise
        except BaseException as e:
            what = "exit" if isinstance(e, SystemExit) else type(e).__name__
            raise PatchError(f"{_where(patch, e)}: {name} raised {what}: {e}") from None

    dispatch.__doc__ = orig.__doc__
    dispatch.__name__ = orig.__name__
    dispatch.__wrapped__ = orig  # type: ignore[attr-defined]
    return dispatch
