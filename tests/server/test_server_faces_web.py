"""``POST /v1/faces``, the page's files, and the offline ``/docs`` (HTTP level; the browser tests are
in ``test_web_browser.py``)."""

from __future__ import annotations

import base64
import io
import json
import re
from html.parser import HTMLParser

import numpy as np
import pytest
from PIL import Image

from frameswap.api import FaceSwapper
from frameswap.cli import main
from kit.server import b64, png_bytes
from kit.synthetic_detection import paint_face
from kit.synthetic_swap import build_models_dir


@pytest.fixture(autouse=True)
def no_user_models(tmp_path, monkeypatch):
    """The store also looks in ~/.insightface; an empty home keeps the user's files out of these tests."""
    monkeypatch.setenv("HOME", str(tmp_path / "home"))


@pytest.fixture(scope="module")
def models_dir(tmp_path_factory):
    return build_models_dir(tmp_path_factory.mktemp("synthetic-models"))


def _scene(blobs) -> np.ndarray:
    rgb = np.full((240, 320, 3), 96, np.uint8)
    for cx, cy, stride in blobs:
        paint_face(rgb, (cx, cy), stride)
    return rgb


def _png(rgb: np.ndarray) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(rgb).save(buf, format="PNG")
    return buf.getvalue()


def _decode_data_uri(uri: str) -> Image.Image:
    head, data = uri.split(",", 1)
    assert head == "data:image/jpeg;base64"
    return Image.open(io.BytesIO(base64.b64decode(data)))


def test_faces_answers_the_cli_json_shape_with_the_same_indexes(make_client, models_dir, tmp_path, capsys):
    rgb = _scene([(80, 120, 16), (230, 110, 32)])
    path = tmp_path / "two.png"
    path.write_bytes(_png(rgb))
    client = make_client(swapper=FaceSwapper(models_dir=models_dir))
    response = client.post("/v1/faces", json={"image": b64(path.read_bytes())})
    assert response.status_code == 200, response.text
    report = response.json()
    assert main(["faces", str(path), "--json", "--models-dir", str(models_dir)]) == 0
    cli = json.loads(capsys.readouterr().out)
    assert report == {**cli, "path": None}
    # independent of both: the stride-32 blob gives the larger box, so it is face 0
    centres = [((f["box"][0] + f["box"][2]) / 2, (f["box"][1] + f["box"][3]) / 2) for f in report["faces"]]
    assert centres[0] == pytest.approx((230, 110), abs=16) and centres[1] == pytest.approx((80, 120), abs=16)
    assert report["analyzer"] == "insightface" and report["engine"] == "inswapper"
    # the engine a request names decides the analyzer (dlib sees no face in colour blobs)
    classic = client.post("/v1/faces", json={"image": b64(path.read_bytes()), "engine": "classic"}).json()
    assert (classic["analyzer"], classic["faces"]) == ("dlib", [])


