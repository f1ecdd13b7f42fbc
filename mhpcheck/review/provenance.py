"""Provenance: the C each model function follows at each era, fingerprinted, checked against kernel trees.

Every kernel function of the model (a top-level function of model/ops/ or model/arch/ that is
not a @helper) has an entry in model/provenance/<ops|arch>/<module>.toml: for each era that
calls it, the C definition it follows then (the file it lives in at that era, its name, the
`#if` chain of the definition when the file has several) and that definition's fingerprint,
with the tree it was read from. An era for which no tree was at hand keeps the path and name
and says why it has no fingerprint.

`compare()` finds each function of an era in a kernel tree and says whether it is the same C,
changed (with the diff against the recorded C), or missing; `record()` writes an era's entries
from a tree, following a function to the file it has moved to.
"""

from __future__ import annotations

import ast
import re
import tomllib
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field, replace
from functools import cache
from pathlib import Path

from mhpcheck.core.errors import InputError
from mhpcheck.model.variants import ERAS
from mhpcheck.review import csource
from mhpcheck.review.csource import FunctionDef, MacroDef, ParsedFile, TreeIndex

MODEL_DIR = Path(__file__).resolve().parents[1] / "model"
DATA_DIR = MODEL_DIR / "provenance"
PACKAGES = ("ops", "arch")
ERA_NAMES = tuple(e.name for e in ERAS)

SAME, CHANGED, MISSING, UNRECORDED = "same", "changed", "missing", "unrecorded"

# The commit is a mainline id, or the key of the patch record that says where the change was read
# when it has none (`(hotplug-addressable)`), as tests/model/test_provenance.py allows.
_DOC = re.compile(
    r"^(?P<path>[\w./-]+\.[ch]):(?P<name>\w+)\(\) as of (?P<ver>v\d+\.\d+) "
    r"\((?P<commit>[0-9a-f]{8,40}|[a-z0-9-]+)"
)
_HEX = re.compile(r"^[0-9a-f]{32}$")
_ERA_FIELDS = frozenset({"path", "name", "kind", "conditions", "fingerprint", "source", "unrecorded"})


# -- the model's kernel functions ------------------------------------------------------------------


@dataclass(frozen=True)
class ModelFunction:
    """A kernel function of the model: its module, Python name, docstring claim and source."""

    package: str  # "ops" or "arch"
    module: str  # "memory_hotplug"
    attr: str  # "_add_pages"
    path: str  # the file the docstring names: "mm/memory_hotplug.c"
    name: str  # the kernel name: "__add_pages"
    since: str  # the docstring's version: "v4.5"
    source: str  # the Python source of the function, decorators included
    abstractions: tuple[str, ...] = ()  # each `# Abstraction:` comment inside it, joined

    @property
    def key(self) -> str:
        """ "ops.memory_hotplug:_add_pages"."""
        return f"{self.package}.{self.module}:{self.attr}"

    @property
    def kernel(self) -> str:
        """ "mm/memory_hotplug.c:__add_pages", as the docstring names it."""
        return f"{self.path}:{self.name}"

    @property
    def python_file(self) -> str:
        """ "model/ops/memory_hotplug.py"."""
        return f"model/{self.package}/{self.module}.py"


def _is_helper(fn: ast.FunctionDef) -> bool:
    return any(isinstance(d, ast.Name) and d.id == "helper" for d in fn.decorator_list)


def _abstractions(source: str) -> tuple[str, ...]:
    """The text of each `# Abstraction:` comment, its continuation lines joined to it."""
    out: list[str] = []
    lines = source.splitlines()
    for i, line in enumerate(lines):
        m = re.search(r"#\s*Abstraction:\s*(.*)$", line)
        if not m:
            continue
        text = [m.group(1).strip()]
        for nxt in lines[i + 1 :]:
            c = re.match(r"\s*#\s?(.*)$", nxt)
            if not c or "Abstraction:" in nxt:
                break
            text.append(c.group(1).strip())
        out.append(" ".join(t for t in text if t))
    return tuple(out)


