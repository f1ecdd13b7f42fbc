"""Provenance against a tree: same, changed with its diff, moved, missing; recording follows a move."""

from dataclasses import replace
from pathlib import Path

import pytest

from mhpcheck.review import csource, kernel_source
from mhpcheck.review import provenance as pv

ADD = """\
int __ref __add_pages(int nid, unsigned long pfn)
{
	/* validate */
	return check(pfn);
}
"""
SECTION = """\
#ifdef CONFIG_SPARSEMEM_VMEMMAP
static struct page * __meminit populate_section_memmap(unsigned long pfn)
{
	return __populate_section_memmap(pfn);
}
#else
static struct page * __meminit populate_section_memmap(unsigned long pfn)
{
	return kvmalloc_node(pfn);
}
#endif
"""


def make_tree(root: Path, files: dict[str, str], release: str = "6.12.9") -> Path:
    v, p, s = release.split(".")
    root.mkdir(parents=True, exist_ok=True)
    (root / "Makefile").write_text(f"VERSION = {v}\nPATCHLEVEL = {p}\nSUBLEVEL = {s}\nEXTRAVERSION =\n")
    (root / "mm").mkdir(exist_ok=True)
    for rel, text in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text)
    return root


FNS = (
    pv.ModelFunction(
        "ops", "memory_hotplug", "_add_pages", "mm/memory_hotplug.c", "__add_pages", "v4.5", "", ()
    ),
    pv.ModelFunction(
        "ops",
        "sparse",
        "populate_section_memmap",
        "mm/sparse.c",
        "populate_section_memmap",
        "v5.9",
        "",
        ("the memmap is one block",),
    ),
)


def recorded(tmp_path: Path) -> pv.Data:
    root = make_tree(tmp_path / "base", {"mm/memory_hotplug.c": ADD, "mm/sparse.c": SECTION})
    seed = {
        f.key: pv.FunctionRecord(f.key, f.kernel, {"v6.12": pv.unrecorded(f, "v6.12", "not yet")})
        for f in FNS
    }
    data, notes = pv.record(root, "Debian linux-source-6.12 6.12.9-1", "6.12.9", "v6.12", seed, FNS)
    assert notes == []
    return data


def test_recording_takes_the_live_ifdef_variant_and_notes_its_conditions(tmp_path: Path) -> None:
    data = recorded(tmp_path)
    e = data["ops.sparse:populate_section_memmap"].eras["v6.12"]
    assert e.conditions == ("#ifdef CONFIG_SPARSEMEM_VMEMMAP",)
    live = csource.parse_source(SECTION, "mm/sparse.c").find("populate_section_memmap")[0]
    assert e.fingerprint == live.fingerprint and e.source.startswith("Debian linux-source-6.12")
    assert data["ops.memory_hotplug:_add_pages"].eras["v6.12"].conditions == ()


def test_the_same_tree_is_the_same_and_a_comment_edit_changes_nothing(tmp_path: Path) -> None:
    data = recorded(tmp_path)
    edited = ADD.replace("/* validate */", "/* check the altmap */\n")
    root = make_tree(tmp_path / "new", {"mm/memory_hotplug.c": edited, "mm/sparse.c": SECTION})
    out = pv.compare(root, "v6.12", data, functions=FNS)
    assert [c.status for c in out] == [pv.SAME, pv.SAME]


def test_a_changed_function_comes_with_its_diff_and_the_models_abstractions(tmp_path: Path) -> None:
    data = recorded(tmp_path)
    changed = SECTION.replace("__populate_section_memmap(pfn)", "__populate_section_memmap(pfn, NULL)")
    root = make_tree(tmp_path / "new", {"mm/memory_hotplug.c": ADD, "mm/sparse.c": changed})
    trees = {"6.12": tmp_path / "base"}
    out = pv.compare(root, "v6.12", data, pv.recorded_text_from(trees.get), FNS)
    add, section = out
    assert add.status == pv.SAME
    assert section.status == pv.CHANGED and section.departs == ("the memmap is one block",)
    assert "-\treturn __populate_section_memmap(pfn);" in section.diff
    assert "+\treturn __populate_section_memmap(pfn, NULL);" in section.diff
    # without the recorded tree there is no diff, and the report says why
    bare = pv.compare(root, "v6.12", data, functions=FNS)[1]
    assert bare.status == pv.CHANGED and bare.diff == "" and "not at hand" in bare.note


