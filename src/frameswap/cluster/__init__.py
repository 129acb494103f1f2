"""Running frameswap on a Ray cluster: connecting to (or starting) Ray and sizing its workers.

Shared by ``frameswap batch --ray`` (``frameswap.batching.ray_executor``) and ``frameswap serve
--ray`` (``frameswap.server.ray_serve``); Ray is the optional extra ``frameswap[ray]``.
"""
