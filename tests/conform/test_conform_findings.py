"""The findings on real kernels: every recorded finding accounted for, and the recorded reproducer
boots read back into the same results without QEMU."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest

from mhpcheck.conform import findings as fnd
from mhpcheck.conform import initramfs, prefix, qemu, runner, setup
from mhpcheck.core.exitcodes import ExitCode
from mhpcheck.properties.findings import FINDINGS

SAMPLES = Path(__file__).parent / "samples" / "findings"
PMD, SHARED = "arm64-subsection-pmd-memmap", "arm64-subsection-shared-vmemmap-page"


def lines(arch: str, series: str, finding: str) -> list[str]:
    return (SAMPLES / f"{arch}-{series}-{finding}.log").read_text().splitlines()


def judged(arch: str, series: str, finding: str):
    rep = fnd.reproducer(finding)
    assert rep is not None
    return fnd.judge(rep, lines(arch, series, finding), None)


def test_every_recorded_finding_has_a_reproducer_or_a_reason_why_none():
    reproduced = {r.finding for r in fnd.REPRODUCERS}
    assert not reproduced & set(fnd.NOT_SHOWN)
    assert reproduced | set(fnd.NOT_SHOWN) == {f.id for f in FINDINGS}
    assert all(len(why) > 40 for why in fnd.NOT_SHOWN.values())


@pytest.mark.parametrize("series", ["6.12", "7.2"])
def test_16k_kernels_lose_the_survivors_struct_pages_when_the_neighbour_goes(series):
    outcome, note, evidence, layout = judged("arm64-16k", series, SHARED)
    assert outcome is fnd.Outcome.REPRODUCED, note
    first = evidence[0]
    assert first.step == "touch-after"
    # the vmemmap page of 0xc1000000-0xc13fffff: pfn 0x30400 (16 KiB pages) x 64 bytes
    assert "Unable to handle kernel paging request at virtual address fffff03fc0c10008" in first.line
    assert any("pc : dax_set_mapping" in e.line for e in evidence)
    assert (layout["a_start"], layout["b_start"]) == ("0xc0000000", "0xc1200000")


@pytest.mark.parametrize("series", ["6.12", "7.2"])
def test_stock_4k_kernels_carry_the_fix_and_run_clean(series):
    outcome, note, evidence, layout = judged("arm64-4k", series, PMD)
    assert outcome is fnd.Outcome.NOT_REPRODUCED, note
    assert evidence == []
    # both namespaces inside the 128 MiB section at 0xc0000000
    assert (layout["a_start"], layout["b_start"]) == ("0xc0000000", "0xc2000000")
    assert int(layout["b_start"], 16) + int(layout["b_size"]) <= 0xC8000000


def test_the_pre_fix_build_oopses_and_its_control_does_not():
    outcome, note, evidence, _ = judged("arm64-4k", "6.12-prefix", PMD)
    assert outcome is fnd.Outcome.REPRODUCED, note
    assert evidence[0].step == "touch-after"
    # a kernel without CONFIG_PRINTK_TIME: its lines have no "[ seconds]" before them; the struct
    # page of pfn 0xc0200, dax0.0's first data page, in the PMD block the removal took
    assert evidence[0].line == "Unable to handle kernel paging request at virtual address fffffdffc3008008"
    assert any(e.line.startswith("pc : dax_set_mapping") for e in evidence)
    text = "\n".join(lines("arm64-4k", "6.12-prefix", PMD))
    # the vmemmap before and after: the 2 MiB block of the section at 0xc0000000 is gone
    assert "0xfffffdffc1000000-0xfffffdffc3200000          34M PMD       RW" in text
    assert "0xfffffdffc1000000-0xfffffdffc3000000          32M PMD       RW" in text
    outcome, note, evidence, _ = judged("arm64-4k", "6.12-fixed", PMD)
    assert outcome is fnd.Outcome.NOT_REPRODUCED, note


REP = fnd.REPRODUCERS[0]
HEAD = ["@@SCENARIO x", "@@STEP x setup", "@@STEP x create-a"]


def test_a_fault_before_any_removal_tells_nothing():
    out = fnd.judge(REP, [*HEAD, "[ 1.0] BUG: unable to handle page fault"], None)
    assert out[0] is fnd.Outcome.FAILED
    assert "before any removal" in out[1]


def test_a_warn_after_the_removal_is_the_finding_showing():
    out = fnd.judge(
        REP, [*HEAD, "@@STEP x remove", "[ 2.0] WARNING: CPU: 0 at mm/memremap.c:153", "@@END x"], None
    )
    assert out[0] is fnd.Outcome.REPRODUCED


def test_a_failing_command_or_a_boot_that_stops_is_a_failure():
    assert fnd.judge(REP, [*HEAD, "@@ERROR x create-a: ndctl exited 1"], None)[0] is fnd.Outcome.FAILED
    out = fnd.judge(REP, [*HEAD, "@@STEP x remove"], "no @@DONE within 300 s")
    assert out[:2] == (fnd.Outcome.FAILED, "no @@DONE within 300 s")


def test_fix_state_from_the_release_the_changelog_or_the_build():
    assert fnd.fix_state(REP, "7.2", "")[0] is True
    assert fnd.fix_state(REP, "6.12", "  * [arm64] " + fnd.ARM64_VMEMMAP_FIX.subject)[0] is True
    assert fnd.fix_state(REP, "6.12", "")[0] is False
    assert fnd.fix_state(REP, "6.12-prefix", fnd.ARM64_VMEMMAP_FIX.subject)[0] is False
    assert fnd.fix_state(REP, "6.12-fixed", "")[0] is True
    assert fnd.fix_state(fnd.reproducer(SHARED), "7.2", "") == (False, "no upstream fix is known")


@pytest.mark.parametrize("finding", [PMD, SHARED])
def test_the_model_breaks_the_findings_property_on_the_reproducers_own_layout(finding):
    rep = fnd.reproducer(finding)
    era, broken = fnd.model_says(rep, "6.12")
    assert era == "v6.12"
    assert broken == ["present_sections_have_memmap"]
    assert fnd.expectation(bool(broken), has_fix=False) is fnd.Outcome.REPRODUCED
    assert fnd.expectation(bool(broken), has_fix=True) is fnd.Outcome.NOT_REPRODUCED


@pytest.fixture
def recorded(monkeypatch, tmp_path):
    """Every boot answered from the recorded consoles; Debian's 6.12 changelog lists the fix."""
    monkeypatch.setattr(setup, "ensure_packages", lambda install, log, kinds=(): None)
    monkeypatch.setattr(setup, "arm64_userland", lambda cache, log: tmp_path / "userland")
    monkeypatch.setattr(initramfs, "initramfs", lambda k, cache, userland=None: tmp_path / "initrd")

    def kernel(series, cache, log, arch="x86_64"):
        root = tmp_path / f"{arch}@{series}"
        doc = root / "usr" / "share" / "doc" / "linux-image"
        doc.mkdir(parents=True, exist_ok=True)
        text = f"  * [arm64] {fnd.ARM64_VMEMMAP_FIX.subject}\n" if series == "6.12" else ""
        (doc / "changelog.gz").write_bytes(gzip.compress(text.encode()))
        (root / "config").write_text("CONFIG_ZONE_DEVICE=y\n" if series != "6.1" else "")
        return setup.Kernel(series, f"{series}-{arch}", root, arch)

    monkeypatch.setattr(setup, "kernel", kernel)
    monkeypatch.setattr(prefix, "cached", lambda cache: {})
    built = {s: kernel(s, None, None, "arm64-4k") for s in (prefix.PREFIX, prefix.FIXED)}
    monkeypatch.setattr(prefix, "build", lambda cache, install, log: built)

    def boot(b: qemu.Boot, timeout: float, echo=None) -> qemu.Transcript:
        arch, series = b.vmlinuz.parents[1].name.split("@")  # <root>/boot/vmlinuz-<release>
        name = b.scenarios[0].removeprefix("finding-")
        return qemu.Transcript(lines=lines(arch, series, name), wall_s=1.0)

    monkeypatch.setattr(qemu, "run", boot)


