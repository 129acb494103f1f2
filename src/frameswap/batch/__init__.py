"""Many files with one source face: ``frameswap.batch(...)`` and ``frameswap batch``.

``discover`` finds the inputs and names the outputs, ``runner`` skips what is done and gathers the
report, and an executor does the swaps: ``local`` (this process, or a pool of processes) or
``ray_executor`` (a Ray cluster). ``work`` is what every worker runs, whichever executor owns it.

Why this package is callable: ``frameswap.batch`` names both this package and the function.
Python binds a subpackage to its parent's attribute as soon as anything imports it (a pool worker
unpickling ``frameswap.batch.local`` does), which would shadow the function that
``frameswap/__init__.py`` exports lazily; a callable package keeps ``frameswap.batch(...)`` working
whichever of the two the attribute holds.
"""

import sys
import types
from typing import Any

from frameswap.batch.report import ItemResult
from frameswap.batch.runner import BatchResult, batch

__all__ = ["BatchResult", "ItemResult", "batch"]


class _CallablePackage(types.ModuleType):
    def __call__(self, *args: Any, **kwargs: Any) -> BatchResult:
        return batch(*args, **kwargs)


sys.modules[__name__].__class__ = _CallablePackage
