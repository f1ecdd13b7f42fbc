"""Hostile input: files and names made to break mhpcheck or the machine it runs on.

Every case asserts the exit code, one line on stderr with no traceback, and that nothing was
replaced or left behind.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[2]
TRACE = REPO / "traces" / "map_offset_first_section_only--x86_64--v4.5-pre-altmap-hotplug.trace.json"


def refused(result: tuple[int, str, str], says: str = "", code: int = 2) -> str:
    """The one line a refusal printed on stderr, after checking the exit code and the line."""
    got, out, err = result
    lines = err.splitlines()
    assert got == code, (got, out, err)
    assert "Traceback" not in err + out, err
    assert len(lines) == 1, err
    assert len(lines[0]) <= 520, lines[0][:600]
    assert says in lines[0], lines[0]
    left = [p for p in Path.cwd().rglob(".*") if ".mhpcheck-" in p.name]
    assert not left, f"temporary files left behind: {left}"
    return lines[0]


def trace_doc() -> dict[str, Any]:
    return json.loads(TRACE.read_text())  # type: ignore[no-any-return]


def write(path: Path, text: str) -> Path:
    path.write_text(text)
    return path


# -- traces ---------------------------------------------------------------------------------


def test_a_million_digit_integer_in_a_trace(tmp_path: Path, cli_run) -> None:  # type: ignore[no-untyped-def]
    text = TRACE.read_text().replace('"ret": 0', '"ret": ' + "9" * 10**6, 1)
    f = write(tmp_path / "t.trace.json", text)
    line = refused(cli_run("replay", str(f)), "digits")
    assert str(f) in line and "states/1/#meta/ret" in line


@pytest.mark.parametrize(
    "text",
    [
        "[" * 100_000,
        "[" * 100_000 + "]" * 100_000,
        '{"a":' * 50_000 + "1" + "}" * 50_000,
    ],
    ids=["open-arrays", "closed-arrays", "objects"],
)
def test_deeply_nested_json_alone(tmp_path: Path, cli_run, text: str) -> None:  # type: ignore[no-untyped-def]
    f = write(tmp_path / "t.trace.json", text)
    refused(cli_run("replay", str(f)), str(f))
    refused(cli_run("show", str(f)), str(f))


def test_deeply_nested_json_inside_a_valid_trace(tmp_path: Path, cli_run) -> None:  # type: ignore[no-untyped-def]
    doc = trace_doc()
    doc["#meta"]["config"] = {"x": "@@"}
    text = json.dumps(doc).replace('"@@"', "[" * 100_000 + "]" * 100_000)
    f = write(tmp_path / "t.trace.json", text)
    refused(cli_run("replay", str(f)), str(f))
    doc["#meta"]["config"] = {"x": "@@"}
    text = json.dumps(doc).replace('"@@"', '{"a":' * 50_000 + "1" + "}" * 50_000)
    f = write(tmp_path / "t.trace.json", text)
    refused(cli_run("replay", str(f)), "#meta/config/x/a/a")


def test_a_million_digit_hex_value_gives_a_short_line(tmp_path: Path, cli_run) -> None:  # type: ignore[no-untyped-def]
    text = TRACE.read_text().replace('"0x140000"', '"0x' + "f" * 10**6 + '"', 1)
    f = write(tmp_path / "t.trace.json", text)
    line = refused(cli_run("replay", str(f)), str(f))
    assert len(line) < 400


def test_trace_bounds_are_checked(tmp_path: Path, cli_run) -> None:  # type: ignore[no-untyped-def]
    for value in ("two", 10**9, True, None):
        doc = trace_doc()
        doc["#meta"]["bounds"]["sections"] = value
        f = write(tmp_path / "t.trace.json", json.dumps(doc))
        refused(cli_run("replay", str(f)), "#meta/bounds/sections")


def test_a_fifo_as_a_trace_is_refused_not_waited_on(tmp_path: Path, cli_run) -> None:  # type: ignore[no-untyped-def]
    fifo = tmp_path / "t.trace.json"
    os.mkfifo(fifo)
    t0 = time.monotonic()
    refused(cli_run("replay", str(fifo)), "a FIFO, not a regular file")
    refused(cli_run("show", str(fifo)), "a FIFO")
    assert time.monotonic() - t0 < 30


@pytest.mark.parametrize("device", ["/dev/zero", "/dev/urandom", "/dev/null"])
def test_a_device_as_a_trace(cli_run, device: str) -> None:  # type: ignore[no-untyped-def]
    refused(cli_run("replay", device), "a character device, not a regular file")


def test_a_trace_over_the_size_cap_is_not_read(tmp_path: Path, cli_run) -> None:  # type: ignore[no-untyped-def]
    big = tmp_path / "big.trace.json"
    with big.open("wb") as f:
        f.truncate(1 << 40)  # a sparse terabyte: reading it would take the machine
    refused(cli_run("replay", str(big)), "a trace is at most 32.0 MiB")


def test_a_folder_as_a_trace(tmp_path: Path, cli_run) -> None:  # type: ignore[no-untyped-def]
    refused(cli_run("replay", str(tmp_path)), "is a directory")


# -- configuration files --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("arch = " + "[" * 100_000 + "]" * 100_000, "nested deeper than"),
        ("depth = " + "9" * 5_000, "line 1, key depth: an integer of 5,000 digits"),
        ("depth = " + "9" * 4_000, "depth: 9999"),
        ("arch = " + "[" * 70 + "'x86_64'" + "]" * 70, "at arch[0][0]"),
        ("[[" * 3 + "a]]", ""),
    ],
    ids=["nested-arrays", "5000-digits", "4000-digits", "70-deep", "bad-table"],
)
def test_hostile_config(tmp_path: Path, cli_run, text: str, says: str) -> None:  # type: ignore[no-untyped-def]
    f = write(tmp_path / "mhpcheck.toml", text + "\n")
    line = refused(cli_run("--config", str(f), "check"), says)
    assert str(f) in line


@pytest.mark.parametrize("device", ["/dev/urandom", "/dev/zero", "/dev/stdin"])
def test_config_from_a_device_is_refused_before_it_is_read(cli_run, device: str) -> None:  # type: ignore[no-untyped-def]
    if device == "/dev/stdin" and not Path(device).exists():
        pytest.skip("no /dev/stdin here")
    refused(cli_run("--config", device, "check"), "not a regular file")


def test_config_fifo_and_oversized_config(tmp_path: Path, cli_run) -> None:  # type: ignore[no-untyped-def]
    fifo = tmp_path / "fifo.toml"
    os.mkfifo(fifo)
    refused(cli_run("--config", str(fifo), "check"), "a FIFO")
    big = write(tmp_path / "big.toml", "# padding\n" * 200_000)
    refused(cli_run("--config", str(big), "check"), "a configuration is at most 1.0 MiB")


def test_an_odd_pyproject_in_a_parent_is_not_our_input(tmp_path: Path, monkeypatch, cli_run) -> None:  # type: ignore[no-untyped-def]
    write(tmp_path / "pyproject.toml", "x = " + "[" * 100_000)
    sub = tmp_path / "sub"
    sub.mkdir()
    monkeypatch.chdir(sub)
    code, out, _ = cli_run("list", "archs")
    assert code == 0 and "x86_64" in out


# -- variant names --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("variant", "says"),
    [
        ("eras+alloc-not-reset", "'eras' takes no mutant: name an era, e.g. v4.5+alloc-not-reset"),
        ("v4.5+", "variant 'v4.5+' names no mutant after '+'"),
        ("v4.5@foo", "a patched kernel is checked with --patch FILE"),
        ("v4.5@", "a patched kernel is checked with --patch FILE"),
    ],
)
def test_variant_names_that_are_no_variant(cli_run, variant: str, says: str) -> None:  # type: ignore[no-untyped-def]
    refused(cli_run("check", "--arch", "x86_64", "--variant", variant), says)
    refused(cli_run("graph", "--variant", variant), says)
    refused(cli_run("diff", "--variant", "v4.5", "--variant", variant), says)


def test_variant_names_in_a_config(tmp_path: Path, cli_run) -> None:  # type: ignore[no-untyped-def]
    f = write(tmp_path / "mhpcheck.toml", "variant = 'v4.5@foo'\n")
    refused(cli_run("--config", str(f), "check"), "variant: variant 'v4.5@foo'")


@pytest.mark.parametrize("command", ["replay", "show"])
def test_eras_is_not_one_variant_for_replay_and_show(cli_run, command: str) -> None:  # type: ignore[no-untyped-def]
    refused(cli_run(command, str(TRACE), "--variant", "eras"), "'eras' is not one variant here")


def test_eras_is_not_one_cell_for_graph(cli_run) -> None:  # type: ignore[no-untyped-def]
    refused(cli_run("graph", "--variant", "eras"), "name one era, not 'eras'")


def test_eras_for_diff_needs_a_patch(cli_run) -> None:  # type: ignore[no-untyped-def]
    # diff --variant eras --patch FILE compares every era with its patched self, by design
    refused(cli_run("diff", "--variant", "eras"), "give two --variant, or one --variant (or --variant eras)")
    refused(cli_run("diff", "--variant", "eras", "--variant", "v4.5"), "give two --variant")


def test_a_trace_naming_an_empty_mutant(tmp_path: Path, cli_run) -> None:  # type: ignore[no-untyped-def]
    doc = trace_doc()
    doc["#meta"]["variant"] = "v4.5+"
    f = write(tmp_path / "t.trace.json", json.dumps(doc))
    refused(cli_run("replay", str(f)), "unknown variant 'v4.5+'")


# -- files written ----------------------------------------------------------------------------

CHECK = ["check", "--arch", "x86_64", "--variant", "v4.3", "--depth", "1", "--no-cache"]


def test_output_to_a_full_device_is_written_to_never_replaced(cli_run) -> None:  # type: ignore[no-untyped-def]
    before = os.stat("/dev/full")
    code, _, err = cli_run(*CHECK, "--format", "json", "--output", "/dev/full")
    assert code == 2 and "Traceback" not in err
    assert err.splitlines()[-1] == "mhpcheck: error: /dev/full: cannot write: No space left on device"
    after = os.stat("/dev/full")
    assert (after.st_ino, after.st_mode, after.st_rdev) == (before.st_ino, before.st_mode, before.st_rdev)


def test_output_to_dev_null_leaves_the_device(cli_run) -> None:  # type: ignore[no-untyped-def]
    before = os.stat("/dev/null")
    code, _, _ = cli_run(*CHECK, "--format", "json", "--output", "/dev/null")
    assert code == 0 or code == 1
    assert os.stat("/dev/null").st_ino == before.st_ino and Path("/dev/null").is_char_device()


@pytest.mark.parametrize("name", ["-", "/dev/stdout", "link"])
def test_output_to_stdout_by_any_name(tmp_path: Path, cli_run, name: str) -> None:  # type: ignore[no-untyped-def]
    link = tmp_path / "link"
    link.symlink_to("/proc/self/fd/1")
    stdout_link = os.readlink("/dev/stdout") if Path("/dev/stdout").is_symlink() else None
    code, out, _ = cli_run(*CHECK, "--format", "json", "--output", str(link) if name == "link" else name)
    assert code in (0, 1)
    assert json.loads(out)["schema"] == "mhpcheck-report"  # the report alone, as JSON, on stdout
    assert os.readlink(link) == "/proc/self/fd/1"
    if stdout_link is not None:
        assert os.readlink("/dev/stdout") == stdout_link
    assert not (tmp_path / "-").exists()


def test_output_to_a_fifo_is_written_to(tmp_path: Path, cli_run) -> None:  # type: ignore[no-untyped-def]
    import threading

    fifo = tmp_path / "report.fifo"
    os.mkfifo(fifo)
    got: list[bytes] = []
    reader = threading.Thread(target=lambda: got.append(fifo.read_bytes()), daemon=True)
    reader.start()
    code, _, _ = cli_run(*CHECK, "--format", "json", "--output", str(fifo))
    reader.join(30)
    assert code in (0, 1) and json.loads(got[0])["schema"] == "mhpcheck-report"
    assert fifo.is_fifo()


def test_output_through_a_symlink_replaces_the_file_it_names(tmp_path: Path, cli_run) -> None:  # type: ignore[no-untyped-def]
    real = tmp_path / "real.json"
    real.write_text("old")
    real.chmod(0o640)
    link = tmp_path / "link.json"
    link.symlink_to(real)
    code, _, _ = cli_run(*CHECK, "--format", "json", "--output", str(link))
    assert code in (0, 1)
    assert link.is_symlink() and json.loads(real.read_text())["schema"] == "mhpcheck-report"
    assert real.stat().st_mode & 0o777 == 0o640
    assert sorted(p.name for p in tmp_path.iterdir() if p.name != "mhpcheck-out") == [
        "link.json",
        "real.json",
    ]


def test_output_to_a_socket_is_refused(tmp_path: Path, cli_run) -> None:  # type: ignore[no-untyped-def]
    import socket

    path = tmp_path / "s"
    with socket.socket(socket.AF_UNIX) as s:
        s.bind(str(path))
        refused(cli_run(*CHECK, "--output", str(path)), "a socket")
    assert path.is_socket()


def test_dangling_symlinks_are_refused_before_any_work(tmp_path: Path, cli_run) -> None:  # type: ignore[no-untyped-def]
    dangling = tmp_path / "gone"
    dangling.symlink_to(tmp_path / "nowhere")
    refused(cli_run(*CHECK, "--output", str(dangling)), "a dangling symbolic link")
    refused(cli_run(*CHECK, "--trace-dir", str(dangling)), "a dangling symbolic link")
    assert dangling.is_symlink() and not (tmp_path / "nowhere").exists()


def test_a_read_only_trace_dir_is_refused_before_any_work(tmp_path: Path, cli_run) -> None:  # type: ignore[no-untyped-def]
    t0 = time.monotonic()
    # /proc/self takes no new files, even for root; the v4.5 seed variant has violations to write
    line = refused(
        cli_run(
            "check", "--arch", "x86_64", "--variant", "v4.5-pre-altmap-hotplug", "--trace-dir", "/proc/self/t"
        ),
        "--trace-dir /proc/self/t",
    )
    assert "not writable" in line and time.monotonic() - t0 < 10  # not after the run
    if os.geteuid() != 0:
        ro = tmp_path / "ro"
        ro.mkdir()
        ro.chmod(0o500)
        refused(cli_run(*CHECK, "--trace-dir", str(ro / "t")), "not writable")


def test_the_report_is_written_when_the_traces_cannot_be(tmp_path: Path, monkeypatch, cli_run) -> None:  # type: ignore[no-untyped-def]
    from mhpcheck import trace

    def disk_full(doc, directory):  # type: ignore[no-untyped-def]
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(trace, "write_trace", disk_full)
    report = tmp_path / "report.json"
    args = ["check", "--arch", "x86_64", "--variant", "v4.5-pre-altmap-hotplug", "--depth", "2"]
    code, _, err = cli_run(*args, "--no-cache", "--format", "json", "--output", str(report))
    assert code == 2 and err.splitlines()[-1].startswith(
        "mhpcheck: error: --trace-dir mhpcheck-out: cannot write"
    )
    assert json.loads(report.read_text())["verdict"] == "violated"


def test_the_crash_handler_in_a_read_only_folder(tmp_path: Path, monkeypatch, cli_run) -> None:  # type: ignore[no-untyped-def]
    import tempfile

    from mhpcheck.report import listing

    def crash() -> list[str]:
        raise RuntimeError("a defect\nover two lines")

    monkeypatch.setattr(listing, "archs", crash)
    monkeypatch.chdir("/proc/self")  # takes no mhpcheck-out/, even for root
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    line = refused(cli_run("list", "archs"), "internal error: a defect over two lines; traceback saved to", 4)
    saved = Path(line.rsplit(" ", 1)[1])
    assert saved.parent == tmp_path and "RuntimeError" in saved.read_text()
    monkeypatch.setattr(tempfile, "tempdir", "/proc/self")  # nowhere to save it
    refused(cli_run("list", "archs"), "the traceback could not be saved", 4)


# -- traces are data --------------------------------------------------------------------------

PATCHES = REPO / "tests" / "patches"


def marker_patch(folder: Path, marker: Path, name: str = "evil") -> Path:
    """A patch file that would leave `marker` behind if anything imported it."""
    return write(
        folder / f"{name}.py",
        f"from pathlib import Path\nPath({str(marker)!r}).write_text('ran')\n"
        "from mhpcheck.patching import replaces\n\n\n"
        "@replaces('mm/sparse.c:sparse_remove_section')\n"
        "def sparse_remove_section(k, s, pfn, nr_pages, map_offset, altmap):\n"
        "    raise SystemExit(0)\n",
    )


@pytest.mark.parametrize("recorded", ["path", "record", "none"])
def test_a_trace_naming_a_patch_never_runs_it(tmp_path: Path, cli_run, recorded: str) -> None:  # type: ignore[no-untyped-def]
    marker = tmp_path / "marker"
    evil = marker_patch(tmp_path, marker)
    doc = trace_doc()
    doc["#meta"]["variant"] = "v4.5-pre-altmap-hotplug@evil"
    doc["#meta"]["patch"] = {
        "path": str(evil),
        "record": {"path": str(evil), "sha256": "0" * 64},
        "none": None,
    }[recorded]
    f = write(tmp_path / "t.trace.json", json.dumps(doc))
    for command in ("replay", "show"):
        refused(cli_run(command, str(f)), "give its patch file")
    refused(cli_run("replay", str(f), "--emit-pytest", str(tmp_path / "test_t.py")), "give its patch file")
    other = marker_patch(tmp_path, tmp_path / "marker2", "other")
    if recorded == "record":  # the user's file is not the one the trace records: not run either
        refused(cli_run("replay", str(f), "--patch", str(other)), "not the patch file")
        refused(cli_run("show", str(f), "--patch", str(other)), "not the patch file")
    code, out, _ = cli_run("replay", str(f), "--variant", "v4.5-pre-altmap-hotplug")  # another kernel
    assert code == 1 and "reproduces" in out
    assert not marker.exists() and not (tmp_path / "marker2").exists()
    assert not (tmp_path / "test_t.py").exists()


def test_a_patched_run_records_its_patch_and_replays_only_with_it(tmp_path: Path, cli_run) -> None:  # type: ignore[no-untyped-def]
    import hashlib
    import shutil

    patch = tmp_path / "seed001_bug.py"
    shutil.copy(PATCHES / "seed001_bug.py", patch)
    out = tmp_path / "traces"
    args = ["check", "--arch", "x86_64", "--variant", "v5.9", "--depth", "2", "--no-cache"]
    code, _, _ = cli_run(*args, "--patch", str(patch), "--trace-dir", str(out))
    assert code == 1
    f = out / "map_offset_first_section_only--x86_64--v5.9@seed001_bug.trace.json"
    meta = json.loads(f.read_text())["#meta"]
    assert meta["patch"] == {"path": str(patch), "sha256": hashlib.sha256(patch.read_bytes()).hexdigest()}
    refused(cli_run("replay", str(f)), "--patch FILE")
    code, out_text, err = cli_run("replay", str(f), "--patch", str(patch))
    assert code == 1 and "reproduces" in out_text and "stale" not in out_text, err
    code, out_text, _ = cli_run("show", str(f), "--patch", str(patch))
    assert code == 1 and "v5.9@seed001_bug" in out_text
    patch.write_text(patch.read_text() + "\n# edited\n")
    refused(cli_run("replay", str(f), "--patch", str(patch)), "not the patch file")
    refused(
        cli_run("replay", str(TRACE), "--patch", str(patch)), "with no patch file; --patch does not apply"
    )


def test_replay_notices_an_edited_initial_state(tmp_path: Path, cli_run) -> None:  # type: ignore[no-untyped-def]
    doc = trace_doc()
    doc["states"][0]["sysmem_vmemmap_pages"] = 7
    f = write(tmp_path / "t.trace.json", json.dumps(doc))
    code, out, _ = cli_run("replay", str(f))
    assert code == 1
    assert "stale: state 0: sysmem_vmemmap_pages: trace 7, today's model 0" in out


def test_replay_notices_edited_kernel_calls(tmp_path: Path, cli_run) -> None:  # type: ignore[no-untyped-def]
    doc = trace_doc()
    calls = doc["states"][1]["#meta"]["calls"]
    calls[0]["function"] = "something_else"
    f = write(tmp_path / "t.trace.json", json.dumps(doc))
    _, out, _ = cli_run("replay", str(f))
    assert "stale: state 1: calls[0].function" in out
    doc = trace_doc()
    del doc["states"][2]["#meta"]["calls"][-1]
    f = write(tmp_path / "t.trace.json", json.dumps(doc))
    _, out, _ = cli_run("replay", str(f))
    assert "stale: state 2: calls: trace has" in out
    doc = trace_doc()
    doc["states"][1]["#meta"]["errno"] = "-ENOMEM"
    f = write(tmp_path / "t.trace.json", json.dumps(doc))
    _, out, _ = cli_run("replay", str(f))
    assert "stale: state 1: errno" in out


# -- the cache --------------------------------------------------------------------------------

SEED_001 = [
    "check",
    "--arch",
    "x86_64",
    "--variant",
    "v4.5-pre-altmap-hotplug",
    "--depth",
    "2",
    "--jobs",
    "1",
]


@pytest.fixture
def cache_entry(tmp_path: Path, cli_run) -> Path:  # type: ignore[no-untyped-def]
    """The one cache entry a check of seed 001's pre-patch variant leaves (violated: exit 1)."""
    code, _, _ = cli_run(*SEED_001)
    assert code == 1
    (entry,) = (tmp_path / "mhpcheck-out" / "cache").iterdir()
    return entry  # type: ignore[no-any-return]


