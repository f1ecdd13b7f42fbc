"""The upstream commits the eras are built of: ids and releases as read in the kernel's history."""

from mhpcheck.model.variants import PATCHES, patches
from mhpcheck.report.listing import variants

# Corrections to the records, each checked against a source: a "[ Upstream commit ... ]" line of a
# stable mail, a Fixes: tag, or the Debian trees (6.1.176, 6.12.118, 7.2.13).
KNOWN = {
    # "arm64/mm: Enable memory hot remove": its "select ARCH_ENABLE_MEMORY_HOTREMOVE" is what
    # mm/Kconfig's ZONE_DEVICE ("depends on MEMORY_HOTREMOVE") waited for on arm64
    "arm64-zone-device": ("bbd6ec605c0f", "v5.7"),
    # seed 003 is upstream eee07935bb52 "arm64/mm: enable vmem_altmap support for vmemmap mappings"
    "arm64-altmap": ("01091d25e39408fc", "v5.9"),
    # a08a2ae34613 sits with the 5.13-rc1 merges
    "memmap-on-memory": ("a08a2ae34613", "v5.13"),
    # 4917f55b4ef9: absent from 5.15, its Link: is dated 2022-04-20
    "compound-devmap": ("4917f55b4ef9", "v5.19"),
}


def test_corrected_records_carry_their_real_id_and_release():
    by_key = {p.key: p for p in PATCHES}
    for key, (commit, version) in KNOWN.items():
        assert (by_key[key].commit, by_key[key].version) == (commit, version), key
    assert patches.ARM64_ALTMAP.upstream == "eee07935bb52"


def test_list_variants_names_no_wrong_commit():
    text = "\n".join(variants())
    # 03aaf83fba6e is "arm64/mm: define arch_get_mappable_range()" (v5.12), not ZONE_DEVICE
    assert "03aaf83fba6e" not in text
    assert "bbd6ec605c0f" in text and "upstream eee07935bb52" in text


def test_every_patch_has_an_id_or_says_where_it_was_read():
    for p in PATCHES:
        assert p.commit or p.source, f"{p.key}: no commit id and no source"
        assert p.id == (p.commit or "(id not found)")
