"""Find C function definitions in Linux kernel sources, fingerprint them, and map patches onto them.

A small tokenizer plus a brace matcher that keeps a stack of preprocessor conditionals:
every branch of an ``#if``/``#elif``/``#else`` group is scanned from the brace state at
the ``#if``, so a function defined once per branch is found once per branch, with the chain
of conditions that encloses it (include guards left out).  No dependency outside the
standard library.
"""

from __future__ import annotations

import difflib
import hashlib
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import NamedTuple

__all__ = [
    "FileHunks",
    "FunctionDef",
    "Hunk",
    "HunkMapping",
    "MacroDef",
    "ParsedFile",
    "PatchMapping",
    "Problem",
    "Token",
    "TouchedFunction",
    "TreeIndex",
    "combined_fingerprint",
    "find_functions",
    "fingerprint",
    "map_patch",
    "normalize",
    "parse_file",
    "parse_patch",
    "parse_source",
    "read_source",
    "tokenize",
    "unified_diff",
]

_TOKEN_RE = re.compile(
    r"""
    (?P<nl>\n)
  | (?P<ws>(?:[ \t\f\v\r]|\\\r?\n)+)
  | (?P<comment>/\*.*?(?:\*/|\Z)|//(?:\\\r?\n|[^\n])*)
  | (?P<string>(?:u8|[LuU])?"(?:\\.|[^"\\\n])*")
  | (?P<char>(?:u8|[LuU])?'(?:\\.|[^'\\\n])*')
  | (?P<ident>[A-Za-z_$][A-Za-z0-9_$]*)
  | (?P<number>\.?[0-9](?:[eEpP][+-]|[A-Za-z0-9_.])*)
  | (?P<punct>\.\.\.|<<=|>>=|->|\+\+|--|<<|>>|&&|\|\||\#\#|[-+*/%&|^!=<>]=|[^\s\w])
  | (?P<other>.)
    """,
    re.S | re.X,
)

_NOT_A_NAME = frozenset(
    {
        "if",
        "else",
        "for",
        "while",
        "do",
        "switch",
        "case",
        "return",
        "goto",
        "sizeof",
        "typeof",
        "__typeof__",
        "__typeof",
        "_Generic",
        "_Alignof",
        "alignof",
        "__alignof__",
        "defined",
        "__attribute__",
        "__attribute",
        "asm",
        "__asm__",
        "__asm",
        "struct",
        "union",
        "enum",
        "__builtin_expect",
    }
)
_SPECIFIER_GROUPS = frozenset({"typeof", "__typeof__", "__typeof", "_Alignas", "alignas"})
_STORAGE = frozenset({"static", "inline", "extern", "__inline", "__inline__", "notrace", "asmlinkage"})
_UNBALANCED = frozenset({"unbalanced", "unclosed", "unterminated-if", "stray-directive"})
_CONDITIONALS = frozenset({"if", "ifdef", "ifndef", "elif", "elifdef", "elifndef", "else", "endif"})


class Token(NamedTuple):
    """One C token; a whole preprocessor directive is one token of kind "directive"."""

    kind: str
    text: str
    line: int
    start: int
    end: int
    end_line: int
    norm: str = ""
    keyword: str = ""


@dataclass(frozen=True)
class Problem:
    """Something the brace matcher could not reconcile, at a 1-based line."""

    line: int
    kind: str
    message: str


@dataclass(frozen=True)
class FunctionDef:
    """One definition of a C function: where it is, under which conditions, its text and fingerprint."""

    path: str
    name: str
    kind: str
    conditions: tuple[str, ...]
    start_line: int
    end_line: int
    name_line: int
    body_line: int
    text: str
    normalized: str
    signature: str

    @cached_property
    def fingerprint(self) -> str:
        """blake2b (16 bytes, hex) of the normalised definition."""
        return _digest(self.normalized)

    def contains(self, line: int) -> bool:
        """Whether 1-based `line` lies within this definition."""
        return self.start_line <= line <= self.end_line