@cache
def model_functions() -> tuple[ModelFunction, ...]:
    """Every kernel function of the model, in file order (ops first, then arch)."""
    out: list[ModelFunction] = []
    for package in PACKAGES:
        for py in sorted((MODEL_DIR / package).glob("*.py")):
            if py.stem == "__init__":
                continue
            text = py.read_text(encoding="utf-8")
            for fn in ast.parse(text).body:
                if not isinstance(fn, ast.FunctionDef) or _is_helper(fn):
                    continue
                doc = (ast.get_docstring(fn) or "").splitlines()
                m = _DOC.match(doc[0]) if doc else None
                if m is None:
                    continue  # tests/model/test_provenance.py refuses such a function
                start = fn.decorator_list[0].lineno if fn.decorator_list else fn.lineno
                src = "\n".join(text.splitlines()[start - 1 : fn.end_lineno]) + "\n"
                out.append(
                    ModelFunction(
                        package, py.stem, fn.name, m["path"], m["name"], m["ver"], src, _abstractions(src)
                    )
                )
    return tuple(out)


def model_function(kernel_function: str) -> ModelFunction:
    """The model function for "path:name" or a bare kernel name; InputError if none or ambiguous."""
    fns = model_functions()
    hits = [f for f in fns if kernel_function in (f.kernel, f.name)]
    if len(hits) == 1:
        return hits[0]
    if len(hits) > 1:
        choices = ", ".join(f.kernel for f in hits)
        raise InputError(f"{kernel_function}: several model functions have that name; give one of {choices}")
    close = sorted({f.kernel for f in fns if kernel_function.split(":")[-1].strip("_") in f.name})
    hint = f" (did you mean {', '.join(close[:3])}?)" if close else ""
    raise InputError(f"{kernel_function}: the model follows no such kernel function{hint}")


# -- the recorded data -----------------------------------------------------------------------------


@dataclass(frozen=True)
class EraRecord:
    """The C a model function follows at one era, and where its fingerprint was read."""

    path: str
    name: str
    kind: str = "function"  # "function", or "macro" for a function-like #define
    conditions: tuple[str, ...] = ()
    fingerprint: str = ""  # "" when unrecorded
    source: str = ""  # the tree it was read from: "Debian linux-source-6.12 6.12.118-1~deb12u1"
    unrecorded: str = ""  # why there is no fingerprint

    @property
    def location(self) -> str:
        return f"{self.path}:{self.name}"


@dataclass(frozen=True)
class FunctionRecord:
    """One model function's provenance: the kernel function its docstring names, and each era's C."""

    key: str  # "ops.memory_hotplug:_add_pages"
    kernel: str  # "mm/memory_hotplug.c:__add_pages"
    eras: dict[str, EraRecord] = field(default_factory=dict)


Data = dict[str, FunctionRecord]


def data_file(package: str, module: str, root: Path = DATA_DIR) -> Path:
    return root / package / f"{module}.toml"


def load(root: Path = DATA_DIR) -> tuple[Data, list[str]]:
    """The recorded provenance, and what is wrong with its format (file: problem)."""
    data: Data = {}
    problems: list[str] = []
    for package in PACKAGES:
        for f in sorted((root / package).glob("*.toml")):
            where = f"{f.parent.name}/{f.name}"
            try:
                doc = tomllib.loads(f.read_text(encoding="utf-8"))
            except (OSError, tomllib.TOMLDecodeError) as e:
                problems.append(f"{where}: {e}")
                continue
            for attr, entry in doc.items():
                key = f"{package}.{f.stem}:{attr}"
                rec, errs = _function_record(key, entry)
                problems.extend(f"{where}: {attr}: {e}" for e in errs)
                if rec is not None:
                    data[key] = rec
    return data, problems


def _function_record(key: str, entry: object) -> tuple[FunctionRecord | None, list[str]]:
    if not isinstance(entry, dict):
        return None, ["not a table"]
    errs: list[str] = []
    kernel = entry.get("kernel")
    if not isinstance(kernel, str) or ":" not in kernel:
        errs.append("needs kernel = 'path:function', as its docstring names it")
        kernel = ""
    eras: dict[str, EraRecord] = {}
    for era, value in entry.items():
        if era == "kernel":
            continue
        if era not in ERA_NAMES:
            errs.append(f"{era!r} is not an era ({', '.join(ERA_NAMES)})")
            continue
        rec, more = _era_record(value)
        errs.extend(f"{era}: {m}" for m in more)
        if rec is not None:
            eras[era] = rec
    if not eras and not errs:
        errs.append("names no era")
    order = [e for e in ERA_NAMES if e in eras]
    if list(eras) != order:
        errs.append(f"eras out of order: {', '.join(eras)}")
    return FunctionRecord(key, kernel, {e: eras[e] for e in order}), errs


