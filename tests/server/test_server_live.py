"""One real uvicorn server on loopback, driven by a real HTTP client under concurrent load."""

from __future__ import annotations

import io
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import psutil
import requests
from PIL import Image
from srvkit import FakeSwapper, b64, has_mark, png_bytes


def test_forty_concurrent_requests_against_a_queue_of_four(live_server):
    swapper = FakeSwapper(delay_s=0.15)
    server = live_server(swapper, workers=1, queue_size=4)
    payload = {"source_img": b64(png_bytes(color=(9, 99, 199))), "target_img": b64(png_bytes((64, 48)))}
    process = psutil.Process()
    rss_before = process.memory_info().rss

    def call(_):
        with requests.Session() as session:
            response = session.post(f"{server.url}/v1/models/faceswap-v2", json=payload, timeout=30)
            return response.status_code, response.headers.get("content-type"), response.content

    with ThreadPoolExecutor(max_workers=40) as pool:
        futures = [pool.submit(call, i) for i in range(40)]
        health = requests.get(f"{server.url}/health", timeout=5)  # answered while swaps run
        results = [f.result() for f in futures]
    statuses = Counter(status for status, _, _ in results)
    assert set(statuses) <= {200, 429}, statuses
    assert statuses[200] >= 5 and statuses[429] >= 1, statuses
    for status, content_type, content in results:
        if status == 200:
            assert content_type == "image/png"
            image = Image.open(io.BytesIO(content))
            image.load()
            assert image.size == (64, 48) and has_mark(content)
    assert health.status_code == 200 and health.json()["jobs"]["capacity"] == 5
    assert len(swapper.calls) == statuses[200]  # a 429 never reached the swapper
    growth_mb = (process.memory_info().rss - rss_before) / 2**20
    assert growth_mb < 150, f"RSS grew {growth_mb:.0f} MiB"
