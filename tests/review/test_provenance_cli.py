"""`mhpcheck provenance` from the command line: exit codes, one-line errors, JSON, a real tree."""

import json
from pathlib import Path

import pytest

from mhpcheck.cli import provenance as provenance_cli
from mhpcheck.review import kernel_source


def test_bad_input_is_one_line_and_exit_2(tmp_path: Path, cli_run) -> None:
    for args, says in [
        (("--kernel-tree", str(tmp_path)), "not a kernel tree"),
        (("--kernel", "six"), "MAJOR.MINOR"),
        (("--kernel", "6.12", "--variant", "v9.9"), "not an era"),
        ((), "give one of --kernel-tree DIR or --kernel VERSION"),
    ]:
        code, out, err = cli_run("provenance", *args)
        assert (code, out) == (2, ""), args
        assert says in err and err.count("\n") == 1, err


def test_a_tree_without_the_models_functions_exits_1(tmp_path: Path, cli_run, monkeypatch) -> None:
    # the recorded C is not fetched for the diffs (a download): a change is reported without one
    monkeypatch.setattr(provenance_cli, "recorded_trees", lambda cache_dir: lambda series: None)
    (tmp_path / "mm").mkdir()
    (tmp_path / "Makefile").write_text("VERSION = 6\nPATCHLEVEL = 12\nSUBLEVEL = 0\n")
    (tmp_path / "mm" / "memory_hotplug.c").write_text("int __add_pages(int nid)\n{\n\treturn 0;\n}\n")
    code, out, _ = cli_run("provenance", "--kernel-tree", str(tmp_path), "--format", "json")
    doc = json.loads(out)
    assert code == 1 and doc["era"] == "v6.12" and doc["exit_code"] == 1
    by_kernel = {f["kernel"]: f for f in doc["functions"]}
    assert by_kernel["mm/memory_hotplug.c:__add_pages"]["status"] == "changed"
    assert doc["counts"]["missing"] > 50


def test_provenance_of_debians_612_matches_its_record(cli_run) -> None:
    if kernel_source.cached_tree("6.12") is None:
        pytest.skip("Debian's linux-source-6.12 is not in the cache")
    code, out, _ = cli_run("provenance", "--kernel", "6.12", "--summary")
    assert code == 0, out
    assert " 0 changed, 0 missing" in out.splitlines()[-1]


def test_provenance_of_debians_72_matches_its_own_era(cli_run) -> None:
    """7.2 is checked against v7.2, recorded from it; against v6.12 its moves show as changes."""
    if kernel_source.cached_tree("7.2") is None or kernel_source.cached_tree("6.12") is None:
        pytest.skip("Debian's linux-source-7.2 and -6.12 are not both in the cache")
    code, out, _ = cli_run("provenance", "--kernel", "7.2", "--summary")
    assert code == 0, out
    assert out.splitlines()[0].startswith("the model at v7.2 against Debian linux-source-7.2")
    assert " 0 changed, 0 missing" in out.splitlines()[-1]
    code, out, _ = cli_run("provenance", "--kernel", "7.2", "--variant", "v6.12", "--summary")
    assert code == 1
    assert "missing     arch/x86/mm/init_64.c:free_hugepage_table" in out