def _era_record(value: object) -> tuple[EraRecord | None, list[str]]:
    if not isinstance(value, dict):
        return None, ["not a table"]
    errs = [f"unknown field {k!r}" for k in value if k not in _ERA_FIELDS]
    for k in ("path", "name"):
        if not isinstance(value.get(k), str) or not value[k]:
            errs.append(f"needs {k}")
    kind = value.get("kind", "function")
    if kind not in ("function", "macro"):
        errs.append(f"kind {kind!r} is neither 'function' nor 'macro'")
    conditions = value.get("conditions", [])
    if not isinstance(conditions, list) or not all(isinstance(c, str) for c in conditions):
        errs.append("conditions must be a list of strings")
        conditions = []
    fp, source, why = value.get("fingerprint", ""), value.get("source", ""), value.get("unrecorded", "")
    if fp:
        if not isinstance(fp, str) or not _HEX.match(fp):
            errs.append("fingerprint must be 32 hex digits (blake2b-128 of the normalised C)")
        if not source:
            errs.append("a fingerprint needs its source: the tree it was read from")
        if why:
            errs.append("a recorded fingerprint has no 'unrecorded' reason")
    elif not why:
        errs.append("needs a fingerprint, or 'unrecorded' saying why there is none")
    if errs:
        return None, errs
    return EraRecord(value["path"], value["name"], kind, tuple(conditions), fp, source, why), []


def coverage_problems(data: Data, functions: Iterable[ModelFunction] | None = None) -> list[str]:
    """Model functions without an entry, entries for no model function, and kernel names that disagree."""
    fns = {f.key: f for f in (functions if functions is not None else model_functions())}
    out = [f"{k}: {fns[k].kernel} has no provenance entry" for k in fns if k not in data]
    for k, rec in data.items():
        if k not in fns:
            out.append(f"{k}: no such model function (a @helper, renamed or removed?)")
        elif rec.kernel != fns[k].kernel:
            out.append(f"{k}: the entry names {rec.kernel}, the docstring {fns[k].kernel}")
    return out


def _q(s: str) -> str:
    """A TOML basic string."""
    out = s.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n").replace("\t", "\\t")
    return f'"{out}"'


def dumps(records: Iterable[FunctionRecord], header: str) -> str:
    """The TOML text of one module's records, in the order given; deterministic."""
    lines = [f"# {line}" if line else "#" for line in header.splitlines()]
    for rec in records:
        attr = rec.key.split(":")[1]
        lines += ["", f"[{attr}]", f"kernel = {_q(rec.kernel)}"]
        for era, e in rec.eras.items():
            lines += ["", f'[{attr}."{era}"]', f"path = {_q(e.path)}", f"name = {_q(e.name)}"]
            if e.kind != "function":
                lines.append(f"kind = {_q(e.kind)}")
            if e.conditions:
                lines.append("conditions = [" + ", ".join(_q(c) for c in e.conditions) + "]")
            if e.fingerprint:
                lines += [f"fingerprint = {_q(e.fingerprint)}", f"source = {_q(e.source)}"]
            else:
                lines.append(f"unrecorded = {_q(e.unrecorded)}")
    return "\n".join(lines) + "\n"


HEADER = (
    "Provenance of model/{package}/{module}.py: for each kernel function it models and each era\n"
    "that calls it, the C definition the model follows then (its file at that era, its name, and\n"
    "the #if chain where the file has several) with its fingerprint (blake2b-128 of the definition,\n"
    "comments and whitespace normalised) and the tree it was read from. Written by\n"
    "`mhpcheck provenance --record`; checked by `mhpcheck provenance` (README, Provenance)."
)


