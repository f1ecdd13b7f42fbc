"""C function extraction: synthetic snippets for each tricky case, then the real kernel trees when cached."""

from __future__ import annotations

import itertools
import re
import subprocess
import textwrap
from collections.abc import Mapping
from pathlib import Path

import pytest

from mhpcheck.review import csource, kernel_source
from mhpcheck.review.csource import (
    combined_fingerprint,
    fingerprint,
    map_patch,
    normalize,
    parse_patch,
    parse_source,
)


def parse(src: str) -> csource.ParsedFile:
    """parse_source of dedented `src`."""
    return parse_source(textwrap.dedent(src).lstrip("\n"), "t.c")


def names(src: str) -> list[str]:
    """Names of the definitions in `src`, in order."""
    return [f.name for f in parse(src).functions]


def one(src: str, name: str) -> csource.FunctionDef:
    """The only definition of `name` in `src`."""
    defs = parse(src).find(name)
    assert len(defs) == 1, defs
    return defs[0]


# --- annotations and signatures -------------------------------------------------------------------


@pytest.mark.parametrize(
    "sig",
    [
        "static inline void __meminit foo(int a)",
        "static __always_inline bool foo(void)",
        "int __init __weak foo(void)",
        "void __ref foo(void)",
        "noinline __maybe_unused __must_check notrace int foo(void)",
        "asmlinkage __visible void __init __no_sanitize_address foo(void)",
        "static struct page * __meminit foo(unsigned long pfn)",
        "static pte_t * __meminit foo(pmd_t *pmd)",
        "const char *const *foo(void)",
        "unsigned long long foo(void)",
        "__attribute__((weak)) void foo(void)",
        "void __attribute__((nonnull(1))) foo(int *p)",
        "static __printf(2, 3) void foo(int level, const char *fmt, ...)",
        "static __always_inline __alloc_size(1) void *foo(size_t size)",
        "typeof(int) foo(void)",
        "static int foo(int (*fn)(void *, int), void *arg)",
        "static void foo(void (*cb[4])(int))",
        "static void foo(struct x *x) __acquires(&x->lock)",
        "static void foo(struct x *x) __releases(&x->lock) __must_hold(&y)",
        'static int foo(void) __attribute__((section(".init.text")))',
    ],
)
def test_annotated_signatures(sig: str) -> None:
    """Storage classes, section annotations, attributes and function-pointer parameters around the name."""
    pf = parse(f"{sig}\n{{\n\treturn 0;\n}}\n")
    assert [f.name for f in pf.functions] == ["foo"]
    f = pf.functions[0]
    assert (f.kind, f.start_line, f.end_line, f.body_line) == ("function", 1, 4, 2)


def test_multiline_signature_lines() -> None:
    """A signature spread over lines: start at the specifiers, name line, '{' line, '}' line."""
    f = one(
        """
        /* comment */
        static int __meminit
        vmemmap_populate(unsigned long start,
                         unsigned long end, int node,
                         struct vmem_altmap *altmap)
        {
            return 0;
        }
        """,
        "vmemmap_populate",
    )
    assert (f.start_line, f.name_line, f.body_line, f.end_line) == (2, 3, 6, 8)
    assert f.text.startswith("static int __meminit\n") and f.text.endswith("}\n")
    assert f.signature.startswith("static int __meminit vmemmap_populate ( unsigned long start ,")


def test_function_returning_function_pointer() -> None:
    """`void (*get(int n))(int)`: the name is inside the declarator group."""
    assert names("static void (*get_handler(int n))(int)\n{\n\treturn NULL;\n}\n") == ["get_handler"]


def test_one_line_header_definitions() -> None:
    """Several one-line static inline definitions in a header."""
    pf = parse("""
        static inline int a(void) { return 0; }
        static inline int b(void) { return 1; } static inline int c(void) { return 2; }
        """)
    spans = [(f.name, f.start_line, f.end_line) for f in pf.functions]
    assert spans == [("a", 1, 1), ("b", 2, 2), ("c", 2, 2)]


