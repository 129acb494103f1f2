"""Identity sources, keep and gender through the HTTP API, with the real FaceSwapper on the
synthetic buffalo_l models: the server's answer equals the Python API's for the same request."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image

from frameswap.api import FaceSwapper
from frameswap.identity import save_identity
from frameswap.media import open_media
from frameswap.options import SwapOptions
from frameswap.server.app import create_app
from frameswap.server.settings import ServerSettings
from kit.server import Route, b64
from kit.synthetic_detection import build_det_10g, build_genderage, build_w600k_r50, paint_face
from kit.synthetic_swap import build_inswapper

V1 = "/v1/models/faceswap-v2"


def _png(faces: list[tuple[float, float, int]], size=(320, 240)) -> bytes:
    rgb = np.full((size[1], size[0], 3), 96, np.uint8)
    for cx, cy, stride in faces:
        paint_face(rgb, (cx, cy), stride)
    buf = io.BytesIO()
    Image.fromarray(rgb).save(buf, format="PNG")
    return buf.getvalue()


@pytest.fixture(scope="module")
def swapper(tmp_path_factory):
    models = tmp_path_factory.mktemp("models")
    build_det_10g(models / "det_10g.onnx")
    build_w600k_r50(models / "w600k_r50.onnx")
    build_inswapper(models / "inswapper_128.onnx")
    build_genderage(models / "genderage.onnx")
    return FaceSwapper(models_dir=models, engine="inswapper")


@pytest.fixture()
def client(swapper):
    from fastapi.testclient import TestClient

    settings = ServerSettings(engine="inswapper", allow_loopback_urls=True, default_face_restore="none")
    with TestClient(create_app(settings, swapper=swapper)) as test_client:
        yield test_client


def _pixels(data: bytes) -> np.ndarray:
    with open_media(data) as reader:
        return next(iter(reader.frames())).rgb


TARGET = _png([(90, 120, 32), (240, 120, 8)])  # a large blue (male) and a small red (female) face
PHOTOS = [_png([(160, 120, 32)]), _png([(120, 100, 32)])]  # one person, two photos


def test_a_list_of_photos_is_one_identity(client, swapper, loopback_server):
    loopback_server.routes["/me2.png"] = Route(body=PHOTOS[1])
    response = client.post(V1, json={
        "source_img": [b64(PHOTOS[0]), loopback_server.url("/me2.png")], "target_img": b64(TARGET),
        "input_faces_index": "0,1", "keep": ["mouth", "eyes"], "gender": None,
    })
    assert response.status_code == 200, response.text
    expected = swapper.swap(PHOTOS, TARGET, options=SwapOptions(
        engine="inswapper", input_faces_index="0,1", keep=("mouth", "eyes"), output_format="png"))
    assert np.array_equal(_pixels(response.content), _pixels(expected.data))
    assert not np.array_equal(_pixels(response.content), _pixels(TARGET))


def test_an_identity_file_as_base64_and_gender(client, swapper, tmp_path):
    identity = save_identity(swapper.build_identity(PHOTOS), tmp_path / "me.identity").read_bytes()
    request = {"source_img": b64(identity), "target_img": b64(TARGET), "gender": "female"}
    response = client.post(V1, json=request)
    assert response.status_code == 200, response.text
    expected = swapper.swap(identity, TARGET, options=SwapOptions(engine="inswapper", gender="female",
                                                                  output_format="png"))
    out, before = _pixels(response.content), _pixels(TARGET)
    assert np.array_equal(out, _pixels(expected.data))
    _, xs = np.nonzero(np.any(out != before, axis=-1))
    assert xs.size and xs.min() > 170  # only the small (female) face on the right


def test_an_identity_file_by_url(client, swapper, loopback_server, tmp_path):
    identity = save_identity(swapper.build_identity(PHOTOS), tmp_path / "me.identity").read_bytes()
    loopback_server.routes["/me.identity"] = Route(body=identity)
    request = {"source_img": loopback_server.url("/me.identity"), "target_img": b64(TARGET)}
    response = client.post(V1, json=request)
    assert response.status_code == 200, response.text
    expected = swapper.swap(identity, TARGET, options=SwapOptions(engine="inswapper", output_format="png"))
    assert np.array_equal(_pixels(response.content), _pixels(expected.data))
    assert not np.array_equal(_pixels(response.content), _pixels(TARGET))


def test_photos_of_two_people_are_refused_naming_the_photo(client):
    other = _png([(160, 120, 8)])  # a red face: another person to the recogniser
    response = client.post(V1, json={"source_img": [b64(PHOTOS[0]), b64(other)], "target_img": b64(TARGET)})
    assert response.status_code == 400, response.text
    assert "source photo 2" in response.json()["error"]


def test_bad_keep_and_gender_values_are_400(client):
    for extra in ({"keep": ["nose"]}, {"gender": "other"}, {"source_img": []}):
        response = client.post(V1, json={"source_img": b64(PHOTOS[0]), "target_img": b64(TARGET), **extra})
        assert response.status_code == 400, (extra, response.text)