def write(
    data: Data, root: Path = DATA_DIR, write_file: Callable[[Path, str], None] | None = None
) -> list[Path]:
    """Write every module's file (in model order); returns the files whose text changed."""
    order = {f.key: i for i, f in enumerate(model_functions())}
    by_file: dict[tuple[str, str], list[FunctionRecord]] = {}
    for rec in sorted(data.values(), key=lambda r: (order.get(r.key, len(order)), r.key)):
        package, rest = rec.key.split(".", 1)
        by_file.setdefault((package, rest.split(":")[0]), []).append(rec)
    changed = []
    for (package, module), recs in sorted(by_file.items()):
        path = data_file(package, module, root)
        text = dumps(recs, HEADER.format(package=package, module=module))
        if path.is_file() and path.read_text(encoding="utf-8") == text:
            continue
        path.parent.mkdir(parents=True, exist_ok=True)
        if write_file is None:
            from mhpcheck.core.outputs import write_atomic

            write_file = write_atomic
        write_file(path, text)
        changed.append(path)
    return changed


# -- kernel versions and eras ----------------------------------------------------------------------


def _vt(v: str) -> tuple[int, ...]:
    return tuple(int(x) for x in v.lstrip("v").split(".")[:2])


def era_for_kernel(series: str) -> str:
    """The era a kernel series is checked against: its own era, else the newest era before it.

    This is the one place kernel versions meet eras: once an era for a newer series is
    modelled (its Variant in model/variants, its entries recorded), that series maps to it.
    """
    known = [e for e in ERA_NAMES if _vt(e) <= _vt(series)]
    if not known:
        raise InputError(f"kernel {series} is older than every era ({', '.join(ERA_NAMES)})")
    return known[-1]


def check_era(era: str) -> str:
    if era not in ERA_NAMES:
        raise InputError(f"--variant {era}: not an era; one of {', '.join(ERA_NAMES)}")
    return era


# -- finding a recorded definition in a tree -------------------------------------------------------

# The configuration the model follows: what a memory-hotplug kernel of these archs builds with.
CONFIG_ON = frozenset(
    {
        "CONFIG_MEMORY_HOTPLUG",
        "CONFIG_MEMORY_HOTREMOVE",
        "CONFIG_SPARSEMEM",
        "CONFIG_SPARSEMEM_VMEMMAP",
        "CONFIG_SPARSEMEM_EXTREME",
        "CONFIG_ZONE_DEVICE",
        "CONFIG_64BIT",
        "CONFIG_MHP_MEMMAP_ON_MEMORY",
        "CONFIG_ARCH_HAS_PTE_DEVMAP",
        "CONFIG_PPC_BOOK3S_64",
        "CONFIG_DEV_PAGEMAP_OPS",
    }
)
CONFIG_OFF = frozenset(
    {"__ASSEMBLY__", "CONFIG_FLATMEM", "CONFIG_DISCONTIGMEM", "CONFIG_NEED_MULTIPLE_NODES"}
)


def _branch_value(directive: str) -> bool | None:
    """The truth of one #if/#ifdef/#ifndef/#elif line under CONFIG_ON/CONFIG_OFF; None if unknown."""
    m = re.match(r"#\s*(ifdef|ifndef|if|elif)\s*(.*)$", directive)
    if not m:
        return None
    kw, expr = m.group(1), m.group(2).strip()

    def value(name: str) -> str:
        return "1" if name in CONFIG_ON else "0" if name in CONFIG_OFF else "?"

    if kw in ("ifdef", "ifndef"):
        v = value(expr.split()[0] if expr else "")
        if v == "?":
            return None
        return (v == "1") == (kw == "ifdef")
    expr = re.sub(r"\b(?:defined|IS_ENABLED|IS_BUILTIN)\s*\(\s*(\w+)\s*\)", lambda m: value(m.group(1)), expr)
    expr = re.sub(r"\bdefined\s+(\w+)", lambda m: value(m.group(1)), expr)
    if "?" in expr or re.search(r"[A-Za-z_]", expr.replace("&&", "").replace("||", "")):
        return None
    expr = expr.replace("&&", " and ").replace("||", " or ").replace("!", " not ")
    if not re.fullmatch(r"[01()\s]*(?:(?:and|or|not)[01()\s]*)*", expr):
        return None
    try:
        return bool(eval(expr, {"__builtins__": {}}, {}))
    except Exception:
        return None


