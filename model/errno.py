"""include/uapi/asm-generic/errno-base.h: the error codes hotplug returns (negated, as the kernel does)."""

EPERM = 1
ENOENT = 2
ENXIO = 6
ENOMEM = 12
EFAULT = 14
EBUSY = 16
EEXIST = 17
EINVAL = 22
ENOSPC = 28

NAMES = {
    0: "0",
    -ENXIO: "-ENXIO",
    -ENOMEM: "-ENOMEM",
    -EFAULT: "-EFAULT",
    -EBUSY: "-EBUSY",
    -EEXIST: "-EEXIST",
    -EINVAL: "-EINVAL",
    -ENOSPC: "-ENOSPC",
    -EPERM: "-EPERM",
    -ENOENT: "-ENOENT",
}


def errname(ret: int) -> str:
    """How the kernel would print a return value: -EINVAL, -ENOMEM, 0."""
    return NAMES.get(ret, str(ret))


E2BIG = 7
NAMES[-E2BIG] = "-E2BIG"