def test_prototypes_are_not_definitions() -> None:
    """Declarations, extern prototypes and function-pointer variables are skipped."""
    assert names("""
        int foo(void);
        extern void bar(int a) __attribute__((weak));
        static int (*fp)(int) = foo;
        typedef int (*handler_t)(void *);
        void (*table[2])(void) = { foo, bar };
        int baz(int x)
        {
            return foo();
        }
        """) == ["baz"]


def test_structs_enums_initializers_are_not_functions() -> None:
    """Brace blocks of struct, union, enum and initializers are not functions."""
    assert names("""
        struct ops {
            int (*probe)(struct device *dev);
        } __packed;
        enum { A, B };
        static const struct ops o = {
            .probe = probe,
        };
        union u { int a; long b; } u1;
        static int probe(struct device *dev)
        {
            return 0;
        }
        """) == ["probe"]


def test_macro_invocation_without_semicolon_before_function() -> None:
    """`DEFINE_X(...)` with no ';' does not become part of the next definition."""
    f = one(
        """
        DEFINE_ENTRY(pte, pte, init)
        PAGEFLAG(Foo, foo, PF_ANY)
        static inline pgprot_t prot_sethuge(pgprot_t prot)
        {
            return prot;
        }
        """,
        "prot_sethuge",
    )
    assert f.start_line == 3


def test_function_like_macros_are_not_functions() -> None:
    """#define bodies, even ones that spell out a whole function, are macros, not definitions."""
    pf = parse("""
        #define min(a, b) ({ typeof(a) _a = (a); _a < (b) ? _a : (b); })
        #define DEFINE_FN(n)                \\
        static int n(void)                  \\
        {                                   \\
            return 0;                       \\
        }
        #define OBJ { 1, 2 }
        DEFINE_FN(x)
        int real(void) { return min(1, 2); }
        """)
    assert [f.name for f in pf.functions] == ["real"]
    assert [(m.name, m.start_line, m.end_line) for m in pf.macros] == [("min", 1, 1), ("DEFINE_FN", 2, 6)]


def test_syscall_define_is_macro_defined() -> None:
    """SYSCALL_DEFINEn(name, ...) { } is kept apart as a macro-defined function."""
    pf = parse("""
        SYSCALL_DEFINE3(madvise, unsigned long, start, size_t, len_in, int, behavior)
        {
            return do_madvise(current->mm, start, len_in, behavior);
        }
        static DEFINE_IDTENTRY_RAW(exc_page_fault)
        {
        }
        """)
    assert [(f.name, f.kind) for f in pf.functions] == [
        ("SYSCALL_DEFINE3(madvise)", "macro_defined"),
        ("DEFINE_IDTENTRY_RAW(exc_page_fault)", "macro_defined"),
    ]
    assert pf.find("madvise") == []


def test_braces_in_strings_chars_and_comments() -> None:
    """Braces in string and character literals and in comments do not count."""
    pf = parse(r"""
        static const char *s = "{ \" {";
        /* { { { */
        // } } }
        int f(void)
        {
            char c = '{', d = '}', e = '\'', g = '\\';
            const char *t = "}}}" "/* {";
            /* } */
            // {
            return c + d;
        }
        int h(void) { return '"'; }
        """)
    assert [(f.name, f.start_line, f.end_line) for f in pf.functions] == [("f", 4, 11), ("h", 12, 12)]
    assert not pf.problems


def test_apostrophe_in_if0_and_asm_does_not_run_away() -> None:
    """A lone apostrophe (English in #if 0, asm) ends at the line end."""
    assert names("""
        #if 0
        this isn't C { at all
        #endif
        int f(void)
        {
            return 0;
        }
        """) == ["f"]


# --- preprocessor conditionals ---------------------------------------------------------------------