def live(conditions: tuple[str, ...]) -> bool | None:
    """Whether a definition under this #if chain is built in the configuration the model follows."""
    groups: list[list[str]] = []
    for c in conditions:
        if re.match(r"#\s*(if|ifdef|ifndef)\b", c):
            groups.append([c])
        elif groups:
            groups[-1].append(c)
    result: bool | None = True
    for g in groups:
        earlier = [_branch_value(b) for b in g[:-1]]
        own = True if g[-1].startswith("#else") else _branch_value(g[-1])
        if any(v is True for v in earlier) or own is False:
            return False
        if own is None or any(v is None for v in earlier):
            result = None
    return result


Definition = FunctionDef | MacroDef


def _definitions(pf: ParsedFile, name: str, kind: str) -> list[Definition]:
    return list(pf.find_macro(name)) if kind == "macro" else list(pf.find(name))


def choose(defs: list[Definition], conditions: tuple[str, ...] | None = None) -> Definition | None:
    """The definition a record follows: the one under its #if chain, else the live one, else the first."""
    if not defs:
        return None
    if conditions is not None:
        for d in defs:
            if d.conditions == conditions:
                return d
    ranked = sorted(defs, key=lambda d: {True: 0, None: 1, False: 2}[live(d.conditions)])
    return ranked[0]


SEARCH_DIRS = (
    "mm",
    "include/linux",
    "include/asm-generic",
    "kernel",
    "drivers/base",
    "drivers/nvdimm",
    "drivers/dax",
    "drivers/acpi",
)


def _search_files(root: Path, path: str) -> Iterator[str]:
    """The files a definition that left `path` may have gone to: the core folders, and its arch's."""
    dirs = list(SEARCH_DIRS)
    parts = path.split("/")
    if parts[0] == "arch" and len(parts) > 2:
        dirs += [f"arch/{parts[1]}/mm", f"arch/{parts[1]}/include/asm"]
    for d in dirs:
        folder = root / d
        if not folder.is_dir():
            continue
        pattern = "**/*.[ch]" if d.startswith("arch/") else "*.[ch]"
        for p in sorted(folder.glob(pattern)):
            yield str(p.relative_to(root))


@dataclass
class Locator:
    """Finds recorded definitions in one tree: at their path, or in the file they moved to."""

    tree: TreeIndex
    _text: dict[str, str] = field(default_factory=dict)

    @property
    def root(self) -> Path:
        return self.tree.root

    def _read(self, rel: str) -> str:
        if rel not in self._text:
            self._text[rel] = csource.read_source(self.root / rel)
        return self._text[rel]

    def at(self, path: str, name: str, kind: str) -> list[Definition]:
        pf = self.tree.file(path)
        return _definitions(pf, name, kind) if pf is not None else []

    def elsewhere(self, path: str, name: str, kind: str) -> tuple[str, list[Definition]]:
        """The first other file defining `name` (core folders first), and its definitions there."""
        needle = re.compile(rf"\b{re.escape(name)}\s*\(")
        for rel in _search_files(self.root, path):
            if rel == path or not needle.search(self._read(rel)):
                continue
            defs = self.at(rel, name, kind)
            if defs and any(live(d.conditions) is not False for d in defs):
                return rel, defs
        return "", []

    def alias(self, path: str, name: str) -> str:
        """The target of an object-like `#define name target` in `path`, if there is one."""
        pf = self.tree.file(path)
        if pf is None:
            return ""
        m = re.search(rf"^#\s*define\s+{re.escape(name)}\s+(\w+)\s*$", self._read(path), re.M)
        return m.group(1) if m else ""


# -- comparing a tree with the recorded C ----------------------------------------------------------


