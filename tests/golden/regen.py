"""Regenerate tests/golden/manifest.toml from today's model: `python tests/golden/regen.py`.

A changed count or verdict is a semantic change: the commit that regenerates says why.
"""

from test_manifest import MANIFEST, manifest_text

if __name__ == "__main__":
    MANIFEST.write_text(manifest_text())
    print(f"wrote {MANIFEST}")
