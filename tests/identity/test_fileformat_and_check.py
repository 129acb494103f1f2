"""The identity file round-trips exactly, refuses what is not plain data, and the same-person check
names the stray photo whatever the order."""

from __future__ import annotations

import io
import json
import zipfile

import numpy as np
import pytest

from frameswap.errors import MediaLimitError, SourceError
from frameswap.faces.types import Face
from frameswap.identity import Identity, IdentityPhoto, load_identity, same_person_check, save_identity
from frameswap.identity.fileformat import identity_bytes
from frameswap.options import MediaLimits


def _identity(rng: np.random.Generator, n: int = 3, landmarks: bool = True) -> Identity:
    photos = []
    for i in range(n):
        box = np.array([10, 12, 90, 100], np.float32) + i
        face = Face(
            box=box,
            score=0.9 - 0.1 * i,
            kps=rng.uniform(10, 90, (5, 2)).astype(np.float32),
            landmarks=rng.uniform(10, 90, (68, 2)).astype(np.float32) if landmarks else None,
            embedding=rng.standard_normal(128).astype(np.float32),
        )
        image = rng.integers(0, 256, (110 + i, 100, 3), dtype=np.uint8)
        photos.append(IdentityPhoto(name=f"me_{i}.jpg", image=image, face=face))
    return Identity(photos=tuple(photos), analyzer="dlib")


def test_round_trip_keeps_every_value(tmp_path):
    rng = np.random.default_rng(1)
    identity = _identity(rng)
    path = save_identity(identity, tmp_path / "me.identity")
    back = load_identity(path.read_bytes(), "me.identity")
    assert back.analyzer == "dlib" and back.version == identity.version
    for a, b in zip(identity.photos, back.photos, strict=True):
        assert a.name == b.name
        assert np.array_equal(a.image, b.image) and b.image.dtype == np.uint8
        for field in ("box", "kps", "landmarks", "embedding"):
            assert np.array_equal(getattr(a.face, field), getattr(b.face, field)), field
        assert b.face.score == pytest.approx(a.face.score)
    # plain data: the manifest is JSON anyone can read
    with zipfile.ZipFile(path) as zf:
        manifest = json.loads(zf.read("identity.json"))
    assert manifest["format"] == "frameswap-identity" and len(manifest["photos"]) == 3


def _rewrite(data: bytes, member: str, payload: bytes) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as src, zipfile.ZipFile(out, "w") as dst:
        for info in src.infolist():
            dst.writestr(info.filename, payload if info.filename == member else src.read(info))
    return out.getvalue()


def test_a_pickled_array_is_refused_not_loaded():
    data = identity_bytes(_identity(np.random.default_rng(2), n=1))
    buf = io.BytesIO()
    np.save(buf, np.array([{"code": "would run"}], dtype=object), allow_pickle=True)
    with pytest.raises(SourceError, match="not a plain array"):
        load_identity(_rewrite(data, "photos/0.npy", buf.getvalue()))


def test_bad_files_get_clear_errors():
    data = identity_bytes(_identity(np.random.default_rng(3), n=1))
    manifest = json.loads(zipfile.ZipFile(io.BytesIO(data)).read("identity.json"))
    with pytest.raises(SourceError, match="not an identity file"):
        load_identity(b"GIF89a not a zip")
    newer = dict(manifest, version=99)
    with pytest.raises(SourceError, match="version 99"):
        load_identity(_rewrite(data, "identity.json", json.dumps(newer).encode()))
    other = dict(manifest, format="something-else")
    with pytest.raises(SourceError, match="not a frameswap identity"):
        load_identity(_rewrite(data, "identity.json", json.dumps(other).encode()))
    bad_kps = json.loads(json.dumps(manifest))
    bad_kps["photos"][0]["kps"] = [[1, 2]]
    with pytest.raises(SourceError, match="expected 5"):
        load_identity(_rewrite(data, "identity.json", json.dumps(bad_kps).encode()))
    with pytest.raises(MediaLimitError):
        load_identity(data, limits=MediaLimits(max_input_bytes=1000))


def test_save_is_atomic_and_leaves_nothing_on_error(tmp_path, monkeypatch):
    target = tmp_path / "me.identity"

    def boom(*_a, **_k):
        raise OSError("disk full")

    monkeypatch.setattr("pathlib.Path.write_bytes", boom)
    with pytest.raises(OSError):
        save_identity(_identity(np.random.default_rng(4), n=1), target)
    assert list(tmp_path.iterdir()) == []


def _unit(v: np.ndarray) -> np.ndarray:
    return v / np.linalg.norm(v)


@pytest.mark.parametrize("stray_at", [0, 1, 3])
def test_the_stray_photo_is_named_whatever_its_place(stray_at):
    rng = np.random.default_rng(5)
    person = rng.standard_normal(128) * 0.12  # dlib-like 128-D: Euclidean rule, threshold 0.6
    same = [person + rng.standard_normal(128) * 0.01 for _ in range(3)]  # ~0.16 apart
    other = person + _unit(rng.standard_normal(128)) * 1.0  # 1.0 away: past 0.6
    vectors = [*same[:stray_at], other, *same[stray_at:]]
    names = [f"p{i}.jpg" for i in range(4)]
    with pytest.raises(SourceError, match=rf"^p{stray_at}\.jpg: its face is not the same person"):
        same_person_check(names, vectors)
    same_person_check(names[:3], same)  # one person: no error


def test_arcface_vectors_use_the_cosine_rule():
    rng = np.random.default_rng(6)
    base = _unit(rng.standard_normal(512))
    near = _unit(base + 0.3 * _unit(rng.standard_normal(512)))  # cosine distance ~0.04
    far = _unit(rng.standard_normal(512))  # cosine distance ~1
    same_person_check(["a", "b"], [base * 20, near * 25])  # raw norms do not matter
    with pytest.raises(SourceError, match=r"^b: .* not the same person as in a"):
        same_person_check(["a", "b"], [base, far])