def checked_again(cli_run) -> None:  # type: ignore[no-untyped-def]
    code, out, err = cli_run(*SEED_001, "--format", "json")
    assert code == 1 and json.loads(out)["verdict"] == "violated", err
    assert "from the cache" not in err and "Traceback" not in err


def test_a_planted_pickle_is_never_loaded(tmp_path: Path, cli_run, cache_entry: Path) -> None:  # type: ignore[no-untyped-def]
    import pickle

    marker = tmp_path / "marker"

    class Evil:
        def __reduce__(self):  # type: ignore[no-untyped-def]
            return (os.system, (f"touch {marker}",))

    payload = pickle.dumps(Evil())
    cache_entry.write_bytes(payload)
    cache_entry.with_suffix(".pickle").write_bytes(payload)  # where entries used to be
    checked_again(cli_run)
    assert not marker.exists()


def test_a_forged_entry_claiming_holds_is_not_trusted(cli_run, cache_entry: Path) -> None:  # type: ignore[no-untyped-def]
    import hashlib
    import hmac

    doc = json.loads(cache_entry.read_text())
    for cell in doc["value"]["cells"]:
        for p in cell["properties"]:
            p.update(verdict="holds", message="", path=[], steps=[], finding="")
    canonical = json.dumps(doc["value"], sort_keys=True, separators=(",", ":")).encode()
    for mac in (
        doc["mac"],  # the genuine entry's checksum
        hashlib.sha256(canonical).hexdigest(),  # a checksum anyone can compute
        hmac.new(b"guessed", canonical, "sha256").hexdigest(),  # signed under another key
    ):
        cache_entry.write_text(json.dumps({**doc, "mac": mac}))
        checked_again(cli_run)