def test_a_moved_function_is_followed_and_a_removed_one_is_missing(tmp_path: Path) -> None:
    data = recorded(tmp_path)
    root = make_tree(
        tmp_path / "new", {"mm/memory_hotplug.c": "int other(void)\n{\n}\n", "mm/sparse-vmemmap.c": SECTION}
    )
    add, section = pv.compare(root, "v6.12", data, functions=FNS)
    assert add.status == pv.MISSING
    assert section.status == pv.SAME and section.moved and section.path == "mm/sparse-vmemmap.c"
    # recording the next era follows the move, and says so
    later, notes = pv.record(root, "Debian linux-source-7.2 7.2.1-1", "7.2.1", "v6.12", data, FNS)
    assert any("moved from mm/sparse.c to mm/sparse-vmemmap.c" in n for n in notes)
    assert later["ops.sparse:populate_section_memmap"].eras["v6.12"].path == "mm/sparse-vmemmap.c"
    assert "not defined in 7.2.1" in later["ops.memory_hotplug:_add_pages"].eras["v6.12"].unrecorded
    # a reason written for that absence is kept when the same tree is read again
    why = "not defined in 7.2.1: inline in its caller at this version"
    add = later["ops.memory_hotplug:_add_pages"]
    edited = {
        **later,
        add.key: pv.FunctionRecord(
            add.key, add.kernel, {"v6.12": replace(add.eras["v6.12"], unrecorded=why)}
        ),
    }
    again, _ = pv.record(root, "Debian linux-source-7.2 7.2.1-1", "7.2.1", "v6.12", edited, FNS)
    assert again["ops.memory_hotplug:_add_pages"].eras["v6.12"].unrecorded == why


def test_an_unrecorded_era_compares_nothing(tmp_path: Path) -> None:
    root = make_tree(tmp_path / "t", {"mm/memory_hotplug.c": ADD})
    data = {
        FNS[0].key: pv.FunctionRecord(
            FNS[0].key, FNS[0].kernel, {"v4.5": pv.unrecorded(FNS[0], "v4.5", "no tree")}
        )
    }
    out = pv.compare(root, "v4.5", data, functions=FNS)
    assert [c.status for c in out] == [pv.UNRECORDED]
    assert pv.Report("t", "6.12.9", "v4.5", tuple(out)).exit_code == 3


def test_a_folder_that_is_not_a_kernel_tree_is_bad_input(tmp_path: Path) -> None:
    with pytest.raises(kernel_source.InputError, match="not a kernel tree"):
        kernel_source.local_tree(tmp_path)
    with pytest.raises(kernel_source.InputError, match="no such folder"):
        kernel_source.local_tree(tmp_path / "absent")
    root = make_tree(tmp_path / "t", {})
    assert kernel_source.local_tree(root).release == "6.12.9"
    assert kernel_source.local_tree(root).series == "6.12"
    with pytest.raises(kernel_source.InputError, match=r"MAJOR\.MINOR"):
        kernel_source.check_series("6.x")


def test_a_cached_tree_is_found_only_once_complete(tmp_path: Path) -> None:
    make_tree(tmp_path / "6.12" / "linux-source-6.12", {})
    assert kernel_source.cached_tree("6.12", tmp_path) is None
    (tmp_path / "6.12" / ".complete").touch()
    assert kernel_source.cached_tree("6.12", tmp_path) == tmp_path / "6.12" / "linux-source-6.12"