def test_ifdef_else_variants_with_conditions() -> None:
    """One definition per branch, each with the chain of conditions enclosing it."""
    pf = parse("""
        #ifdef CONFIG_SPARSEMEM_VMEMMAP
        static struct page * __meminit populate_section_memmap(unsigned long pfn)
        {
            return __populate_section_memmap(pfn);
        }
        #else
        struct page * __meminit populate_section_memmap(unsigned long pfn)
        {
            return kvmalloc_node(1);
        }
        #endif /* CONFIG_SPARSEMEM_VMEMMAP */
        """)
    defs = pf.find("populate_section_memmap")
    assert [d.conditions for d in defs] == [
        ("#ifdef CONFIG_SPARSEMEM_VMEMMAP",),
        ("#ifdef CONFIG_SPARSEMEM_VMEMMAP", "#else"),
    ]
    assert [(d.start_line, d.end_line) for d in defs] == [(2, 5), (7, 10)]
    assert defs[0].fingerprint != defs[1].fingerprint


def test_if_elif_else_nested_conditions() -> None:
    """#if/#elif/#else nested inside #ifndef: the full chain, outermost first."""
    pf = parse("""
        #ifndef CONFIG_X
        #if defined(CONFIG_A) && \\
            defined(CONFIG_B)   /* both */
        int f(void) { return 1; }
        #elif defined(CONFIG_C)
        int f(void) { return 2; }
        #else
        int f(void) { return 3; }
        #endif
        #endif
        int g(void) { return 0; }
        """)
    assert [d.conditions for d in pf.find("f")] == [
        ("#ifndef CONFIG_X", "#if defined(CONFIG_A) && defined(CONFIG_B)"),
        ("#ifndef CONFIG_X", "#if defined(CONFIG_A) && defined(CONFIG_B)", "#elif defined(CONFIG_C)"),
        (
            "#ifndef CONFIG_X",
            "#if defined(CONFIG_A) && defined(CONFIG_B)",
            "#elif defined(CONFIG_C)",
            "#else",
        ),
    ]
    assert pf.find("g")[0].conditions == ()


def test_include_guard_is_not_a_condition() -> None:
    """A header's include guard is left out of the chain; other conditions stay."""
    pf = parse("""
        /* SPDX */
        #ifndef _LINUX_MEMREMAP_H_
        #define _LINUX_MEMREMAP_H_
        #ifdef CONFIG_ZONE_DEVICE
        void *memremap_pages(struct dev_pagemap *pgmap, int nid);
        #else
        static inline void *memremap_pages(struct dev_pagemap *pgmap, int nid)
        {
            return ERR_PTR(-ENXIO);
        }
        #endif
        static inline int x(void) { return 0; }
        #endif /* _LINUX_MEMREMAP_H_ */
        """)
    assert [(f.name, f.conditions) for f in pf.functions] == [
        ("memremap_pages", ("#ifdef CONFIG_ZONE_DEVICE", "#else")),
        ("x", ()),
    ]


def test_conditionals_inside_body_with_unbalanced_branches() -> None:
    """`if (a) {` in one branch and `if (b) {` in the other close with one shared '}'."""
    pf = parse("""
        int f(int a, int b)
        {
        #ifdef CONFIG_A
            if (a) {
        #else
            if (b) {
        #endif
                a = b;
            }
        #if 0
            }}}
        #endif
            return a;
        }
        int g(void) { return 0; }
        """)
    assert [(f.name, f.start_line, f.end_line) for f in pf.functions] == [("f", 1, 14), ("g", 15, 15)]
    assert not pf.problems


def test_signature_split_by_ifdef() -> None:
    """Two signatures in two branches sharing one body: both definitions are found."""
    pf = parse("""
        #ifdef CONFIG_64BIT
        static int foo(long a)
        {
        #else
        static int foo(int a)
        {
        #endif
            return a;
        }
        int after(void) { return 0; }
        """)
    defs = pf.find("foo")
    assert [(d.conditions, d.start_line, d.end_line) for d in defs] == [
        (("#ifdef CONFIG_64BIT",), 2, 9),
        (("#ifdef CONFIG_64BIT", "#else"), 5, 9),
    ]
    assert [f.name for f in pf.functions][-1] == "after"
    assert not pf.unbalanced


def test_return_type_split_by_ifdef() -> None:
    """The name after an #ifdef-ed specifier is found once, starting at the earliest specifier."""
    pf = parse("""
        #ifdef CONFIG_X
        static
        #endif
        int foo(void)
        {
            return 0;
        }
        """)
    assert [(f.name, f.start_line) for f in pf.functions] == [("foo", 2)]