@dataclass(frozen=True)
class MacroDef:
    """A function-like ``#define`` (kept apart: it is not a function definition)."""

    path: str
    name: str
    conditions: tuple[str, ...]
    start_line: int
    end_line: int
    text: str
    normalized: str

    @cached_property
    def fingerprint(self) -> str:
        """blake2b (16 bytes, hex) of the normalised macro."""
        return _digest(self.normalized)


@dataclass(frozen=True)
class ParsedFile:
    """Everything found in one source file."""

    path: str
    functions: tuple[FunctionDef, ...]
    macros: tuple[MacroDef, ...]
    problems: tuple[Problem, ...]

    def find(self, name: str) -> list[FunctionDef]:
        """All definitions of `name` in this file, in source order."""
        return [f for f in self.functions if f.name == name]

    def find_macro(self, name: str) -> list[MacroDef]:
        """All function-like macro definitions of `name` in this file."""
        return [m for m in self.macros if m.name == name]

    def at_line(self, line: int) -> list[FunctionDef]:
        """The definitions whose lines include `line`."""
        return [f for f in self.functions if f.contains(line)]

    @property
    def unbalanced(self) -> bool:
        """Whether braces or conditionals failed to balance somewhere in the file."""
        return any(p.kind in _UNBALANCED for p in self.problems)


def _digest(text: str) -> str:
    """blake2b-128 hex digest of UTF-8 `text`."""
    return hashlib.blake2b(text.encode("utf-8", "surrogateescape"), digest_size=16).hexdigest()


# ---------------------------------------------------------------------------------------------
# tokenizer


def tokenize(src: str) -> list[Token]:
    """Tokens of `src` without comments and whitespace; each preprocessor directive is one token."""
    toks: list[Token] = []
    line = 1
    at_bol = True
    spaced = False
    directive: list[tuple[str, bool]] | None = None
    d_start = d_line = 0
    for m in _TOKEN_RE.finditer(src):
        kind = m.lastgroup or "other"
        if kind == "ws" or kind == "comment":
            spaced = True
            text = m.group()
            if "\n" in text:
                line += text.count("\n")
            continue
        if kind == "nl":
            if directive is not None:
                toks.append(_directive_token(directive, d_line, d_start, m.start(), line))
                directive = None
            at_bol, line = True, line + 1
            continue
        text = m.group()
        breaks = text.count("\n") if kind in ("string", "char") else 0  # a literal may hold a continuation
        if directive is not None:
            directive.append((text, spaced))
        elif at_bol and text == "#":
            directive, d_start, d_line = [("#", False)], m.start(), line
        else:
            toks.append(Token(kind, text, line, m.start(), m.end(), line + breaks))
        spaced = at_bol = False
        line += breaks
    if directive is not None:
        toks.append(_directive_token(directive, d_line, d_start, len(src), line))
    return toks


def _directive_token(parts: list[tuple[str, bool]], line: int, start: int, end: int, end_line: int) -> Token:
    """One directive token: readable text, normalised text and keyword."""
    pretty = "#"
    for i, (text, spaced) in enumerate(parts[1:]):
        pretty += (" " if spaced and i else "") + text
    keyword = parts[1][0] if len(parts) > 1 else ""
    norm = "#" + " ".join(t for t, _ in parts[1:])
    return Token("directive", pretty, line, start, end, end_line, norm, keyword)


def normalize(text: str) -> str:
    """Comment-free token stream joined by single spaces; each directive stands on a line of its own."""
    return _normalize_tokens(tokenize(text))


def _normalize_tokens(toks: Iterable[Token]) -> str:
    """Join tokens by single spaces, directives on their own lines."""
    out: list[str] = []
    line: list[str] = []
    for t in toks:
        if t.kind == "directive":
            if line:
                out.append(" ".join(line))
                line = []
            out.append(t.norm)
        else:
            line.append(t.text)
    if line:
        out.append(" ".join(line))
    return "\n".join(out)


def fingerprint(text: str) -> str:
    """blake2b (16 bytes, hex) of normalize(text)."""
    return _digest(normalize(text))


def combined_fingerprint(defs: Iterable[FunctionDef | MacroDef]) -> str:
    """One fingerprint for all definitions of a name: their conditions and normalised text, in order."""
    parts = [f"{d.conditions!r}\n{d.normalized}" for d in defs]
    return _digest("\n\f\n".join(parts))


