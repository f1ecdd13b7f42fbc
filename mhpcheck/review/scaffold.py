"""Scaffolds: a model function written out as a patch file, ready to edit for design review.

A scaffold holds the model's function as it stands (the same source, so that the file loaded
unchanged gives exactly the unpatched verdicts), decorated `@replaces("path:function")`, with
the imports it needs: the model module's own imports that the function uses, and the module's
other names (helpers, constants, other kernel functions) imported from the module itself.
A C diff, when there is one, stands above it as a comment.
"""

from __future__ import annotations

import ast
import re
import textwrap

from mhpcheck.review.provenance import MODEL_DIR, ModelFunction


def _names_used(node: ast.AST) -> set[str]:
    """Every bare name the function reads, annotations and decorators included."""
    return {n.id for n in ast.walk(node) if isinstance(n, ast.Name)} | {
        n.value.id for n in ast.walk(node) if isinstance(n, ast.Attribute) and isinstance(n.value, ast.Name)
    }


def _module_names(tree: ast.Module) -> dict[str, ast.stmt]:
    """Top-level names a module defines itself: functions, classes and assignments."""
    out: dict[str, ast.stmt] = {}
    for node in tree.body:
        if isinstance(node, ast.FunctionDef | ast.ClassDef):
            out[node.name] = node
        elif isinstance(node, ast.Assign):
            for t in node.targets:
                if isinstance(t, ast.Name):
                    out[t.id] = node
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            out[node.target.id] = node
    return out


def imports_for(fn: ModelFunction) -> list[str]:
    """The import lines the function's source needs outside its module, in a stable order."""
    text = (MODEL_DIR / fn.package / f"{fn.module}.py").read_text(encoding="utf-8")
    tree = ast.parse(text)
    node = next(n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name == fn.attr)
    used = _names_used(node) - {fn.attr}
    lines: list[str] = []
    for imp in tree.body:
        if isinstance(imp, ast.ImportFrom) and imp.module != "__future__":
            names = [a for a in imp.names if (a.asname or a.name) in used]
            if names:
                base = "." * imp.level + (imp.module or "")
                if imp.level:
                    base = _absolute(fn, imp.level, imp.module)
                spelled = [a.name if a.asname is None else f"{a.name} as {a.asname}" for a in names]
                lines.append(_from_import(base, spelled))
        elif isinstance(imp, ast.Import):
            for a in imp.names:
                if (a.asname or a.name.split(".")[0]) in used:
                    lines.append(f"import {a.name}" + (f" as {a.asname}" if a.asname else ""))
    own = sorted((n for n in _module_names(tree) if n in used), key=_by_type)
    if own:
        lines.append(_from_import(f"mhpcheck.model.{fn.package}.{fn.module}", own))
    return lines


def _from_import(module: str, names: list[str]) -> str:
    """`from module import a, b`, wrapped one name a line when it is too long for a line."""
    line = f"from {module} import {', '.join(names)}"
    if len(line) <= 100:
        return line
    return f"from {module} import (\n" + "".join(f"    {n},\n" for n in names) + ")"


def _by_type(name: str) -> tuple[int, str]:
    """isort's order within one import: CONSTANTS, then Classes, then the rest."""
    bare = name.lstrip("_")
    return (0 if bare.isupper() else 1 if bare[:1].isupper() else 2, name)


def _sorted_imports(lines: list[str]) -> list[str]:
    """Import lines in isort's order: plain imports first, then from-imports, each by module."""
    return sorted(lines, key=lambda line: (line.startswith("from "), line.split()[1].lower()))


def _absolute(fn: ModelFunction, level: int, module: str | None) -> str:
    parts = ["mhpcheck", "model", fn.package, fn.module][:-level]
    return ".".join([*parts, module] if module else parts)


def _commented(text: str) -> list[str]:
    return [f"#   {line}".rstrip() if line else "#" for line in text.rstrip("\n").splitlines()]


def _function_only(fn: ModelFunction) -> str:
    """The function's source without the model's own decorators (a kernel function has none)."""
    return re.sub(r"\A(?:@.*\n)+", "", fn.source)


def scaffold(fn: ModelFunction, era: str, c_diff: str = "", why: str = "") -> str:
    """A patch file replacing `fn` with its own source: loaded unchanged, it changes nothing."""
    head = [
        f"# Patch file for mhpcheck: {fn.kernel}() as the model runs it at {era}",
        f"# (from {fn.python_file}). Edit the body to follow the C change, keep the signature, then:",
        f"#   mhpcheck diff --variant {era} --patch <this file>",
        f"#   mhpcheck check --variant {era} --patch <this file>",
    ]
    if fn.abstractions:
        head.append("# Where the model departs from the C on purpose (its # Abstraction: notes):")
        for a in fn.abstractions:
            head += textwrap.wrap(a, 100, initial_indent="#   - ", subsequent_indent="#     ")
    if c_diff:
        head += ["#", f"# The C change under review{f' ({why})' if why else ''}:", *_commented(c_diff)]
    body = [
        *head,
        "",
        "from __future__ import annotations",
        "",
        *_sorted_imports(["from mhpcheck.patching import replaces", *imports_for(fn)]),
        "",
        "",
        f'@replaces("{fn.kernel}")',
        _function_only(fn).rstrip("\n"),
    ]
    return "\n".join(body) + "\n"


def scaffold_name(fn: ModelFunction) -> str:
    """A scaffold's file name: "__add_pages.py"; "x86_64-vmemmap_populate.py" for arch code."""
    prefix = f"{fn.module}-" if fn.package == "arch" else ""
    return f"{prefix}{fn.name}.py"
