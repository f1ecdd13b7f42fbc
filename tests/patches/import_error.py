import mhpcheck.model.no_such_module  # noqa: F401