def test_function_in_if0_is_reported_with_its_condition() -> None:
    """Dead code under #if 0 is still a definition, and says so."""
    pf = parse("#if 0\nint dead(void) { return 0; }\n#endif\n")
    assert pf.functions[0].conditions == ("#if 0",)


def test_problems_are_reported() -> None:
    """A stray '}', an unclosed body and an unterminated #if are problems, not exceptions."""
    assert parse("int f(void) { return 0; }\n}\n").problems[0].kind == "unbalanced"
    pf = parse("int f(void)\n{\n\treturn 0;\n")
    assert pf.unbalanced and pf.problems[0].kind == "unclosed" and pf.functions == ()
    assert parse("#ifdef X\nint f(void) { return 0; }\n").problems[0].kind == "unterminated-if"
    assert parse("#endif\n").problems[0].kind == "stray-directive"
    pf = parse("#ifdef A\nint f(void) {\n#else\nint f(void) { }\n#endif\n}\n")
    assert "branch-depth" in {p.kind for p in pf.problems}


# --- normalisation and fingerprints ----------------------------------------------------------------


BASE = """
static int __meminit foo(unsigned long a, /* first */
                         unsigned long b)
{
    // add them
    return a + b;
}
"""


def test_reformatting_and_comments_keep_fingerprint() -> None:
    """Whitespace, line breaks and comments do not change the fingerprint."""
    other = "static  int __meminit\nfoo(unsigned long a, unsigned long b) {\n\t/* sum */ return a+b;\n}\n"
    a, b = one(BASE, "foo"), one(other, "foo")
    assert (
        a.normalized
        == b.normalized
        == ("static int __meminit foo ( unsigned long a , unsigned long b ) { return a + b ; }")
    )
    assert a.fingerprint == b.fingerprint == fingerprint(BASE) == fingerprint(other)
    assert re.fullmatch(r"[0-9a-f]{32}", a.fingerprint)


@pytest.mark.parametrize(
    "edit",
    [
        ("a + b", "a - b"),
        ("return", "return -"),
        ("__meminit", "__init"),
        ("unsigned long b", "unsigned int b"),
        ("a + b;", "a + b + 0;"),
    ],
)
def test_any_token_change_changes_fingerprint(edit: tuple[str, str]) -> None:
    """Changing, adding or removing a token changes the fingerprint."""
    assert one(BASE, "foo").fingerprint != one(BASE.replace(*edit), "foo").fingerprint


def test_string_contents_matter_and_directives_stay_on_own_lines() -> None:
    """String literals are kept verbatim; a directive inside a body is a line of its own."""
    a = one('int f(void)\n{\n#ifdef X\n\treturn g("a  b");\n#endif\n}\n', "f")
    assert a.normalized == 'int f ( void ) {\n#ifdef X\nreturn g ( "a  b" ) ;\n#endif\n}'
    assert normalize(a.text) == a.normalized
    b = one('int f(void)\n{\n#ifdef X\n\treturn g("a b");\n#endif\n}\n', "f")
    assert a.fingerprint != b.fingerprint


def test_combined_fingerprint_covers_conditions_and_order() -> None:
    """The combined fingerprint changes when any variant or its conditions change."""
    src = "#ifdef A\nint f(void) { return 1; }\n#else\nint f(void) { return 2; }\n#endif\n"
    base = combined_fingerprint(parse(src).find("f"))
    assert base == combined_fingerprint(parse(src.replace("{ r", "{\n r")).find("f"))
    assert base != combined_fingerprint(parse(src.replace("#ifdef A", "#ifdef B")).find("f"))
    assert base != combined_fingerprint(parse(src.replace("2;", "3;")).find("f"))


def test_unified_diff_names_file_lines() -> None:
    """The diff of two definitions carries the file's line numbers in its hunk headers."""
    old = parse_source("\n" * 10 + "int f(void)\n{\n\tint a = 1;\n\treturn a;\n}\n", "mm/x.c").functions[0]
    new = parse_source("\n" * 20 + "int f(void)\n{\n\tint a = 2;\n\treturn a;\n}\n", "mm/x.c").functions[0]
    diff = csource.unified_diff(old, new)
    assert diff.splitlines()[:3] == ["--- a/mm/x.c", "+++ b/mm/x.c", "@@ -11,5 +21,5 @@"]
    assert "-\tint a = 1;" in diff and "+\tint a = 2;" in diff
    assert csource.unified_diff(old, old) == ""