def test_a_foreign_entry_is_not_used(tmp_path: Path, cli_run, cache_entry: Path) -> None:  # type: ignore[no-untyped-def]
    code, _, _ = cli_run("check", "--arch", "x86_64", "--variant", "v4.5", "--depth", "2", "--jobs", "1")
    assert code == 0
    (other,) = [e for e in cache_entry.parent.iterdir() if e != cache_entry]
    cache_entry.write_bytes(other.read_bytes())  # v4.5's genuine entry, holding, in seed 001's place
    checked_again(cli_run)
    doc = json.loads(other.read_text())
    doc["key"] = cache_entry.stem  # and claiming this key: its checksum covers the key it was made for
    cache_entry.write_text(json.dumps(doc))
    checked_again(cli_run)


def test_a_folder_where_an_entry_should_be(cli_run, cache_entry: Path) -> None:  # type: ignore[no-untyped-def]
    cache_entry.unlink()
    cache_entry.mkdir()
    (cache_entry / "x").write_text("x")
    checked_again(cli_run)
    checked_again(cli_run)
    assert cache_entry.is_dir()


# -- signals and kills ------------------------------------------------------------------------


def _children(pid: int) -> set[int]:
    out: set[int] = set()
    for task in os.listdir(f"/proc/{pid}/task"):
        with open(f"/proc/{pid}/task/{task}/children") as f:
            out |= {int(x) for x in f.read().split()}
    return out


