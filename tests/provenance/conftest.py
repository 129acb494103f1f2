"""Fixtures for the disclosure tests: an exiftool reader (the independent oracle, from Debian's
libimage-exiftool-perl, which .ci/run installs) and a throwaway C2PA certificate chain."""

from __future__ import annotations

import datetime
import json
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest


@pytest.fixture(scope="session")
def exiftool() -> Callable[[Path], dict]:
    """``exiftool(path)``: every tag exiftool reads, keyed ``Group1:Tag`` (e.g. ``XMP-iptcExt:...``)."""
    binary = shutil.which("exiftool")
    if binary is None:
        pytest.skip("exiftool is not installed (apt-get install libimage-exiftool-perl; .ci/run does)")

    def read(path: Path) -> dict:
        out = subprocess.run(
            [binary, "-j", "-G1", "-a", "-n", str(path)], capture_output=True, check=True, timeout=60
        )
        return json.loads(out.stdout)[0]

    return read


@pytest.fixture(scope="session")
def c2pa_chain(tmp_path_factory) -> tuple[Path, Path]:
    """(certificate chain PEM, leaf key PEM): an ES256 leaf signed by a root made here, with what
    C2PA asks of a signer's certificate (digitalSignature usage, emailProtection EKU, key ids)."""
    pytest.importorskip("c2pa")
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    def name(common: str) -> x509.Name:
        return x509.Name(
            [
                x509.NameAttribute(NameOID.COMMON_NAME, common),
                x509.NameAttribute(NameOID.ORGANIZATION_NAME, "frameswap tests"),
            ]
        )

    now = datetime.datetime.now(datetime.timezone.utc)
    root_key, leaf_key = ec.generate_private_key(ec.SECP256R1()), ec.generate_private_key(ec.SECP256R1())

    def builder(subject: str, issuer: x509.Name, key) -> x509.CertificateBuilder:
        return (
            x509.CertificateBuilder()
            .subject_name(name(subject))
            .issuer_name(issuer)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(days=1))
            .not_valid_after(now + datetime.timedelta(days=30))
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        )

    no = dict.fromkeys(
        ("content_commitment", "key_encipherment", "data_encipherment", "key_agreement",
         "encipher_only", "decipher_only"),
        False,
    )
    root = (
        builder("frameswap test root", name("frameswap test root"), root_key)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(x509.KeyUsage(digital_signature=False, key_cert_sign=True, crl_sign=True, **no),
                       critical=True)
        .sign(root_key, hashes.SHA256())
    )
    leaf = (
        builder("frameswap test signer", root.subject, leaf_key)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.KeyUsage(digital_signature=True, key_cert_sign=False, crl_sign=False, **no),
                       critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.EMAIL_PROTECTION]), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(root_key.public_key()), critical=False
        )
        .sign(root_key, hashes.SHA256())
    )
    directory = tmp_path_factory.mktemp("c2pa")
    cert, key = directory / "chain.pem", directory / "signer.key"
    pem = serialization.Encoding.PEM
    cert.write_bytes(leaf.public_bytes(pem) + root.public_bytes(pem))
    key.write_bytes(
        leaf_key.private_bytes(pem, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    return cert, key
