"""Design review: what a patch changes (diff), where a verdict flips (bisect)."""
