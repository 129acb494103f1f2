"""Many files with one source face: ``frameswap.batch(...)`` and ``frameswap batch``.

``discover`` finds the inputs and names the outputs, ``runner`` skips what is done and gathers the
report, and an executor does the swaps: ``local`` (this process, or a pool of processes) or
``ray_executor`` (a Ray cluster). ``work`` is what every worker runs, whichever executor owns it.

Why ``batching`` and not ``batch``: ``frameswap.batch`` is the function. A subpackage of that name
would be bound to the parent's attribute as soon as anything imported it (a pool worker unpickling
one of its modules does), shadowing the function.
"""

from frameswap.batching.report import ItemResult
from frameswap.batching.runner import BatchResult, batch

__all__ = ["BatchResult", "ItemResult", "batch"]
