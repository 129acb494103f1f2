"""End to end through the HTTP API with the real FaceSwapper (classic engine, real face photos)."""

from __future__ import annotations

import base64
import io

import numpy as np
import pytest
from PIL import Image

from kit.server import Route, b64, gif_durations, uniform_png

pytest.importorskip("frameswap.api")

from frameswap.server.app import create_app
from frameswap.server.settings import ServerSettings

V1 = "/v1/models/faceswap-v2"
DURATIONS = [50, 120, 80]


def encode(image: Image.Image, fmt: str = "PNG", **kw) -> bytes:
    buf = io.BytesIO()
    image.save(buf, format=fmt, **kw)
    return buf.getvalue()


@pytest.fixture(scope="module")
def media():
    """Source: the astronaut (one face). Target: one face cropped from insightface's group photo
    (the laughing man in the red shirt: frontal, so the classic engine swaps it in full)."""
    insightface_data = pytest.importorskip("insightface.data")
    from skimage import data as skdata

    source = Image.fromarray(skdata.astronaut()).resize((192, 192))
    group = np.ascontiguousarray(insightface_data.get_image("t1")[:, :, ::-1])  # BGR → RGB
    target = Image.fromarray(np.ascontiguousarray(group[310:530, 680:910])).resize((172, 165))
    frames = [target, target.rotate(3), target]
    gif = encode(frames[0], "GIF", save_all=True, append_images=frames[1:], duration=DURATIONS, loop=0)
    return {"source": encode(source), "target": encode(target), "target_rgb": np.asarray(target), "gif": gif}


@pytest.fixture(scope="module")
def client(tmp_path_factory):
    from fastapi.testclient import TestClient

    from frameswap.api import FaceSwapper

    swapper = FaceSwapper(models_dir=tmp_path_factory.mktemp("models"), engine="classic")
    store = tmp_path_factory.mktemp("store")  # module-scoped: set before the per-test FRAMESWAP_HOME
    settings = ServerSettings(
        engine="classic",
        allow_loopback_urls=True,
        default_face_restore="none",
        jobs_db=store / "jobs.sqlite3",
        results_dir=store / "results",
    )
    app = create_app(settings, swapper=swapper)
    with TestClient(app) as test_client:
        yield test_client


def test_still_image_swap(client, media):
    response = client.post(V1, json={"source_img": b64(media["source"]), "target_img": b64(media["target"])})
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "image/png"
    out = np.asarray(Image.open(io.BytesIO(response.content)).convert("RGB")).astype(int)
    before = media["target_rgb"].astype(int)
    assert out.shape == before.shape
    changed = np.abs(out - before).max(axis=2) > 24
    assert changed.mean() > 0.03  # the face region was replaced
    assert changed[:20].mean() < 0.05 and changed[:, :10].mean() < 0.05  # the borders were not


def test_gif_target_answers_an_animated_gif_with_its_timing(client, media, loopback_server):
    loopback_server.routes["/party.gif"] = Route(body=media["gif"])
    response = client.post(
        V1,
        json={
            "source_img": b64(media["source"]),
            "target_img": loopback_server.url("/party.gif"),
            "base64": True,
        },
    )
    assert response.status_code == 200, response.text
    payload = response.json()
    assert payload["content_type"] == "image/gif" and payload["frame_count"] == 3
    assert gif_durations(base64.b64decode(payload["image"])) == DURATIONS


def test_real_errors_map_to_400(client, media):
    source = b64(media["source"])
    cases = [
        ({"source_img": b64(uniform_png()), "target_img": b64(media["target"])}, {"no_face"}),
        (
            {"source_img": source, "target_img": b64(b"\x89PNG\r\n\x1a\n truncated")},
            {"corrupt_media", "unsupported_media", "bad_media"},
        ),
        (
            {"source_img": source, "target_img": b64(media["target"]), "input_faces_index": "4"},
            {"bad_face_index"},
        ),
        (
            {
                "source_img": source,
                "target_img": b64(media["target"]),
                "input_faces_index": "0,1",
                "source_faces_index": "0,1,2",
            },
            {"bad_face_index"},
        ),
    ]
    for request, codes in cases:
        response = client.post(V1, json=request)
        assert response.status_code == 400, response.text
        assert response.json()["code"] in codes, response.text


def test_missing_restorer_model_answers_503_with_the_fix(client, media):
    pytest.importorskip("frameswap.engines.restoration")
    response = client.post(
        V1,
        json={
            "source_img": b64(media["source"]),
            "target_img": b64(media["target"]),
            "face_restore": "codeformer-v0.1.0.pth",
        },
    )
    assert response.status_code == 503, response.text
    payload = response.json()
    assert payload["code"] == "model_missing" and '"face_restore": "none"' in payload["hint"]
    assert "/tmp" not in response.text  # the models directory is not disclosed
