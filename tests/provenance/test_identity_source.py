"""An identity file as the source (model-free fakes): the C2PA manifest names it as the source
ingredient (its first face crop, a PNG, titled by the file), and the file is never overwritten."""

from __future__ import annotations

import pytest
from tests.provenance.test_pipeline_disclosure import _read_manifest, _target

from frameswap.errors import OverwriteInputError
from frameswap.identity import build_identity, save_identity
from frameswap.options import DisclosureOptions, SwapOptions
from frameswap.pipeline import Models, run_swap
from kit.fakes import PaintEngine, SquareAnalyzer, draw


class _IdentityPaintEngine(PaintEngine):
    """Paints the first photo's identity (enough to take an identity as a source)."""

    def prepare_photos(self, photos):
        image, face = photos[0]
        return self.prepare_source(image, face)


@pytest.fixture()
def identity_file(tmp_path):
    photos = [("a.png", draw((80, 80), [(20, 20, 40, 77)])), ("b.png", draw((90, 90), [(10, 30, 44, 77)]))]
    return save_identity(build_identity(SquareAnalyzer(), photos), tmp_path / "me.identity")


def _models() -> Models:
    return Models(analyzer=SquareAnalyzer(), engine=_IdentityPaintEngine())


def test_the_manifest_names_the_identity_as_the_source(tmp_path, c2pa_chain, identity_file):
    cert, key = c2pa_chain
    target = _target(tmp_path / "clip.gif", "gif")
    options = SwapOptions(disclosure=DisclosureOptions(c2pa_cert=cert, c2pa_key=key))
    out = run_swap(_models(), identity_file, target, tmp_path / "out.gif", options).path
    store, manifest = _read_manifest(out.read_bytes(), "image/gif")
    assert [s["code"] for s in store["validation_status"]] == ["signingCredential.untrusted"]
    ingredients = {i["relationship"]: i for i in manifest["ingredients"]}
    assert ingredients["componentOf"]["title"] == "me.identity"
    assert ingredients["componentOf"]["format"] == "image/png"


def test_the_identity_file_is_never_overwritten(tmp_path, identity_file):
    before = identity_file.read_bytes()
    target = _target(tmp_path / "clip.gif", "gif")
    with pytest.raises(OverwriteInputError):
        run_swap(_models(), identity_file, target, identity_file, SwapOptions(output_format="gif"))
    assert identity_file.read_bytes() == before
