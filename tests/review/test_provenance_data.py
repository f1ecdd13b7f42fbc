"""The recorded provenance: its format, and an entry for every kernel function of the model."""

from pathlib import Path

import pytest

from mhpcheck.review import provenance as pv


def test_every_model_function_has_an_entry_and_the_data_is_well_formed() -> None:
    data, problems = pv.load()
    assert problems == []
    assert pv.coverage_problems(data) == []
    assert len(data) == len(pv.model_functions()) > 80


def test_every_era_of_a_tree_is_recorded_from_it_or_says_why_not() -> None:
    data, _ = pv.load()
    for rec in data.values():
        for era, e in rec.eras.items():
            if e.fingerprint:
                assert pv.debian_series(e.source) == era.lstrip("v"), (rec.key, era, e.source)
            else:
                assert e.unrecorded, (rec.key, era)


def test_the_written_data_reads_back_the_same(tmp_path: Path) -> None:
    data, _ = pv.load()
    pv.write(data, tmp_path)
    again, problems = pv.load(tmp_path)
    assert problems == [] and again == data
    for p in sorted(tmp_path.rglob("*.toml")):
        assert p.read_text() == (pv.DATA_DIR / p.relative_to(tmp_path)).read_text(), p


def test_a_function_without_an_entry_and_a_stray_entry_are_refused() -> None:
    data, _ = pv.load()
    key = "ops.memory_hotplug:_add_pages"
    missing = {k: v for k, v in data.items() if k != key}
    assert any("__add_pages has no provenance entry" in p for p in pv.coverage_problems(missing))
    stray = {**data, "ops.memory_hotplug:_gone": data[key]}
    assert any("_gone: no such model function" in p for p in pv.coverage_problems(stray))


HEAD = '[f]\nkernel = "mm/a.c:f"\n'
ERA = '[f."v6.12"]\npath = "mm/a.c"\nname = "f"\n'
FP = 'fingerprint = "' + "a" * 32 + '"\n'


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        (HEAD + ERA.replace("v6.12", "v9.9") + 'unrecorded = "x"\n', "not an era"),
        (HEAD + ERA, "needs a fingerprint"),
        (HEAD + ERA + 'fingerprint = "12"\nsource = "s"\n', "32 hex"),
        (HEAD + ERA + FP, "needs its source"),
        (HEAD + ERA + 'unrecorded = "x"\ncolour = 1\n', "unknown field"),
        ("[f]\n" + ERA + 'unrecorded = "x"\n', "needs kernel"),
        (
            HEAD + ERA + 'unrecorded = "x"\n' + ERA.replace("v6.12", "v6.1") + 'unrecorded = "x"\n',
            "out of order",
        ),
    ],
)
def test_malformed_entries_are_named(tmp_path: Path, text: str, problem: str) -> None:
    (tmp_path / "ops").mkdir()
    (tmp_path / "ops" / "m.toml").write_text(text)
    _, problems = pv.load(tmp_path)
    assert any(problem in p for p in problems), problems


def test_kernel_versions_map_to_eras_in_one_place() -> None:
    assert pv.era_for_kernel("6.12") == "v6.12"
    assert pv.era_for_kernel("6.1") == "v6.1"
    assert pv.era_for_kernel("6.5") == "v6.1"
    assert pv.era_for_kernel("7.2") == "v7.2"
    assert pv.era_for_kernel("6.15") == "v6.14"
    assert pv.era_for_kernel("7.0") == "v6.19"
    with pytest.raises(pv.InputError):
        pv.era_for_kernel("3.10")


def test_the_build_configuration_decides_which_ifdef_variant_is_followed() -> None:
    assert pv.live(("#ifdef CONFIG_MEMORY_HOTPLUG",)) is True
    assert pv.live(("#ifndef CONFIG_SPARSEMEM_VMEMMAP", "#ifdef CONFIG_MEMORY_HOTPLUG")) is False
    assert pv.live(("#ifdef CONFIG_SPARSEMEM_VMEMMAP", "#else")) is False
    flat = ("#if defined(CONFIG_FLATMEM)", "#elif defined(CONFIG_SPARSEMEM_VMEMMAP)")
    assert pv.live(flat) is True
    assert pv.live((*flat, "#elif defined(CONFIG_SPARSEMEM)")) is False
    assert pv.live(("#ifdef CONFIG_SOMETHING_ELSE",)) is None


def test_abstraction_notes_are_read_from_the_model_source() -> None:
    fn = pv.model_function("mm/sparse-vmemmap.c:vmemmap_alloc_block_buf")
    assert len(fn.abstractions) == 2 and "fault injection" in fn.abstractions[0]
    with pytest.raises(pv.InputError, match="no such kernel function"):
        pv.model_function("mm/memory_hotplug.c:__add_pagez")


def test_a_function_whose_commit_is_a_patch_record_is_a_model_function() -> None:
    """A docstring naming a patch record instead of a mainline id ("(x86-vmemmap-free)") counts."""
    kernels = {f.kernel: f for f in pv.model_functions()}
    for name in (
        "mm/memory_hotplug.c:check_hotplug_memory_addressable",
        "mm/sparse-vmemmap.c:section_nr_vmemmap_pages",
        "arch/x86/mm/init_64.c:free_vmemmap_pages",
    ):
        assert name in kernels, name
    assert kernels["arch/x86/mm/init_64.c:free_vmemmap_pages"].since == "v7.2"