def test_a_recorded_findings_run_reports_each_kernel_and_keeps_the_console(cli_run, recorded, tmp_path):
    report = tmp_path / "f.json"
    code, out, err = cli_run(
        "conform", "--findings", "--no-build", "--cache-dir", str(tmp_path), "-o", str(report)
    )
    assert code == ExitCode.HOLDS, err
    doc = json.loads(report.read_text())
    assert doc["format"] == "mhpcheck-conform-findings"
    by = {(r["finding"], r["kernel"]): r for r in doc["rows"]}
    assert by[SHARED, "7.2"]["result"] == "reproduced"
    assert by[SHARED, "7.2"]["as_expected"] is True
    assert any("fffff03fc0c10008" in c["line"] for c in by[SHARED, "7.2"]["console"])
    assert by[PMD, "6.12"]["result"] == "not reproduced"
    assert "backported" in by[PMD, "6.12"]["fix"]
    assert by[PMD, "6.12-prefix"]["result"] == "cannot be shown"
    assert by[PMD, "6.12-prefix"]["note"].startswith("every packaged kernel has the fix")
    assert "CONFIG_ZONE_DEVICE" in by[PMD, "6.1"]["note"]
    assert {r["finding"] for r in doc["rows"]} == {f.id for f in FINDINGS}
    assert "reproduced (as expected)" in out
    assert "Unable to handle kernel paging request" in out


