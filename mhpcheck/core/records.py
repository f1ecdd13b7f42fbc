"""Frozen records for the model's state and events, built as fast as plain ones.

A frozen dataclass's generated __init__ stores each field through object.__setattr__(), a
generic call per field, because its own __setattr__ refuses. The explorer builds a state, a
range, an altmap or an event for every vmemmap page it allocates, so that cost is a fifth of a
base-page cell's time. `fast_init` keeps the frozen dataclass as it is (equality, hashing, the
refused setattr, pickling) and replaces only its __init__ by one that stores through the slots'
own descriptors: the same fields, order and defaults.
"""

from __future__ import annotations

from dataclasses import MISSING, fields
from typing import Any, TypeVar

T = TypeVar("T")


def fast_init(cls: type[T]) -> type[T]:
    """Give a @dataclass(frozen=True, slots=True) class an __init__ that sets each slot directly."""
    params = getattr(cls, "__dataclass_params__", None)
    if params is None or not params.frozen or "__slots__" not in cls.__dict__:
        raise TypeError(f"{cls.__name__}: fast_init is for frozen, slotted dataclasses")
    if hasattr(cls, "__post_init__"):
        raise TypeError(f"{cls.__name__}: fast_init does not run __post_init__")
    args, body = [], []
    scope: dict[str, Any] = {}
    for f in fields(cls):  # type: ignore[arg-type]
        if not f.init or f.kw_only or f.default_factory is not MISSING:
            raise TypeError(f"{cls.__name__}.{f.name}: fast_init takes plain positional fields")
        if f.default is MISSING:
            args.append(f.name)
        else:
            scope[f"_d_{f.name}"] = f.default
            args.append(f"{f.name}=_d_{f.name}")
        scope[f"_s_{f.name}"] = getattr(cls, f.name).__set__  # the slot's member descriptor
        body.append(f"    _s_{f.name}(self, {f.name})")
    exec(f"def __init__(self, {', '.join(args)}):\n" + ("\n".join(body) or "    pass") + "\n", scope)
    init = scope["__init__"]
    init.__qualname__ = f"{cls.__qualname__}.__init__"
    init.__doc__ = cls.__init__.__doc__
    cls.__init__ = init  # type: ignore[method-assign]
    return cls