@dataclass(frozen=True)
class Comparison:
    """One model function at one era against one tree."""

    function: ModelFunction
    era: str
    record: EraRecord
    status: str  # SAME, CHANGED, MISSING or UNRECORDED
    found: Definition | None = None
    path: str = ""  # where it was found in the tree ("" if missing)
    conditions_changed: bool = False
    diff: str = ""  # the recorded C against the tree's, when the recorded C is at hand
    note: str = ""

    @property
    def moved(self) -> bool:
        return bool(self.path) and self.path != self.record.path

    @property
    def departs(self) -> tuple[str, ...]:
        """The model's own `# Abstraction:` notes: where it says why it departs from the C."""
        return self.function.abstractions


RecordedText = Callable[[EraRecord], Definition | None]


def compare(
    tree_root: Path,
    era: str,
    data: Data,
    recorded_text: RecordedText | None = None,
    functions: Iterable[ModelFunction] | None = None,
) -> list[Comparison]:
    """Every model function of `era` found in the tree and compared with its recorded fingerprint."""
    loc = Locator(TreeIndex(tree_root))
    out = []
    for fn in functions if functions is not None else model_functions():
        rec = data.get(fn.key)
        if rec is None or era not in rec.eras:
            continue
        out.append(_compare_one(loc, fn, era, rec.eras[era], recorded_text))
    return out


def _compare_one(
    loc: Locator, fn: ModelFunction, era: str, r: EraRecord, recorded_text: RecordedText | None
) -> Comparison:
    path, defs = r.path, loc.at(r.path, r.name, r.kind)
    if not defs or all(live(d.conditions) is False for d in defs):
        other, found_there = loc.elsewhere(r.path, r.name, r.kind)
        if found_there:
            path, defs = other, found_there
    found = choose(defs, r.conditions or None)
    if found is None:
        return Comparison(fn, era, r, UNRECORDED if not r.fingerprint else MISSING, note=r.unrecorded)
    cond_changed = bool(r.conditions) and found.conditions != r.conditions
    if not r.fingerprint:
        return Comparison(fn, era, r, UNRECORDED, found, path, cond_changed, note=r.unrecorded)
    if found.fingerprint == r.fingerprint:
        return Comparison(fn, era, r, SAME, found, path, cond_changed)
    old = recorded_text(r) if recorded_text is not None else None
    if old is not None and old.fingerprint == r.fingerprint:
        label = f"a/{r.path} ({era}, {r.source})"
        diff = csource.unified_diff(old, found, label, f"b/{path}")
        return Comparison(fn, era, r, CHANGED, found, path, cond_changed, diff)
    note = f"the recorded C ({r.source}) is not at hand to show the diff"
    return Comparison(fn, era, r, CHANGED, found, path, cond_changed, note=note)


def debian_series(source: str) -> str:
    """ "6.12" for a record read from "Debian linux-source-6.12 ...", else ""."""
    m = re.match(r"Debian linux-source-(\d+\.\d+)\b", source)
    return m.group(1) if m else ""


def recorded_text_from(trees: Callable[[str], Path | None]) -> RecordedText:
    """A lookup of the recorded C in the Debian tree it was read from, via `trees(series)`."""
    locators: dict[str, Locator | None] = {}

    def lookup(r: EraRecord) -> Definition | None:
        series = debian_series(r.source)
        if not series:
            return None
        if series not in locators:
            root = trees(series)
            locators[series] = Locator(TreeIndex(root)) if root is not None else None
        loc = locators[series]
        if loc is None:
            return None
        return choose(loc.at(r.path, r.name, r.kind), r.conditions or None)

    return lookup


# -- recording an era from a tree ------------------------------------------------------------------

# Kernel functions renamed after the version a docstring names: the model's name -> the kernel's.
RENAMED = {"is_dev_zone": "zone_is_zone_device", "memmap_init_zone": "memmap_init_range"}
# Functions whose body the model follows moved into a helper the function now calls. On powerpc,
# once radix got its own vmemmap code, vmemmap_populate() and vmemmap_free() only dispatch to
# radix__vmemmap_*() or to __vmemmap_*(), which hold the loop the model follows.
FOLLOWS = {
    ("arch/powerpc/mm/init_64.c", "vmemmap_populate"): "__vmemmap_populate",
    ("arch/powerpc/mm/init_64.c", "vmemmap_free"): "__vmemmap_free",
}
# Files renamed wholesale: (old path, new path, the first era with the new one).
MOVED = (("kernel/memremap.c", "mm/memremap.c", "v5.3"),)