def test_with_the_pre_fix_build_the_pmd_finding_shows_there_and_only_there(cli_run, recorded, tmp_path):
    report = tmp_path / "f.json"
    code, out, err = cli_run(
        "conform", "--findings", "--arch", "arm64-4k", "--cache-dir", str(tmp_path), "-o", str(report)
    )
    assert code == ExitCode.HOLDS, err
    results = {r["kernel"]: (r["result"], r["as_expected"]) for r in json.loads(report.read_text())["rows"]}
    assert results == {
        "6.12-prefix": ("reproduced", True),
        "6.12-fixed": ("not reproduced", True),
        "6.1": ("cannot be shown", True),
        "6.12": ("not reproduced", True),
        "7.2": ("not reproduced", True),
    }
    assert "fffffdffc3008008" in out


def test_without_a_pre_fix_kernel_the_pmd_finding_cannot_be_shown_rather_than_failing(
    cli_run, recorded, tmp_path
):
    code, out, _ = cli_run(
        "conform", "--findings", "--no-build", "--arch", "arm64-4k", "--cache-dir", str(tmp_path)
    )
    assert code == ExitCode.HOLDS
    assert "every packaged kernel has the fix" in out
    assert "reproduced" not in out.replace("not reproduced", "")


def test_a_finding_shown_where_its_fix_is_in_is_exit_1(cli_run, recorded, monkeypatch, tmp_path):
    monkeypatch.setattr(fnd, "fix_state", lambda rep, series, changelog: (True, "pretend fixed"))
    code, out, _ = cli_run(
        "conform", "--findings", "--no-build", "--arch", "arm64-16k", "--cache-dir", str(tmp_path)
    )
    assert code == ExitCode.VIOLATED
    assert "UNEXPECTED: expected not reproduced" in out


def test_the_findings_run_with_no_guest_possible_exits_3(cli_run, monkeypatch, tmp_path):
    def missing(install, log, kinds=()):
        raise setup.Unavailable("qemu-system-aarch64 not found; apt-get install qemu-system-arm")

    monkeypatch.setattr(setup, "ensure_packages", missing)
    report = tmp_path / "f.json"
    code, _, err = cli_run(
        "conform", "--findings", "--no-install", "--cache-dir", str(tmp_path), "-o", str(report)
    )
    assert code == ExitCode.INCONCLUSIVE
    assert "qemu-system-aarch64" in err
    assert json.loads(report.read_text())["exit_code"] == 3


@pytest.mark.conformance
def test_real_16k_kernel_shows_the_shared_vmemmap_page_finding():
    """Boots Debian's 7.2 16K kernel (downloads it on first use): the finding shows."""
    result = runner.run_findings(setup.default_cache_dir(), True, False, print, only=[SHARED])
    if result.unavailable:
        pytest.skip(result.unavailable)
    rows = {r.kernel: r for r in result.rows}
    assert rows["7.2"].outcome is fnd.Outcome.REPRODUCED
    assert result.exit_code() is ExitCode.HOLDS