def test_faces_images_show_the_reference_frame_and_crop_later_people(make_client, models_dir, tmp_path):
    # person A from frame 0, person B only from frame 2 (detected there: detection runs every 2nd frame)
    frames = [_scene([(80, 120, 32)] + ([(240 + 4 * i, 120, 16)] if i >= 2 else [])) for i in range(4)]
    buf = io.BytesIO()
    pil = [Image.fromarray(f) for f in frames]
    pil[0].save(buf, format="GIF", save_all=True, append_images=pil[1:], duration=[50] * 4, loop=0)
    client = make_client(swapper=FaceSwapper(models_dir=models_dir))
    report = client.post("/v1/faces", json={"image": b64(buf.getvalue()), "images": True}).json()
    assert [f["index"] for f in report["faces"]] == [0, 1] and report["reference_frame"] == 0
    assert [f["first_frame"] for f in report["faces"]] == [0, 2]
    reference = _decode_data_uri(report["images"]["reference"])
    assert reference.size == (320, 240)
    # the reference frame is frame 0: grey where B will appear later, blue where A is
    pixels = np.asarray(reference.convert("RGB")).astype(int)
    assert abs(pixels[120, 248] - 96).max() < 12 and pixels[120, 80, 2] > 200
    assert set(report["images"]["crops"]) == {"1"}
    crop = np.asarray(_decode_data_uri(report["images"]["crops"]["1"]).convert("RGB")).astype(int)
    assert crop[crop.shape[0] // 2, crop.shape[1] // 2, 1] > 200  # B's green blob, from frame 2


def test_faces_errors_carry_message_and_hint(make_client, models_dir):
    client = make_client(swapper=FaceSwapper(models_dir=models_dir))
    bad = client.post("/v1/faces", json={"image": b64(b"this is not an image at all")})
    assert bad.status_code == 400
    assert bad.json()["code"] == "unsupported_media" and bad.json()["hint"]
    wrong_engine = client.post("/v1/faces", json={"image": b64(png_bytes()), "engine": "magic"})
    assert wrong_engine.status_code == 400 and "engine" in wrong_engine.json()["error"]


def test_an_invalid_faces_body_is_a_400_naming_the_faces_fields(make_client, fake):
    client = make_client(swapper=fake)
    missing = client.post("/v1/faces", json={})
    assert missing.status_code == 400 and missing.json()["code"] == "bad_request"
    assert "image" in missing.json()["error"] and "image" in missing.json()["hint"]
    broken = client.post("/v1/faces", content=b"{not json", headers={"content-type": "application/json"})
    assert broken.status_code == 400 and broken.json()["code"] == "bad_request"


def test_swap_request_may_name_the_engine(make_client, fake):
    client = make_client()
    body = {"source_img": b64(png_bytes(color=(9, 99, 199))), "target_img": b64(png_bytes())}
    assert client.post("/v1/models/faceswap-v2", json={**body, "engine": "classic"}).status_code == 200
    assert client.post("/v1/models/faceswap-v2", json=body).status_code == 200
    assert [c["options"].engine for c in fake.calls] == ["classic", "auto"]
    assert client.post("/v1/models/faceswap-v2", json={**body, "engine": "magic"}).status_code == 400


def test_page_is_served_without_a_key_and_the_api_still_needs_one(make_client):
    client = make_client(api_keys=("sekret",))
    page = client.get("/")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert "default-src 'self'" in page.headers["content-security-policy"]
    assert client.post("/v1/faces", json={"image": b64(png_bytes())}).status_code == 401
    assert client.get("/v1/info").status_code == 401


class _Refs(HTMLParser):
    """Every URL an HTML page makes the browser load or link to, including URLs written in its
    inline scripts and styles (Swagger UI's page is configured by an inline script)."""

    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []
        self._inline = False

    def handle_starttag(self, tag, attrs) -> None:
        self._inline = tag in ("script", "style")
        for name, value in attrs:
            if name in ("src", "href", "action", "poster", "data") and value:
                self.urls.append(value)

    def handle_endtag(self, tag) -> None:
        self._inline = False

    def handle_data(self, data) -> None:
        if self._inline:
            self.urls += re.findall(r"""(?:url\(|['"])((?:[a-z]+:)?//[^'")\s]+)""", data)


def _references(html: str) -> list[str]:
    parser = _Refs()
    parser.feed(html)
    return parser.urls


def test_there_is_no_redoc_page(make_client):
    # ReDoc's bundle fetches its logo from cdn.redoc.ly (Redocly/redoc#2108): the page is not served
    assert make_client().get("/redoc").status_code == 404


@pytest.mark.parametrize("path", ["/", "/docs"])
def test_no_page_references_another_host(make_client, path):
    client = make_client()
    page = client.get(path)
    assert page.status_code == 200
    refs = _references(page.text)
    assert refs, "the page loads nothing?"
    foreign = [u for u in refs if re.match(r"^(?:[a-z][a-z0-9+.-]*:)?//", u, re.I)]
    assert foreign == [], foreign
    for url in refs:  # and everything it loads is really served here
        if not url.startswith("#"):
            assert client.get(url).status_code == 200, url


def test_info_lists_what_is_installed(make_client, tmp_path):
    from kit.synthetic_swap import build_gfpgan

    bare = make_client(swapper=FaceSwapper(models_dir=tmp_path / "none")).get("/v1/info").json()["swapper"]
    assert (bare["installed_engines"], bare["installed_restorers"]) == (["classic"], [])
    folder = tmp_path / "full"
    folder.mkdir()
    build_models_dir(folder)
    build_gfpgan(folder / "gfpgan_1.4.onnx")
    full = make_client(swapper=FaceSwapper(models_dir=folder)).get("/v1/info").json()["swapper"]
    assert full["installed_engines"] == ["inswapper", "classic"]
    assert full["installed_restorers"] == ["gfpgan-1.4"]
