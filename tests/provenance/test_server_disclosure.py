"""The server's answers carry the disclosure too: a swap through the HTTP API (the real classic
engine on real photos) answers bytes whose XMP statement exiftool reads, and, with the server's
C2PA certificate settings, a manifest that c2pa's own reader validates."""

from __future__ import annotations

import base64
import io
import json

import numpy as np
from PIL import Image

from frameswap.api import FaceSwapper
from frameswap.provenance import DIGITAL_SOURCE_TYPE
from frameswap.server.app import create_app
from frameswap.server.settings import ServerSettings
from sample_recipe import _astronaut_rgb, _t1_rgb


def _png_b64(rgb: np.ndarray) -> str:
    buf = io.BytesIO()
    Image.fromarray(rgb).save(buf, format="PNG")
    return base64.b64encode(buf.getvalue()).decode()


def test_the_answer_carries_the_statement_and_a_manifest_c2pa_validates(exiftool, c2pa_chain, tmp_path):
    import c2pa
    from fastapi.testclient import TestClient

    cert, key = c2pa_chain
    settings = ServerSettings(engine="classic", default_face_restore="none", c2pa_cert=cert, c2pa_key=key)
    swapper = FaceSwapper(models_dir=tmp_path / "models", engine="classic")
    request = {"source_img": _png_b64(_astronaut_rgb()), "target_img": _png_b64(_t1_rgb()[250:450, 400:620])}
    with TestClient(create_app(settings, swapper=swapper)) as client:
        response = client.post("/v1/models/faceswap-v2", json=request)
    assert response.status_code == 200, response.text
    answer = tmp_path / "answer.png"
    answer.write_bytes(response.content)
    assert exiftool(answer)["XMP-iptcExt:DigitalSourceType"] == DIGITAL_SOURCE_TYPE
    with c2pa.Reader("image/png", io.BytesIO(response.content)) as reader:
        store, manifest = json.loads(reader.json()), reader.get_active_manifest()
    assert [s["code"] for s in store["validation_status"]] == ["signingCredential.untrusted"]
    assertion = next(a for a in manifest["assertions"] if a["label"].startswith("c2pa.actions"))
    actions = assertion["data"]["actions"]
    assert [a["action"] for a in actions] == ["c2pa.opened", "c2pa.edited"]
    assert actions[1]["digitalSourceType"] == DIGITAL_SOURCE_TYPE