# ---------------------------------------------------------------------------------------------
# brace matcher with a preprocessor-conditional stack

_Item = tuple[Token, tuple[str, ...]]
_MAX_RUN = 512  # file-scope tokens kept before a '{': far more than any signature
_MAX_ALTS = 4  # token runs kept from the branches of #if groups at file scope
_BLOCK = Token("block", "{}", 0, 0, 0, 0)


@dataclass(eq=False)
class _Cand:
    """A definition being matched: its first token, name token, '{' and (once seen) its '}'."""

    name: str
    kind: str
    first: Token
    name_tok: Token
    open_tok: Token
    conditions: tuple[str, ...]
    close_tok: Token | None = None


@dataclass(eq=False)
class _Block:
    """An open brace at file scope: the candidates it closes (none for a struct or initializer)."""

    cands: tuple[_Cand, ...]


@dataclass
class _State:
    """Brace stack (a _Block at index 0, None deeper) and the pending file-scope token runs."""

    stack: list[_Block | None]
    alts: list[list[_Item]]

    def copy(self) -> _State:
        """A copy that shares the blocks and tokens but not the lists."""
        return _State(list(self.stack), [list(a) for a in self.alts])


@dataclass
class _Frame:
    """One open #if group: its branch chain, the state at the #if, and each finished branch's state."""

    chain: list[str]
    at_if: _State
    ends: list[_State] = field(default_factory=list)
    line: int = 0
    start: int = 0
    guard: bool = False
    if0: bool = False
    has_else: bool = False