# --- patches ---------------------------------------------------------------------------------------

OLD_A = """\
#include <linux/mm.h>

static int helper(int x)
{
\treturn x + 1;
}

int api(int x)
{
\tint y = helper(x);

\treturn y;
}
"""

NEW_A = """\
#include <linux/mm.h>
#include <linux/memremap.h>

static int helper(int x)
{
\treturn x + 2;
}

int api(int x)
{
\tint y = helper(x);

\tpr_debug("api\\n");
\treturn y;
}
"""

OLD_B = "int b(void)\n{\n\tint unused;\n\treturn 0;\n}\n"
NEW_B = "int b(void)\n{\n\treturn 0;\n}\n"


def make_patch(files: Mapping[str, tuple[str | None, str | None]], tmp: Path) -> str:
    """A git-style unified diff of {path: (old text, new text)} made with diff(1)."""
    out = ["From 1234 Mon Sep 17 00:00:00 2001\nSubject: [PATCH] test\n\n---\n mm/a.c | 3 ++-\n"]
    for rel, (old, new) in files.items():
        a, b = tmp / "a" / rel, tmp / "b" / rel
        for p, text in ((a, old), (b, new)):
            p.parent.mkdir(parents=True, exist_ok=True)
            p.write_text(text or "")
        la = f"a/{rel}" if old is not None else "/dev/null"
        lb = f"b/{rel}" if new is not None else "/dev/null"
        diff = subprocess.run(
            ["diff", "-u", "--label", la, "--label", lb, str(a), str(b)],
            capture_output=True,
            text=True,
            check=False,
        ).stdout
        out.append(f"diff --git a/{rel} b/{rel}\n{diff}")
    out.append("-- \n2.39.0\n")
    return "".join(out)


@pytest.fixture
def patch(tmp_path: Path) -> str:
    """A patch over three C files and a Makefile."""
    files = {
        "mm/a.c": (OLD_A, NEW_A),
        "mm/b.c": (OLD_B, NEW_B),
        "mm/new.c": (None, "int n(void) { }\n"),
        "mm/Makefile": ("obj-y += a.o\n", "obj-y += a.o b.o\n"),
    }
    return make_patch(files, tmp_path)


def test_parse_patch_hunks(patch: str) -> None:
    """Files, paths and changed line numbers on both sides."""
    files = parse_patch(patch)
    assert [(f.old_path, f.new_path) for f in files] == [
        ("mm/a.c", "mm/a.c"),
        ("mm/b.c", "mm/b.c"),
        (None, "mm/new.c"),
        ("mm/Makefile", "mm/Makefile"),
    ]
    h = files[0].hunks
    assert len(h) == 1 and h[0].removed == (5,) and h[0].added == (2, 6, 13)
    assert files[1].hunks[0].removed == (3,) and files[1].hunks[0].added == ()
    assert files[1].hunks[0].new_deletions == (2,)
    assert [hk.index for f in files for hk in f.hunks] == [0, 1, 2, 3]


def test_map_patch_pre_and_post(patch: str) -> None:
    """Touched functions by path and name, on each side; hunks outside any function are listed."""
    pre_tree = {"mm/a.c": OLD_A, "mm/b.c": OLD_B}
    post_tree = {"mm/a.c": NEW_A, "mm/b.c": NEW_B, "mm/new.c": "int n(void) { }\n"}
    pre = map_patch(patch, pre_tree, "pre")
    post = map_patch(patch, post_tree, "post")
    assert pre.names() == [("mm/a.c", "api"), ("mm/a.c", "helper"), ("mm/b.c", "b")]
    assert post.names() == [("mm/a.c", "api"), ("mm/a.c", "helper"), ("mm/b.c", "b"), ("mm/new.c", "n")]
    hunk_a = post.hunks[0]
    assert hunk_a.outside_lines == (2,)  # the new #include
    assert [h.path for h in pre.outside] == [None, "mm/Makefile"]
    assert pre.outside[0].reason == "file absent on this side" and pre.outside[1].reason == "not a C file"
    api = next(t for t in post.functions if t.name == "api")
    assert api.hunks == (0,) and api.definition.start_line == 9


