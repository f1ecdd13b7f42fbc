"""__add_pages() validates the altmap against the request (seed 001)."""

from __future__ import annotations

from collections.abc import Iterator

from mhpcheck.core.results import Step
from mhpcheck.core.spec import Claim, check, step_property
from mhpcheck.model.errno import EBUSY, EINVAL, errname
from mhpcheck.model.kernel import Kernel
from mhpcheck.model.transitions import AddDeviceMemory
from mhpcheck.properties.common import has_altmaps


@step_property(
    kills=("v4.5-pre-altmap-hotplug", "altmap-base-check-dropped", "altmap-bounds-ge"),
    applies=has_altmaps,
    observes=(AddDeviceMemory,),
)
def invalid_altmap_rejected_with_einval(k: Kernel, step: Step) -> Iterator[Claim]:
    """An add whose altmap has base_pfn != start or reserve + free > nr_pages fails with -EINVAL and changes nothing; a valid one is not refused with -EINVAL (seed 001)."""
    t = step.transition
    if not isinstance(t, AddDeviceMemory) or t.altmap is None:
        return
    offset, reserve, free, _ = t.altmap.words(k)
    if k.sem.branch((offset != 0) | (reserve + free > k.sem.word(t.nr_pages))):
        # -EBUSY: the driver's request_mem_region() refused the range before the altmap mattered
        yield check(
            k.sem.true() if step.ret in (-EINVAL, -EBUSY) else k.sem.false(),
            lambda: f"invalid altmap accepted: {t} returned {errname(step.ret)}",
        )
        yield check(
            k.sem.true() if step.after == step.before else k.sem.false(), "the rejected add changed the state"
        )
    else:
        yield check(k.sem.word(step.ret) != -EINVAL, lambda: f"valid altmap refused: {t} returned -EINVAL")
