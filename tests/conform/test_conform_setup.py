"""Host setup without the network: the private apt sources, and where each package layout keeps
its kernel image, modules and config."""

from __future__ import annotations

import pytest

from mhpcheck.conform import setup

SYSTEM = """Types: deb
# a comment
URIs: http://mirror.example/debian
Suites: bookworm bookworm-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb
URIs: http://mirror.example/debian-security
Suites: bookworm-security
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
"""


@pytest.fixture
def system_sources(monkeypatch, tmp_path):
    p = tmp_path / "debian.sources"
    p.write_text(SYSTEM)
    monkeypatch.setattr(setup, "SYSTEM_SOURCES", p)


def test_another_suite_comes_from_the_machines_own_mirror_for_one_architecture(system_sources):
    text = setup.sources_for("sid", "arm64")
    assert "Suites: sid\n" in text
    assert "URIs: http://mirror.example/debian\n" in text
    assert "security" not in text
    assert "Architectures: arm64" in text
    assert "Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg" in text
    assert "#" not in text


def test_bookworm_keeps_its_updates_and_security_suites(system_sources):
    text = setup.sources_for("bookworm", "arm64")
    assert "Suites: bookworm bookworm-updates" in text
    assert "Suites: bookworm-security" in text
    assert text.count("Architectures: arm64") == 2


def test_without_the_machines_sources_the_reason_is_given(monkeypatch, tmp_path):
    monkeypatch.setattr(setup, "SYSTEM_SOURCES", tmp_path / "none.sources")
    with pytest.raises(setup.Unavailable, match="cannot read"):
        setup.sources_for("sid", "amd64")


def test_a_split_7_x_package_keeps_image_modules_and_config_under_usr_lib_modules(tmp_path):
    mods = tmp_path / "usr" / "lib" / "modules" / "7.2.13+deb14-arm64"
    mods.mkdir(parents=True)
    (mods / "vmlinuz").write_bytes(b"")
    (mods / "config").write_text("CONFIG_ZONE_DEVICE=y\n# CONFIG_ACPI_HOTPLUG_MEMORY is not set\n")
    k = setup.Kernel("7.2", "7.2.13+deb14-arm64", tmp_path, "arm64-4k")
    assert k.vmlinuz == mods / "vmlinuz"
    assert k.modules == mods
    assert k.configured("ZONE_DEVICE") is True
    assert k.configured("ACPI_HOTPLUG_MEMORY") is False


def test_a_6_x_package_keeps_them_under_boot_and_lib_modules(tmp_path):
    (tmp_path / "boot").mkdir()
    (tmp_path / "boot" / "vmlinuz-6.1.0-57-arm64").write_bytes(b"")
    (tmp_path / "boot" / "config-6.1.0-57-arm64").write_text("# CONFIG_ZONE_DEVICE is not set\n")
    k = setup.Kernel("6.1", "6.1.0-57-arm64", tmp_path, "arm64-4k")
    assert k.vmlinuz.name == "vmlinuz-6.1.0-57-arm64"
    assert k.modules == tmp_path / "lib" / "modules" / "6.1.0-57-arm64"
    assert k.configured("ZONE_DEVICE") is False
    assert setup.Kernel("6.1", "x", tmp_path / "nothing").configured("ZONE_DEVICE") is None


def test_each_guest_arch_names_the_tools_it_needs(monkeypatch):
    monkeypatch.setattr(setup.shutil, "which", lambda t: None)
    missing = setup.missing_tools(["arm64"])
    assert "qemu-system-aarch64" in missing
    assert "aarch64-linux-gnu-gcc" in missing
    assert "qemu-system-x86_64" not in missing