def test_map_patch_insertion_and_deletion_points() -> None:
    """A pure insertion inside a body touches it on the pre side; between functions it touches none."""
    src = "int f(void)\n{\n\treturn 0;\n}\n\nint g(void)\n{\n\treturn 1;\n}\n"
    inside = "--- a/x.c\n+++ b/x.c\n@@ -2,2 +2,3 @@\n {\n+\tbarrier();\n \treturn 0;\n"
    between = "--- a/x.c\n+++ b/x.c\n@@ -4,3 +4,4 @@\n }\n \n+/* g */\n int g(void)\n"
    assert map_patch(inside, {"x.c": src}).names() == [("x.c", "f")]
    m = map_patch(between, {"x.c": src})
    assert m.names() == [] and len(m.outside) == 1
    after_delete = "int f(void)\n{\n}\n"
    deletion = "--- a/x.c\n+++ b/x.c\n@@ -1,4 +1,3 @@\n int f(void)\n {\n-\treturn 0;\n }\n"
    assert map_patch(deletion, {"x.c": after_delete}, "post").names() == [("x.c", "f")]
    with pytest.raises(ValueError, match="side"):
        map_patch(deletion, {}, "middle")


def test_map_patch_reads_a_directory(tmp_path: Path, patch: str) -> None:
    """The tree may be a directory on disk."""
    (tmp_path / "tree" / "mm").mkdir(parents=True)
    (tmp_path / "tree" / "mm" / "a.c").write_text(OLD_A)
    m = map_patch(patch, tmp_path / "tree", "pre")
    assert m.names() == [("mm/a.c", "api"), ("mm/a.c", "helper")]


# --- real kernel trees -----------------------------------------------------------------------------

TREES = {v: kernel_source.cached_tree(v) for v in ("6.1", "6.12", "7.2")}
MODEL = Path(__file__).resolve().parents[2] / "model"
HARD_FILES = [
    "arch/powerpc/mm/init_64.c",
    "mm/sparse.c",
    "mm/sparse-vmemmap.c",
    "arch/arm64/mm/mmu.c",
    "arch/x86/mm/init_64.c",
    "mm/memory_hotplug.c",
    "mm/memremap.c",
    "include/linux/memremap.h",
    "mm/mm_init.c",
    "drivers/nvdimm/pfn_devs.c",
    "drivers/base/memory.c",
]


def tree(version: str) -> Path:
    """The unpacked tree, or skip."""
    root = TREES[version]
    if root is None:
        pytest.skip(f"no linux-source-{version} tree in the cache")
    return root


@pytest.mark.parametrize("version", list(TREES))
@pytest.mark.parametrize("rel", HARD_FILES)
def test_real_files_balance(version: str, rel: str) -> None:
    """The files known for #ifdef-ed variants parse with no problem and definitions that nest nowhere."""
    root = tree(version)
    if not (root / rel).is_file():
        pytest.skip("file not in this version")
    pf = csource.parse_file(rel, root)
    assert pf.problems == ()
    assert pf.functions
    spans = sorted((f.start_line, f.end_line) for f in pf.functions)
    for (_, e1), (s2, _) in itertools.pairwise(spans):
        assert e1 <= s2


def test_real_sparse_variants() -> None:
    """mm/sparse.c (6.1): populate_section_memmap per CONFIG_SPARSEMEM_VMEMMAP branch."""
    pf = csource.parse_file("mm/sparse.c", tree("6.1"))
    defs = pf.find("populate_section_memmap")
    assert len(defs) == 2
    assert defs[0].conditions[-1] == "#ifdef CONFIG_SPARSEMEM_VMEMMAP"
    assert defs[1].conditions[-2:] == ("#ifdef CONFIG_SPARSEMEM_VMEMMAP", "#else")
    for d in defs:
        lines = (tree("6.1") / "mm/sparse.c").read_text().splitlines()
        assert "populate_section_memmap(" in lines[d.name_line - 1]
        assert lines[d.end_line - 1].startswith("}")