def _running(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except FileNotFoundError:
        return False


@pytest.mark.slow
@pytest.mark.parametrize(("sig", "code", "fmt"), [("SIGTERM", 143, "json"), ("SIGINT", 130, "junit")])
def test_a_signal_stops_the_pool_and_reports_what_finished(
    tmp_path: Path, sig: str, code: int, fmt: str
) -> None:
    import signal
    import subprocess
    import sys
    import threading
    import xml.etree.ElementTree as ET

    out_dir = tmp_path / "out"
    out_dir.mkdir()
    report = out_dir / f"report.{fmt}"
    args = ["check", "--variant", "eras", "--arch", "x86_64", "--depth", "3", "--jobs", "2", "--no-cache"]
    proc = subprocess.Popen(
        [sys.executable, "-m", "mhpcheck", *args, "--format", fmt, "--output", str(report)],
        cwd=tmp_path,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,  # its own process group, as a shell's job is
    )
    lines: list[str] = []
    first = threading.Event()

    def read() -> None:
        assert proc.stderr is not None
        for line in proc.stderr:
            lines.append(line)
            if line.startswith("done 1/"):
                first.set()

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    assert first.wait(300), "".join(lines)
    workers = _children(proc.pid)
    assert len(workers) == 2
    if sig == "SIGINT":
        os.killpg(proc.pid, signal.SIGINT)  # Ctrl-C reaches the whole job: the workers ignore it
    else:
        os.kill(proc.pid, signal.SIGTERM)  # kill(1) reaches mhpcheck alone
    assert proc.wait(60) == code
    reader.join(10)
    assert proc.stderr is not None
    proc.stderr.close()
    err = "".join(lines)
    assert "Traceback" not in err, err
    assert err.splitlines()[-1] == f"mhpcheck: interrupted ({sig})"
    deadline = time.monotonic() + 10
    while any(_running(w) for w in workers) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not any(_running(w) for w in workers), "a worker outlived mhpcheck"
    if fmt == "json":
        doc = json.loads(report.read_text())
        assert (doc["verdict"], doc["exit_code"]) == ("interrupted", 143)
        assert 1 <= len(doc["cells"]) < 8
    else:
        root = ET.parse(report).getroot()
        assert root.get("errors") == "1" and int(root.get("tests", 0)) > 1
        (error,) = root.iter("error")
        assert error.get("message", "").startswith("interrupted (SIGINT) after")
    assert [p.name for p in out_dir.iterdir()] == [report.name]
    assert not list((tmp_path / "mhpcheck-out").rglob(".*"))


def test_temporary_files_a_kill_left_are_removed_at_the_next_start(tmp_path: Path, cli_run) -> None:  # type: ignore[no-untyped-def]
    import subprocess

    dead = subprocess.Popen(["true"])  # a pid that no longer runs
    dead.wait()
    alive = subprocess.Popen(["sleep", "60"])
    try:
        traces, out, cache = tmp_path / "traces", tmp_path / "out", tmp_path / "mhpcheck-out" / "cache"
        for d in (traces, out, cache):
            d.mkdir(parents=True)
        left = [
            traces / f".p--x86_64--v4.3.trace.json.mhpcheck-{dead.pid}-abc123",
            out / f".report.json.mhpcheck-{dead.pid}-k9_x",
            cache / f".{'0' * 64}.json.mhpcheck-{dead.pid}-zz",
        ]
        kept = [
            traces / f".q.trace.json.mhpcheck-{alive.pid}-abc123",  # its writer still runs
            out / ".report.json.unrelated",
            out / "notes.txt",
        ]
        for f in left + kept:
            f.write_text("partial")
        code, _, _ = cli_run(
            *CHECK, "--cache", "--trace-dir", str(traces), "--output", str(out / "report.json")
        )
        assert code in (0, 1)
        assert not [f for f in left if f.exists()]
        assert all(f.exists() for f in kept)
    finally:
        alive.kill()
        alive.wait()
