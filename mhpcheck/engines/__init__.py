"""The engines: one Cell per (arch, variant, patch), searched explicitly, symbolically or at random."""