class _Matcher:
    """Walks the tokens once, collecting definitions, macros and problems."""

    def __init__(self, toks: list[Token]) -> None:
        """Start at file scope with no conditions."""
        self.toks = toks
        self.state = _State([], [[]])
        self.frames: list[_Frame] = []
        self.conds: tuple[str, ...] = ()
        self.found: dict[int, _Cand] = {}
        self.macros: list[tuple[Token, str, tuple[str, ...]]] = []
        self.problems: list[Problem] = []
        self.guard_at = _include_guard(toks)
        self.dead_since = -1

    def run(self) -> None:
        """Match every token, then report what is left open."""
        for i, tok in enumerate(self.toks):
            if tok.kind == "directive":
                self.directive(tok, i)
            elif tok.text == "{" and tok.kind == "punct":
                self.open(tok)
            elif tok.text == "}" and tok.kind == "punct":
                self.close(tok)
            elif not self.state.stack:
                if tok.text == ";":
                    self.state.alts = [[]]
                else:
                    for alt in self.state.alts:
                        alt.append((tok, self.conds))
                        if len(alt) > _MAX_RUN:
                            del alt[: _MAX_RUN // 2]
        for fr in self.frames:
            self.problems.append(Problem(fr.line, "unterminated-if", f"{fr.chain[0]} has no #endif"))
        if self.state.stack:
            blk = self.state.stack[0]
            names = ", ".join(c.name for c in blk.cands) if blk else "a block"
            self.problems.append(
                Problem(
                    self.toks[-1].line,
                    "unclosed",
                    f"{len(self.state.stack)} brace(s) open at end of file ({names})",
                )
            )

    def open(self, tok: Token) -> None:
        """A '{': at file scope, try each pending token run as a function signature."""
        st = self.state
        if st.stack:
            st.stack.append(None)
            return
        cands: list[_Cand] = []
        for alt in st.alts:
            cand = _signature(alt, tok)
            if cand is not None and all(c.name_tok is not cand.name_tok for c in cands):
                cands.append(cand)
        st.stack.append(_Block(tuple(cands)))

    def close(self, tok: Token) -> None:
        """A '}': when it ends a file-scope block, close the definitions it holds."""
        st = self.state
        if not st.stack:
            if self.dead_since < 0:
                self.problems.append(Problem(tok.line, "unbalanced", "'}' at file scope"))
            return
        blk = st.stack.pop()
        if st.stack:
            return
        if blk is None or not blk.cands:
            for alt in st.alts:
                alt.append((_BLOCK, self.conds))
            return
        for c in blk.cands:
            if c.open_tok.start > self.dead_since:  # inside #if 0, close only what opened there
                self.finish(c, tok)
        st.alts = [[]]

    def finish(self, cand: _Cand, tok: Token) -> None:
        """Record that `cand` ends at '}' `tok`; one definition per name token, the widest span wins."""
        if cand.close_tok is None or cand.close_tok.start < tok.start:
            cand.close_tok = tok
        old = self.found.setdefault(cand.name_tok.start, cand)
        if old is not cand:
            old.close_tok = max(old.close_tok or tok, cand.close_tok, key=lambda t: t.start)
            if cand.first.start < old.first.start:
                old.first = cand.first

    def directive(self, tok: Token, index: int) -> None:
        """Handle #if/#elif/#else/#endif and function-like #define; ignore the rest."""
        kw = tok.keyword
        if kw == "define":
            self.macro(tok)
            return
        if kw not in _CONDITIONALS:
            return
        if kw in ("if", "ifdef", "ifndef"):
            guard, if0 = index == self.guard_at, bool(re.fullmatch(r"#if\s*\(?\s*0\s*\)?", tok.text))
            st = self.state.copy()
            self.frames.append(_Frame([tok.text], st, line=tok.line, start=tok.start, guard=guard, if0=if0))
        elif not self.frames:
            self.problems.append(Problem(tok.line, "stray-directive", f"{tok.text} without #if"))
            return
        elif kw == "endif":
            self.endif(self.frames.pop(), tok)
        else:
            fr = self.frames[-1]
            fr.ends.append(self.state)
            self.state = fr.at_if.copy()
            fr.chain.append("#else" if kw == "else" else tok.text)
            fr.has_else = fr.has_else or kw == "else"
        self.conds = tuple(c for fr in self.frames if not fr.guard for c in fr.chain)
        self.dead_since = max((fr.start for fr in self.frames if fr.if0 and len(fr.chain) == 1), default=-1)

    def endif(self, fr: _Frame, tok: Token) -> None:
        """Close an #if group: continue from its first live branch, merging the others into it."""
        ends = [*fr.ends, self.state]
        if not fr.has_else:
            ends.append(fr.at_if)
        lead = 1 if fr.if0 and len(ends) > 1 else 0
        result = ends[lead].copy()
        depths = {len(e.stack) for e in ends[: len(ends) - (0 if fr.has_else else 1)]}
        if len(depths) > 1:
            self.problems.append(
                Problem(
                    fr.line,
                    "branch-depth",
                    f"branches of {fr.chain[0]} (line {fr.line}) leave braces at depths "
                    f"{sorted(depths)}; following {'#else' if lead else 'the first'}",
                )
            )
        for other in ends:
            if other is ends[lead] or len(other.stack) != len(result.stack):
                continue
            _merge(result, other)
        self.state = result

    def macro(self, tok: Token) -> None:
        """Record a function-like macro (name followed at once by '(')."""
        m = re.match(r"#\s*define\s+([A-Za-z_]\w*)\(", tok.text)
        if m:
            self.macros.append((tok, m.group(1), self.conds))


def _merge(into: _State, other: _State) -> None:
    """Merge a same-depth branch state: its open definitions close with `into`'s braces; union the runs."""
    if into.stack and other.stack:
        a, b = into.stack[0], other.stack[0]
        if a is not b and b is not None and b.cands:
            extra = tuple(c for c in b.cands if a is None or c not in a.cands)
            into.stack[0] = _Block((a.cands if a else ()) + extra)
    if not into.stack:
        seen = {tuple(id(t) for t, _ in alt) for alt in into.alts}
        for alt in other.alts:
            key = tuple(id(t) for t, _ in alt)
            if key not in seen and len(into.alts) < _MAX_ALTS:
                seen.add(key)
                into.alts.append(list(alt))


def _include_guard(toks: list[Token]) -> int:
    """Index of the include guard's #ifndef (first token, then #define, #endif last), else -1."""
    if len(toks) < 3 or toks[0].kind != "directive" or toks[1].kind != "directive":
        return -1
    m = re.fullmatch(r"#ifndef\s+(\w+)|#if\s+!\s*defined\s*\(?\s*(\w+)\s*\)?", toks[0].text)
    name = m and (m.group(1) or m.group(2))
    if not name or not re.match(rf"#define\s+{name}\b", toks[1].text):
        return -1
    depth = 0
    for i, t in enumerate(toks):
        if t.kind != "directive":
            continue
        if t.keyword in ("if", "ifdef", "ifndef"):
            depth += 1
        elif t.keyword == "endif":
            depth -= 1
            if depth == 0:
                return 0 if i == len(toks) - 1 else -1
    return -1


# ---------------------------------------------------------------------------------------------
# signatures


def _group_start(items: list[_Item], close: int) -> int:
    """Index of the '(' matching the ')' at `close`, or -1."""
    depth = 0
    for i in range(close, -1, -1):
        t = items[i][0].text
        if t == ")":
            depth += 1
        elif t == "(":
            depth -= 1
            if depth == 0:
                return i
    return -1


def _is_ident(tok: Token) -> bool:
    """Whether `tok` is an identifier."""
    return tok.kind == "ident"


def _signature(items: list[_Item], brace: Token) -> _Cand | None:
    """The function whose signature ends the pending file-scope run `items` before '{', if any."""
    i = len(items) - 1
    while i >= 0:
        tok = items[i][0]
        if _is_ident(tok) and tok.text.startswith("__") and i > 0 and items[i - 1][0].text == ")":
            i -= 1  # bare annotation after the parameter list
            continue
        if tok.text != ")":
            return None
        j = _group_start(items, i)
        if j <= 0:
            return None
        before = items[j - 1][0]
        if _is_ident(before) and before.text.startswith("__") and j > 1 and items[j - 2][0].text == ")":
            i = j - 2  # __acquires(x), __attribute__((...)) after the parameter list
            continue
        if _is_ident(before):
            if before.text in _NOT_A_NAME:
                return None
            return _make_cand(items, j - 1, j - 1, brace)
        if before.text == ")":
            return _pointer_returning(items, j - 1, brace)
        return None
    return None


def _pointer_returning(items: list[_Item], close: int, brace: Token) -> _Cand | None:
    """`type (*name(params))(params) {`: the name inside the declarator group ending at `close`."""
    k = _group_start(items, close)
    if k < 0:
        return None
    for n in range(k + 1, close - 1):
        tok = items[n][0]
        if _is_ident(tok) and items[n + 1][0].text == "(" and tok.text not in _NOT_A_NAME:
            return _make_cand(items, n, k, brace)
    return None


def _make_cand(items: list[_Item], name_at: int, decl_at: int, brace: Token) -> _Cand | None:
    """A candidate named by items[name_at], its specifiers ending just before items[decl_at]."""
    first = _specifiers_start(items, decl_at)
    name_tok, conds = items[name_at]
    prefix = [t for t, _ in items[first:decl_at]]
    macro = not prefix or (
        re.fullmatch(r"[A-Z][A-Z0-9_]*", name_tok.text) is not None
        and all(t.text in _STORAGE or t.text.startswith("__") for t in prefix)
    )
    if any(t is _BLOCK for t, _ in items[first:]):
        return None
    name = name_tok.text
    if macro:
        arg = []
        for t, _ in items[name_at + 2 :]:
            if t.text in (",", ")"):
                break
            arg.append(t.text)
        name = f"{name_tok.text}({''.join(arg)})"
    return _Cand(name, "macro_defined" if macro else "function", items[first][0], name_tok, brace, conds)


def _specifiers_start(items: list[_Item], end: int) -> int:
    """Walk back from `end` over identifiers, '*' and attribute groups: where the definition starts."""
    i = end - 1
    while i >= 0:
        tok = items[i][0]
        if _is_ident(tok) or tok.text == "*":
            i -= 1
            continue
        if tok.text == ")":
            j = _group_start(items, i)
            if j > 0 and _is_ident(items[j - 1][0]):
                word = items[j - 1][0].text
                if word.startswith("_") or word in _SPECIFIER_GROUPS:
                    i = j - 2
                    continue
        break
    return i + 1


# ---------------------------------------------------------------------------------------------
# files


def read_source(path: str | Path) -> str:
    """A source file as text (UTF-8, undecodable bytes kept as surrogates so offsets round-trip)."""
    return Path(path).read_bytes().decode("utf-8", "surrogateescape")


def parse_source(text: str, path: str = "<string>") -> ParsedFile:
    """Every function definition, function-like macro and matching problem in C source `text`."""
    toks = tokenize(text)
    matcher = _Matcher(toks)
    matcher.run()
    line_starts = _line_starts(text)
    index = {t.start: n for n, t in enumerate(toks)}
    funcs = []
    for cand in sorted(matcher.found.values(), key=lambda c: (c.first.start, c.name_tok.start)):
        assert cand.close_tok is not None
        lo, hi = index[cand.first.start], index[cand.close_tok.start]
        body = toks[lo : hi + 1]
        sig = [t for t in toks[lo : index[cand.open_tok.start]] if t.kind != "directive"]
        funcs.append(
            FunctionDef(
                path=path,
                name=cand.name,
                kind=cand.kind,
                conditions=cand.conditions,
                start_line=cand.first.line,
                end_line=cand.close_tok.line,
                name_line=cand.name_tok.line,
                body_line=cand.open_tok.line,
                text=_lines(text, line_starts, cand.first.line, cand.close_tok.line),
                normalized=_normalize_tokens(body),
                signature=" ".join(t.text for t in sig),
            )
        )
    macros = [
        MacroDef(
            path,
            name,
            conds,
            tok.line,
            tok.end_line,
            _lines(text, line_starts, tok.line, tok.end_line),
            tok.norm,
        )
        for tok, name, conds in matcher.macros
    ]
    return ParsedFile(path, tuple(funcs), tuple(macros), tuple(matcher.problems))


def _line_starts(text: str) -> list[int]:
    """Offset of the start of each line (index 0 is line 1)."""
    starts = [0]
    starts.extend(m.end() for m in re.finditer("\n", text))
    return starts


def _lines(text: str, starts: list[int], first: int, last: int) -> str:
    """Lines first..last (1-based, inclusive) of `text`, with their newlines."""
    end = starts[last] if last < len(starts) else len(text)
    return text[starts[first - 1] : end]


def parse_file(path: str | Path, root: str | Path | None = None) -> ParsedFile:
    """parse_source of a file; its ParsedFile.path is relative to `root` when given."""
    p = Path(root, path) if root is not None else Path(path)
    name = str(path) if root is not None else str(p)
    return parse_source(read_source(p), name)


def find_functions(source: ParsedFile | str | Path, name: str) -> list[FunctionDef]:
    """All definitions of function `name` in a parsed file or a file path."""
    parsed = source if isinstance(source, ParsedFile) else parse_file(source)
    return parsed.find(name)


class TreeIndex:
    """A kernel tree whose files are parsed once, on first use."""

    def __init__(self, root: str | Path) -> None:
        """Index the tree at `root`."""
        self.root = Path(root)
        self._files: dict[str, ParsedFile | None] = {}

    def file(self, relpath: str) -> ParsedFile | None:
        """The parsed file at `relpath`, or None when the tree has no such file."""
        if relpath not in self._files:
            p = self.root / relpath
            self._files[relpath] = parse_file(relpath, self.root) if p.is_file() else None
        return self._files[relpath]

    def find(self, relpath: str, name: str) -> list[FunctionDef]:
        """All definitions of `name` in `relpath` (empty when the file is missing)."""
        parsed = self.file(relpath)
        return parsed.find(name) if parsed else []


# ---------------------------------------------------------------------------------------------
# diffs


def unified_diff(
    old: FunctionDef | MacroDef,
    new: FunctionDef | MacroDef,
    old_label: str | None = None,
    new_label: str | None = None,
    context: int = 3,
) -> str:
    """Unified diff of two definitions' original text, hunk headers numbered by file line."""
    a, b = _split_lines(old.text), _split_lines(new.text)
    out = []
    labels = (old_label or f"a/{old.path}", new_label or f"b/{new.path}")
    for line in difflib.unified_diff(a, b, *labels, n=context):
        if line.startswith("@@"):
            line = _shift_hunk_header(line, old.start_line - 1, new.start_line - 1)
        out.append(line)
    return "".join(out)


def _split_lines(text: str) -> list[str]:
    """Lines of `text` split at '\\n' only (a form feed is not a line break here), each ending in '\\n'."""
    return [line + "\n" for line in text.removesuffix("\n").split("\n")] if text else []


_HUNK_RE = re.compile(r"@@ -(\d+)(?:,(\d+))? \+(\d+)(?:,(\d+))? @@(.*)")


def _shift_hunk_header(line: str, da: int, db: int) -> str:
    """Renumber a difflib hunk header from definition-relative to file lines."""
    m = _HUNK_RE.match(line)
    if not m:
        return line
    a0, alen, b0, blen = int(m[1]), m[2], int(m[3]), m[4]
    a = f"{a0 + da}" + (f",{alen}" if alen is not None else "")
    b = f"{b0 + db}" + (f",{blen}" if blen is not None else "")
    return f"@@ -{a} +{b} @@{m[5]}\n"


@dataclass(frozen=True)
class Hunk:
    """One hunk of a unified diff, with the changed line numbers on each side."""

    old_path: str | None
    new_path: str | None
    index: int
    header: str
    old_start: int
    old_count: int
    new_start: int
    new_count: int
    removed: tuple[int, ...]
    added: tuple[int, ...]
    old_insertions: tuple[int, ...]
    new_deletions: tuple[int, ...]


@dataclass(frozen=True)
class FileHunks:
    """A file's part of a patch: its paths (None for /dev/null) and hunks."""

    old_path: str | None
    new_path: str | None
    hunks: tuple[Hunk, ...]


def _strip_prefix(path: str) -> str | None:
    """A patch header path without its a/ or b/ prefix, tab suffix, or None for /dev/null."""
    path = path.split("\t")[0].strip()
    if path == "/dev/null":
        return None
    if path.startswith('"') and path.endswith('"'):
        path = path[1:-1]
    return path[2:] if path[:2] in ("a/", "b/") else path


def parse_patch(patch: str) -> list[FileHunks]:
    """Files and hunks of a unified (git) diff; mail headers, diffstat and trailers are skipped."""
    lines = [line.removesuffix("\r") for line in patch.split("\n")]
    files: list[FileHunks] = []
    i = 0
    counter = 0
    while i < len(lines):
        if lines[i].startswith("--- ") and i + 1 < len(lines) and lines[i + 1].startswith("+++ "):
            old, new = _strip_prefix(lines[i][4:]), _strip_prefix(lines[i + 1][4:])
            i += 2
            hunks = []
            while i < len(lines) and lines[i].startswith("@@"):
                hunk, i = _read_hunk(lines, i, old, new, counter)
                counter += 1
                hunks.append(hunk)
            files.append(FileHunks(old, new, tuple(hunks)))
        else:
            i += 1
    return files


def _read_hunk(lines: list[str], i: int, old: str | None, new: str | None, index: int) -> tuple[Hunk, int]:
    """Read the hunk whose header is lines[i]; return it and the index after it."""
    m = _HUNK_RE.match(lines[i])
    if not m:
        raise ValueError(f"bad hunk header: {lines[i]!r}")
    o0, on = int(m[1]), int(m[2]) if m[2] is not None else 1
    n0, nn = int(m[3]), int(m[4]) if m[4] is not None else 1
    o, n = (o0 if on else o0 + 1), (n0 if nn else n0 + 1)
    removed, added, ins, dels = [], [], [], []
    left_o, left_n = on, nn
    prev = " "
    i += 1
    while i < len(lines) and (left_o > 0 or left_n > 0):
        s = lines[i]
        tag = s[:1] or " "
        if tag == "\\":
            i += 1
            continue
        if tag == "-":
            removed.append(o)
            if prev != "-":
                dels.append(n - 1)
            o, left_o = o + 1, left_o - 1
        elif tag == "+":
            added.append(n)
            if prev != "+":
                ins.append(o - 1)
            n, left_n = n + 1, left_n - 1
        elif tag == " ":
            o, n, left_o, left_n = o + 1, n + 1, left_o - 1, left_n - 1
        else:
            break
        prev = tag
        i += 1
    while i < len(lines) and lines[i].startswith("\\"):
        i += 1
    hunk = Hunk(
        old, new, index, m.group(0), o0, on, n0, nn, tuple(removed), tuple(added), tuple(ins), tuple(dels)
    )
    return hunk, i


@dataclass(frozen=True)
class TouchedFunction:
    """A definition that a patch touches, and the indices of the hunks that touch it."""

    path: str
    definition: FunctionDef
    hunks: tuple[int, ...]

    @property
    def name(self) -> str:
        """The function's name."""
        return self.definition.name


@dataclass(frozen=True)
class HunkMapping:
    """One hunk on the chosen side: the definitions it touches, and its changed lines outside any."""

    hunk: Hunk
    path: str | None
    functions: tuple[FunctionDef, ...]
    outside_lines: tuple[int, ...]
    reason: str = ""


@dataclass(frozen=True)
class PatchMapping:
    """A patch mapped onto the pre-image or post-image tree."""

    side: str
    hunks: tuple[HunkMapping, ...]
    functions: tuple[TouchedFunction, ...]

    @property
    def outside(self) -> list[HunkMapping]:
        """Hunks that touch no function definition at all."""
        return [h for h in self.hunks if not h.functions]

    def names(self) -> list[tuple[str, str]]:
        """Sorted distinct (path, function name) pairs touched."""
        return sorted({(t.path, t.name) for t in self.functions})


TreeSource = str | Path | Mapping[str, str] | Callable[[str], "str | None"]


def _reader(tree: TreeSource) -> Callable[[str], str | None]:
    """A function giving a file's text by tree-relative path, or None if absent."""
    if callable(tree):
        return tree
    if isinstance(tree, Mapping):
        return tree.get
    root = Path(tree)

    def read(rel: str) -> str | None:
        p = root / rel
        return read_source(p) if p.is_file() else None

    return read


def map_patch(patch: str, tree: TreeSource, side: str = "pre") -> PatchMapping:
    """Map a unified diff onto function definitions of the pre-image ("pre") or post-image ("post") tree."""
    if side not in ("pre", "post"):
        raise ValueError("side must be 'pre' or 'post'")
    read = _reader(tree)
    parsed: dict[str, ParsedFile | None] = {}
    mapped: list[HunkMapping] = []
    touched: dict[tuple[str, int], list[int]] = {}
    defs: dict[tuple[str, int], FunctionDef] = {}
    for fh in parse_patch(patch):
        path = fh.old_path if side == "pre" else fh.new_path
        pf = _parsed_for(path, read, parsed)
        for h in fh.hunks:
            hm = _map_hunk(h, path, pf, side)
            mapped.append(hm)
            for d in hm.functions:
                key = (d.path, d.start_line)
                defs[key] = d
                touched.setdefault(key, []).append(h.index)
    funcs = tuple(TouchedFunction(k[0], defs[k], tuple(v)) for k, v in sorted(touched.items()))
    return PatchMapping(side, tuple(mapped), funcs)


def _parsed_for(
    path: str | None, read: Callable[[str], str | None], cache: dict[str, ParsedFile | None]
) -> ParsedFile | None:
    """The parsed C file at `path` (cached), or None when absent or not C."""
    if path is None or not path.endswith((".c", ".h")):
        return None
    if path not in cache:
        text = read(path)
        cache[path] = parse_source(text, path) if text is not None else None
    return cache[path]


def _map_hunk(h: Hunk, path: str | None, pf: ParsedFile | None, side: str) -> HunkMapping:
    """The definitions in `pf` that hunk `h` changes, on `side`."""
    lines = h.removed if side == "pre" else h.added
    gaps = h.old_insertions if side == "pre" else h.new_deletions
    if pf is None:
        why = "file absent on this side" if path is None or path.endswith((".c", ".h")) else "not a C file"
        return HunkMapping(h, path, (), lines, why)
    hit: dict[int, FunctionDef] = {}
    outside = []
    for ln in lines:
        inside = pf.at_line(ln)
        for d in inside:
            hit[d.start_line] = d
        if not inside:
            outside.append(ln)
    for k in gaps:
        for d in pf.functions:
            if d.start_line <= k < d.end_line:
                hit[d.start_line] = d
    funcs = tuple(hit[k] for k in sorted(hit))
    return HunkMapping(h, path, funcs, tuple(outside))
