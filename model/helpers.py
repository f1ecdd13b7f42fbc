"""Marks the model's own helpers: code that follows no single kernel function."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

F = TypeVar("F", bound=Callable[..., Any])


def helper(fn: F) -> F:
    """Mark `fn` as a helper of the model, not a kernel function: it names none in its docstring."""
    fn.__model_helper__ = True  # type: ignore[attr-defined]
    return fn


def is_helper(fn: object) -> bool:
    return bool(getattr(fn, "__model_helper__", False))
