"""Boot a kernel and the initramfs under QEMU, and run the guest's "@@HMP" requests on the monitor."""

from __future__ import annotations

import os
import selectors
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

QEMU = "qemu-system-x86_64"
QEMU_ARM = "qemu-system-aarch64"
PROMPT = b"(qemu) "
NVDIMM_SIZE = "1G"
# EDK2 for QEMU's arm64 virt machine (qemu-efi-aarch64): UEFI installs QEMU's ACPI tables, NFIT
# included, which is how an arm64 kernel finds the emulated NVDIMM
AAVMF_CODE = Path("/usr/share/AAVMF/AAVMF_CODE.fd")
AAVMF_VARS = Path("/usr/share/AAVMF/AAVMF_VARS.fd")


@dataclass(frozen=True)
class Boot:
    """One guest boot: kernel, initramfs, the scenarios it runs and the command line it needs."""

    vmlinuz: Path
    initrd: Path
    scenarios: tuple[str, ...]
    append: str
    nvdimm: bool = False
    arch: str = "x86_64"
    labels: bool = False  # a label area on the NVDIMM: several namespaces per region

    @property
    def scenario_arg(self) -> str:
        """The kernel parameter that tells the guest's /init what to run."""
        return f"mhpc.scenarios={','.join(self.scenarios)}"

    @property
    def qemu(self) -> str:
        """The QEMU binary of the guest's arch."""
        return QEMU if self.arch == "x86_64" else QEMU_ARM

    def command(self, monitor: Path, nvdimm_file: Path, vars_file: Path | None = None) -> list[str]:
        """The QEMU command line; the monitor on a unix socket, the console on stdout."""
        # TCG always: /dev/kvm may exist on a VM host whose nested KVM cannot run the guest, and
        # KVM is not needed for numbers that do not depend on speed
        if self.arch == "x86_64":
            machine = "pc,nvdimm=on" if self.nvdimm else "pc"
            cmd = [
                QEMU, "-accel", "tcg", "-machine", machine, "-cpu", "max", "-smp", "1",
                "-m", "512M,slots=4,maxmem=4G", "-display", "none", "-no-reboot",
                "-serial", "stdio", "-monitor", f"unix:{monitor},server,nowait",
                "-kernel", str(self.vmlinuz), "-initrd", str(self.initrd),
                "-append", f"console=ttyS0 panic=-1 quiet {self.append} {self.scenario_arg}",
            ]  # fmt: skip
        else:
            # 2 GiB of RAM at 0x40000000 puts the NVDIMM at 0xc0000000, a section boundary.
            # pauth-impdef: pointer authentication (every Debian arm64 kernel uses it) cheap under
            # TCG; -nic none: no iPXE ROM to look for
            cmd = [
                QEMU_ARM, "-accel", "tcg,thread=single", "-machine", "virt,gic-version=3,nvdimm=on",
                "-cpu", "max,pauth-impdef=on", "-smp", "1", "-m", "2G,slots=4,maxmem=16G",
                "-display", "none", "-no-reboot", "-nic", "none",
                "-serial", "stdio", "-monitor", f"unix:{monitor},server,nowait",
                "-drive", f"if=pflash,format=raw,readonly=on,file={AAVMF_CODE}",
                "-drive", f"if=pflash,format=raw,file={vars_file}",
                "-kernel", str(self.vmlinuz), "-initrd", str(self.initrd),
                "-append", f"console=ttyAMA0 panic=-1 acpi=force quiet {self.append} {self.scenario_arg}",
            ]  # fmt: skip
        if self.nvdimm:
            # without a label area the region holds one raw namespace0.0 that ndctl converts in
            # place; with one (128 KiB), ndctl carves several namespaces out of the region
            cmd += [
                "-object",
                f"memory-backend-file,id=nv1,share=on,mem-path={nvdimm_file},size={NVDIMM_SIZE}"
                + ("" if self.arch == "x86_64" else ",align=2M"),
                "-device", "nvdimm,id=nvdimm1,memdev=nv1" + (",label-size=128K" if self.labels else ""),
            ]  # fmt: skip
        return cmd


@dataclass
class Transcript:
    """What one boot printed: every console line, the monitor exchanges, timings and how it ended."""

    lines: list[str] = field(default_factory=list)
    monitor: list[tuple[str, str]] = field(default_factory=list)
    init_s: float | None = None
    wall_s: float = 0.0
    done: bool = False
    failure: str | None = None