def _fn(attr: str, since: str) -> pv.ModelFunction:
    return pv.ModelFunction("ops", "m", attr, "mm/m.c", attr, since, "", ())


def test_an_era_recorded_the_first_time_takes_the_era_befores_functions_and_new_ones() -> None:
    """The era before is the newest one with entries: a function it does not call (gone by then)
    is not taken over from an older era; a function with no entry serves from its docstring's
    version on."""
    old, kept, new, later = _fn("old", "v5.6"), _fn("kept", "v4.5"), _fn("new", "v6.6"), _fn("later", "v7.2")
    no = pv.no_tree
    data = {
        old.key: pv.FunctionRecord(old.key, old.kernel, {"v5.9": pv.unrecorded(old, "v5.9", no("v5.9"))}),
        kept.key: pv.FunctionRecord(
            kept.key,
            kept.kernel,
            {e: pv.unrecorded(kept, e, no(e)) for e in ("v5.9", "v6.12")},
        ),
    }
    fns = (old, kept, new, later)
    assert [f.attr for f, _, _ in pv.serving("v6.14", data, fns)] == ["kept", "new"]
    assert [f.attr for f, _, _ in pv.serving("v7.2", data, fns)] == ["kept", "new", "later"]
    # an era already recorded keeps its functions, and gains only the new ones
    assert [f.attr for f, _, _ in pv.serving("v5.9", data, fns)] == ["old", "kept"]
    assert [f.attr for f, _, _ in pv.serving("v6.12", data, fns)] == ["kept", "new"]
    out = pv.record_without_tree("v6.14", no("v6.14"), data, fns)
    assert list(out[kept.key].eras) == ["v5.9", "v6.12", "v6.14"]
    assert list(out[new.key].eras) == ["v6.14"] and "no v6.14 tree" in out[new.key].eras["v6.14"].unrecorded
    assert list(out[old.key].eras) == ["v5.9"] and later.key not in out


def test_recording_an_era_from_a_tree_gives_a_new_function_its_entry(tmp_path: Path) -> None:
    data = recorded(tmp_path)
    new = _fn("fresh", "v6.6")
    root = make_tree(tmp_path / "t72", {"mm/m.c": "int fresh(void)\n{\n\treturn 0;\n}\n"}, "7.2.13")
    out, _ = pv.record(root, "Debian linux-source-7.2 7.2.13-1", "7.2.13", "v7.2", data, (*FNS, new))
    assert out[new.key].eras["v7.2"].fingerprint
    assert set(out[FNS[0].key].eras) == {"v6.12", "v7.2"}
    with pytest.raises(pv.InputError, match="recorded from a tree"):
        pv.record_without_tree("v7.2", "no tree", out, (*FNS, new))


def test_a_function_the_record_misses_at_an_era_is_added_from_its_nearest_entry() -> None:
    fn, other = _fn("page_zone", "v4.3"), _fn("other", "v4.3")
    moved = pv.EraRecord("mm/n.c", "page_zone", unrecorded="x")
    data = {
        fn.key: pv.FunctionRecord(
            fn.key, fn.kernel, {"v4.13": moved, "v5.9": pv.unrecorded(fn, "v5.9", "x")}
        ),
        other.key: pv.FunctionRecord(other.key, other.kernel, {"v5.3": pv.unrecorded(other, "v5.3", "x")}),
    }
    fns = (fn, other)
    assert [f.attr for f, _, _ in pv.serving("v5.3", data, fns)] == ["other"]
    [(_, _, base), _] = pv.serving("v5.3", data, fns, also=[fn.key])
    assert base is moved
    out = pv.record_without_tree("v5.3", pv.no_tree("v5.3"), data, fns, also=[fn.key])
    assert list(out[fn.key].eras) == ["v4.13", "v5.3", "v5.9"]
    assert out[fn.key].eras["v5.3"].path == "mm/n.c"
    with pytest.raises(pv.InputError, match="no such model function"):
        pv.serving("v5.3", data, fns, also=["ops.m:nothing"])