def test_real_vmemmap_populate_x86_and_header() -> None:
    """vmemmap_populate in x86 init_64.c and memremap_pages in memremap.h as a stub under #else."""
    assert len(csource.parse_file("arch/x86/mm/init_64.c", tree("6.12")).find("vmemmap_populate")) == 1
    stub = csource.parse_file("include/linux/memremap.h", tree("6.12")).find("devm_memremap_pages")
    assert stub and stub[0].conditions and stub[0].conditions[-1] == "#else"


def model_pairs() -> list[tuple[str, str]]:
    """(path, function) pairs named by the model docstrings."""
    if not MODEL.is_dir():
        pytest.skip("model not present")
    pat = re.compile(r'"""([A-Za-z0-9_./-]+\.[ch]):([A-Za-z0-9_]+)\(\) as of')
    files = [*MODEL.glob("ops/*.py"), *MODEL.glob("arch/*.py")]
    return sorted({m for p in files for m in pat.findall(p.read_text())})


def test_model_functions_found_in_612() -> None:
    """Most model-named functions are found at their docstring path in 6.12; those files parse cleanly."""
    index = csource.TreeIndex(tree("6.12"))
    pairs = model_pairs()
    found = [p for p in pairs if index.find(*p)]
    assert len(found) >= 60
    parsed = [index.file(p) for p, _ in pairs]
    assert all(pf is None or not pf.problems for pf in parsed)


@pytest.mark.slow
def test_real_patch_map_matches_fingerprints(tmp_path: Path) -> None:
    """Diffing memory_hotplug.c 6.12→7.2: every function whose fingerprint changed is touched."""
    old, new = tree("6.12"), tree("7.2")
    rel = "mm/memory_hotplug.c"
    diff = subprocess.run(
        ["diff", "-u", "--label", f"a/{rel}", "--label", f"b/{rel}", str(old / rel), str(new / rel)],
        capture_output=True,
        text=True,
        check=False,
    ).stdout
    sides = (("pre", old), ("post", new))
    touched = {n for side, root in sides for _, n in map_patch(diff, root, side).names()}
    a, b = csource.parse_file(rel, old), csource.parse_file(rel, new)
    common = {f.name for f in a.functions} & {f.name for f in b.functions}
    changed = {n for n in common if [d.fingerprint for d in a.find(n)] != [d.fingerprint for d in b.find(n)]}
    assert changed and changed <= touched


@pytest.mark.slow
def test_whole_mm_dir_has_no_problems() -> None:
    """Every .c/.h file of mm/ and three arch mm/ dirs of 7.2 parses without a problem."""
    root = tree("7.2")
    bad = {}
    for d in ("mm", "arch/x86/mm", "arch/powerpc/mm", "arch/arm64/mm"):
        for p in (root / d).rglob("*.[ch]"):
            pf = csource.parse_file(p.relative_to(root), root)
            if pf.problems:
                bad[str(p)] = pf.problems
    assert bad == {}


def test_form_feed_is_not_a_line_break() -> None:
    """A ^L line (as in some kernel files) keeps line numbers in definitions, diffs and patches."""
    src = "int a(void) { return 0; }\n\f\nint f(void)\n{\n\treturn 1;\n}\n"
    f = parse_source(src, "x.c").find("f")[0]
    assert (f.start_line, f.end_line) == (3, 6)
    g = parse_source(src.replace("return 1", "return 2"), "x.c").find("f")[0]
    assert "@@ -3,4 +3,4 @@" in csource.unified_diff(f, g)
    patch = (
        "--- a/x.c\n+++ b/x.c\n@@ -1,5 +1,5 @@\n int a(void) { return 0; }\n \f\n int f(void)\n {\n"
        "-\treturn 1;\n+\treturn 2;\n"
    )
    assert map_patch(patch, {"x.c": src}).names() == [("x.c", "f")]
