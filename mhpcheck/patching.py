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
    outline: str | None = None  # outline() of the text loaded: None unless the file is inert()
    asks_only: bool = False  # inert() and reads its kernel's variant only by asking it (asks_only())


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
        text = p.read_text()
        patch.outline = outline(text)
        patch.asks_only = patch.outline is not None and asks_only(ast.parse(text))
        # the text just read runs, not the file read again: the outline is of what runs
        exec(compile(text, str(p), "exec"), {"__name__": f"mhpcheck_patch_{p.stem}", "__file__": str(p)})
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


def outline(text: str) -> str | None:
    """What a patch file is apart from the bodies of its functions: its syntax tree with every
    function body set aside (comments and layout never count); None unless the file is inert().

    Loading an inert file runs none of its code, so its functions run only when the model calls
    one of its replacements, through the patch's dispatcher, which counts the call. Two inert
    files with one outline therefore behave alike in a cell where no replacement ran, and a
    patched cell whose unpatched twin called none of the functions they replace is the twin's
    (checker.derived()); the cache keeps such cells by the outline (cache.untouched_key()).
    """
    try:
        tree = ast.parse(text)
    except (SyntaxError, ValueError):
        return None
    if not inert(tree):
        return None
    for node in tree.body:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            node.body = [ast.Pass()]
    return ast.dump(tree)


QUESTIONS = ("has", "mutated", "at_least")  # what a Variant answers under asking()


def asks_only(tree: ast.Module) -> bool:
    """Whether the file's code reads its kernel's variant only by asking it: every `.variant` is
    `<kernel>.variant.has(...)`, `.mutated(...)` or `.at_least(...)`, and no name, import or
    identifier-like string mentions a variant otherwise. A patched run of such a file notes all
    its variant decided (mhpcheck.model.variants.asking()), so a patched cell at another era
    that answers alike is that run (checker.as_era())."""
    parents = {child: node for node in ast.walk(tree) for child in ast.iter_child_nodes(node)}

    def asked(n: ast.Attribute) -> bool:  # <kernel>.variant.<question>(...)
        up = parents.get(n)
        call = parents.get(up) if up is not None else None
        is_question = isinstance(up, ast.Attribute) and up.attr in QUESTIONS
        return is_question and isinstance(call, ast.Call) and call.func is up

    for n in ast.walk(tree):
        if isinstance(n, ast.Attribute):
            name = n.attr
            if name == "variant" and asked(n):
                continue
        elif isinstance(n, ast.Name):
            name = n.id
        elif isinstance(n, ast.alias):
            name = n.name
        elif isinstance(n, ast.Constant) and isinstance(n.value, str) and re.fullmatch(r"[\w.]+", n.value):
            name = n.value  # getattr(k, "variant")
        else:
            continue
        if "variant" in name.lower():
            return False
    return True


_REPLACES = ast.ImportFrom(module="mhpcheck.patching", names=[ast.alias(name="replaces")], level=0)


def inert(tree: ast.Module) -> bool:
    """Whether loading the file does nothing but bind names: at its top level only a docstring,
    imports of mhpcheck's own modules (and __future__), functions whose one decorator, if any, is
    mhpcheck.patching's `@replaces("...")`, and names bound to values that call nothing; and
    `replaces` bound by `from mhpcheck.patching import replaces` alone. Anything else (a call, a
    class body, an assignment into another module, an import of code that is not mhpcheck's)
    could change the model, or run a function of the file, before any replacement is called."""

    def ours(module: str | None) -> bool:
        return module is not None and (module in ("__future__", "mhpcheck") or module.startswith("mhpcheck."))

    def calls_nothing(*nodes: ast.AST | None) -> bool:
        return not any(
            isinstance(n, ast.Call | ast.Lambda | ast.NamedExpr | ast.Await | ast.Yield | ast.YieldFrom)
            for node in nodes
            if node is not None
            for n in ast.walk(node)
        )

    bound: list[str] = []  # every top-level name the file binds, once per binding
    for node in tree.body:
        if isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant):
            continue
        if isinstance(node, ast.ImportFrom):
            if node.level or not ours(node.module) or any(a.name == "*" for a in node.names):
                return False
            if ast.dump(node) == ast.dump(_REPLACES):
                continue  # the one binding `replaces` may have
            bound.extend(a.asname or a.name for a in node.names)
        elif isinstance(node, ast.Import):
            if not all(ours(a.name) for a in node.names):
                return False
            bound.extend(a.asname or a.name.partition(".")[0] for a in node.names)
        elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            a = node.args
            if not calls_nothing(*a.defaults, *a.kw_defaults, node.returns) or len(node.decorator_list) > 1:
                return False
            if any(not calls_nothing(x.annotation) for x in (*a.posonlyargs, *a.args, *a.kwonlyargs)):
                return False
            if node.decorator_list and not _replacement(node.decorator_list[0]):
                return False
            bound.append(node.name)
        elif isinstance(node, ast.Assign | ast.AnnAssign):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            if not all(isinstance(t, ast.Name) for t in targets) or not calls_nothing(node.value):
                return False
            bound.extend(t.id for t in targets if isinstance(t, ast.Name))
        else:
            return False
    return "replaces" not in bound


def _replacement(decorator: ast.expr) -> bool:
    """Whether a decorator is `@replaces("...")`, with one string."""
    return (
        isinstance(decorator, ast.Call)
        and isinstance(decorator.func, ast.Name)
        and decorator.func.id == "replaces"
        and len(decorator.args) == 1
        and not decorator.keywords
        and isinstance(decorator.args[0], ast.Constant)
        and isinstance(decorator.args[0].value, str)
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


# stats key of an unpatched cell's result: the replaceable functions its run called (reaching())
REACHES = "reaches"


def out_of_reach(patch: UserPatch, stats: dict[str, Any]) -> bool:
    """Whether an unpatched run whose result has these `stats` called none of the functions the
    patch replaces, the patch being inert (outline()): the patched run is then the same run."""
    return (
        patch.outline is not None and REACHES in stats and not set(patch.replacements) & set(stats[REACHES])
    )


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
    try:
        for f in _targets():
            mod = sys.modules[f.module]
            current = getattr(mod, f.attr)
            installed.append((mod, f.attr, current))
            setattr(mod, f.attr, _probe(mod, f.attr, current, reached))
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
    probe.__name__ = getattr(current, "__name__", attr)
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