def path_at(path: str, era: str) -> str:
    """A docstring's path as the file was named at `era` (kernel/memremap.c is mm/memremap.c from v5.0)."""
    for old, new, since in MOVED:
        if path == old and _vt(era) >= _vt(since):
            return new
    return path


def unrecorded(fn: ModelFunction, era: str, why: str) -> EraRecord:
    """An entry for an era no tree was read for: the path and name the model claims, and why."""
    return EraRecord(path_at(fn.path, era), fn.name, unrecorded=why)


def no_tree(era: str) -> str:
    """Why an era has no fingerprints: Debian packages no tree of it."""
    return (
        f"no {era} tree at hand (Debian packages linux-source for 6.1, 6.12 and 7.x only): "
        "the path and name are the model's own claim, unchecked"
    )


def serving(
    era: str, data: Data, functions: Iterable[ModelFunction] | None = None, also: Iterable[str] = ()
) -> list[tuple[ModelFunction, FunctionRecord, EraRecord]]:
    """The functions that serve `era`, each with its record and the era entry to start from.

    A function already recorded for the era serves it. For an era recorded the first time, so do
    the functions of the era before it (the newest era with entries), from that era's entry: a
    function the era before does not call is not taken over from an older one. A function with
    no entry at all (new to the model) serves every era from its docstring's version on, from the
    path and name its docstring claims. `also` names more functions (keys) that serve the era,
    where running the era's model shows what the record does not (`mhpcheck list functions`);
    they start from their entry of the nearest era before, else after, else the docstring.
    """
    fns = list(functions if functions is not None else model_functions())
    first_time = not any(era in r.eras for r in data.values())
    before = [e for e in ERA_NAMES if _vt(e) < _vt(era) and any(e in r.eras for r in data.values())]
    prev = before[-1] if before else None
    extra = set(also)
    unknown = extra - {f.key for f in fns}
    if unknown:
        raise InputError(f"no such model function: {', '.join(sorted(unknown))}")
    out = []
    for fn in fns:
        rec = data.get(fn.key)
        if fn.key in extra and (rec is None or era not in rec.eras):
            rec = rec or FunctionRecord(fn.key, fn.kernel)
            near = sorted(
                rec.eras, key=lambda e: (_vt(e) > _vt(era), abs(ERA_NAMES.index(e) - ERA_NAMES.index(era)))
            )
            base = rec.eras[near[0]] if near else EraRecord(path_at(fn.path, era), fn.name)
            out.append((fn, rec, base))
            continue
        if rec is None or not rec.eras:
            if _vt(fn.since) <= _vt(era):
                out.append((fn, FunctionRecord(fn.key, fn.kernel), EraRecord(path_at(fn.path, era), fn.name)))
            continue
        if era in rec.eras:
            out.append((fn, rec, rec.eras[era]))
        elif first_time and prev is not None and prev in rec.eras:
            out.append((fn, rec, rec.eras[prev]))
    return out


def _with_era(rec: FunctionRecord, fn: ModelFunction, era: str, new: EraRecord) -> FunctionRecord:
    eras = {**rec.eras, era: new}
    return replace(rec, kernel=fn.kernel, eras={e: eras[e] for e in ERA_NAMES if e in eras})


def record(
    tree_root: Path,
    source: str,
    release: str,
    era: str,
    data: Data,
    functions: Iterable[ModelFunction] | None = None,
    also: Iterable[str] = (),
) -> tuple[Data, list[str]]:
    """`data` with `era` read from the tree for every function that serves it (`serving()`), and
    what moved."""
    loc = Locator(TreeIndex(tree_root))
    notes: list[str] = []
    out = dict(data)
    for fn, rec, base in serving(era, data, functions, also):
        new, note = _record_one(loc, fn, base, era, source, release)
        if note:
            notes.append(f"{fn.kernel}: {note}")
        out[fn.key] = _with_era(rec, fn, era, new)
    return out, notes