class Monitor:
    """The QEMU human monitor on a unix socket, connected on first use."""

    def __init__(self, path: Path) -> None:
        """A monitor at `path`, not yet connected: QEMU creates the socket while it starts."""
        self.path = path
        self.sock: socket.socket | None = None

    def run(self, command: str) -> str:
        """Run one monitor command; its output without the echo and the prompt."""
        if self.sock is None:
            self.sock = self._connect()
            self._until_prompt()
        self.sock.sendall(command.encode() + b"\n")
        out = self._until_prompt().decode(errors="replace").replace("\r", "")
        lines = out.split("\n")[1:]  # the first line echoes the command
        return "\n".join(x for x in lines if x.strip() and x != PROMPT.decode())

    def close(self) -> None:
        """Drop the connection."""
        if self.sock is not None:
            self.sock.close()

    def _connect(self) -> socket.socket:
        """Connect, retrying for 10 s while QEMU has not yet made the socket."""
        for _ in range(100):
            s = socket.socket(socket.AF_UNIX)
            try:
                s.connect(str(self.path))
            except OSError:
                s.close()
                time.sleep(0.1)
                continue
            s.settimeout(30)
            return s
        raise OSError(f"no QEMU monitor at {self.path}")

    def _until_prompt(self) -> bytes:
        """Everything the monitor says up to and including its next prompt."""
        assert self.sock is not None
        buf = b""
        while not buf.endswith(PROMPT):
            chunk = self.sock.recv(4096)
            if not chunk:
                raise OSError("QEMU monitor closed")
            buf += chunk
        return buf


def run(boot: Boot, timeout: float, echo: Callable[[str], None] | None = None) -> Transcript:
    """Boot, answer the guest's monitor requests, and return its transcript when it powers off."""
    if shutil.which(boot.qemu) is None:
        return Transcript(failure=f"{boot.qemu} not found")
    t = Transcript()
    with tempfile.TemporaryDirectory(prefix="mhpc-qemu-") as tmp:
        monitor_path = Path(tmp) / "monitor.sock"
        nv = Path(tmp) / "nvdimm.img"
        if boot.nvdimm:
            with nv.open("wb") as f:  # sparse: the guest writes only namespace metadata
                f.truncate(1 << 30)
        vars_file = None
        if boot.arch != "x86_64":
            # UEFI writes its variables: each boot gets a fresh copy of the template
            vars_file = Path(tmp) / "vars.fd"
            shutil.copyfile(AAVMF_VARS, vars_file)
        t0 = time.monotonic()
        p = subprocess.Popen(
            boot.command(monitor_path, nv, vars_file),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
        )
        assert p.stdout is not None
        mon = Monitor(monitor_path)
        sel = selectors.DefaultSelector()
        sel.register(p.stdout, selectors.EVENT_READ)
        pending = b""
        try:
            while True:
                left = timeout - (time.monotonic() - t0)
                if left <= 0:
                    t.failure = f"no @@DONE within {timeout:.0f} s"
                    break
                if not sel.select(min(left, 1.0)):
                    continue
                chunk = os.read(p.stdout.fileno(), 65536)
                if not chunk:
                    break
                pending += chunk
                *complete, pending = pending.split(b"\n")
                for raw in complete:
                    line = raw.decode(errors="replace").rstrip("\r")
                    t.lines.append(line)
                    if echo is not None:
                        echo(line)
                    if line.startswith("=== mhpc init") and t.init_s is None:
                        t.init_s = time.monotonic() - t0
                    elif line.startswith("@@HMP "):
                        command = line[len("@@HMP ") :]
                        t.monitor.append((command, mon.run(command)))
                    elif line == "@@DONE":
                        t.done = True
        except OSError as e:
            t.failure = f"QEMU monitor: {e}"
        finally:
            mon.close()
            sel.close()
            if p.poll() is None:
                p.kill()
            p.wait()
            p.stdout.close()
        t.wall_s = time.monotonic() - t0
        if t.failure is None and not t.done:
            # QEMU's own complaint (no TCG, a bad option) is its last line on the shared stdout
            said = next((x.strip() for x in reversed(t.lines) if x.strip() and not x.startswith("@@")), "")
            t.failure = f"QEMU exited ({p.returncode}) before the guest said @@DONE" + (
                f": {said}" if said else ""
            )
    return t