def record_without_tree(
    era: str,
    why: str,
    data: Data,
    functions: Iterable[ModelFunction] | None = None,
    also: Iterable[str] = (),
) -> Data:
    """`data` with an entry for `era`, without a fingerprint and saying `why`, for every function
    that serves it (`serving()`): the path, name and #if chain of the entry it starts from (the
    era before's, or the docstring's). An era that has fingerprints is refused: that is a tree's
    to rewrite."""
    if any(r.eras[era].fingerprint for r in data.values() if era in r.eras):
        raise InputError(f"{era} is recorded from a tree; record it again from one")
    out = dict(data)
    for fn, rec, base in serving(era, data, functions, also):
        new = EraRecord(path_at(base.path, era), base.name, base.kind, base.conditions, unrecorded=why)
        out[fn.key] = _with_era(rec, fn, era, new)
    return out


def _record_one(
    loc: Locator, fn: ModelFunction, base: EraRecord, era: str, source: str, release: str
) -> tuple[EraRecord, str]:
    path, name, kind = path_at(base.path, era), base.name, base.kind
    if name == fn.name and RENAMED.get(name):
        name = RENAMED[name]
    note = ""
    inner = FOLLOWS.get((path, name))
    if inner and loc.at(path, inner, kind):
        name, note = inner, f"its loop is {inner}() here"
    defs = loc.at(path, name, kind)
    if not defs and kind == "function":
        defs, kind = loc.at(path, name, "macro"), "macro"
        if not defs and (target := loc.alias(path, name)):
            defs, name = loc.at(path, target, "macro"), target
            note = f"{fn.name} is `#define {fn.name} {target}` here"
        if not defs:
            kind = "function"
    if not defs or all(live(d.conditions) is False for d in defs):
        other, found_there = loc.elsewhere(path, name, kind)
        if found_there:
            dead = " (the copy left there is not built)" if defs else ""
            note = f"moved from {path} to {other}{dead}"
            path, defs = other, found_there
    live_defs = [d for d in defs if live(d.conditions) is not False]
    found = choose(live_defs or defs, base.conditions if base.fingerprint else None)
    if found is None:
        why = f"not defined in {release}: the model keeps a function this kernel no longer has"
        if base.unrecorded.startswith(f"not defined in {release}:"):
            why = base.unrecorded  # recorded again from the same tree: keep the reason given then
        return EraRecord(base.path, base.name, base.kind, unrecorded=why), f"not found ({why})"
    if name != fn.name and not note:
        note = f"recorded as {name}"
    conditions = found.conditions if len(defs) > 1 else ()
    return EraRecord(path, name, kind, conditions, found.fingerprint, source), note


# -- the whole check, as the command runs it -------------------------------------------------------


@dataclass(frozen=True)
class Report:
    """`mhpcheck provenance`: the tree, the era it was held against, and each function's comparison."""

    tree: str  # "linux-source-7.2 7.2.13 (Debian ...)" or the folder
    release: str
    era: str
    comparisons: tuple[Comparison, ...]

    def count(self, status: str) -> int:
        return sum(c.status == status for c in self.comparisons)

    @property
    def exit_code(self) -> int:
        """0 every recorded function the same, 1 one changed or missing, 3 nothing could be compared."""
        if self.count(CHANGED) or self.count(MISSING):
            return 1
        return 0 if self.count(SAME) else 3


def load_checked(root: Path = DATA_DIR, new_functions: bool = False) -> Data:
    """The recorded provenance; InputError naming the first problem of its format or coverage.

    With `new_functions` (to record an era), a model function without an entry is no problem:
    recording gives it one.
    """
    data, problems = load(root)
    problems += [
        p for p in coverage_problems(data) if not (new_functions and p.endswith("no provenance entry"))
    ]
    if problems:
        more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
        raise InputError(f"{root}: {problems[0]}{more}")
    return data


def check_tree(
    tree_root: Path,
    origin: str,
    release: str,
    era: str,
    recorded_trees: Callable[[str], Path | None],
    data: Data | None = None,
) -> Report:
    """Every model function of `era` in the tree, against its recorded C."""
    data = data if data is not None else load_checked()
    comparisons = compare(tree_root, era, data, recorded_text_from(recorded_trees))
    return Report(origin, release, era, tuple(comparisons))
