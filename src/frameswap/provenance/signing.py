"""C2PA Content Credentials: a signed manifest saying the output is the target edited with AI.

The manifest is built and embedded by ``c2pa-python`` (the Content Authenticity Initiative's
bindings to the reference c2pa-rs), an optional dependency: ``pip install "frameswap[c2pa]"``.
What it records:

- the target as the ``parentOf`` ingredient and ``c2pa.opened`` as the first action (C2PA 2.x
  requires a manifest's first action to be created or opened; c2pa refuses any other);
- ``c2pa.edited`` with the IPTC digital source type ``compositeWithTrainedAlgorithmicMedia`` and
  frameswap as the software agent, naming the source photo, a ``componentOf`` ingredient.

Thumbnails are off: c2pa-rs stores one per ingredient and one of the output, which turned a 6 KB
GIF into 800 KB; without them the manifest adds about 4 KB.

The certificate and key are read and checked once (``C2paCredentials.load``), so a missing file,
a key that does not match the certificate or a missing ``c2pa`` package is an error before any
frame is processed. The signing algorithm follows from the key (ES256/384/512, Ed25519, PS256).
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

from frameswap.atomic import atomic_output
from frameswap.errors import MediaEncodeError, MissingDependencyError, OptionsError
from frameswap.media.sources import ResolvedSource
from frameswap.media.writer import content_type_for
from frameswap.provenance.xmp import DIGITAL_SOURCE_TYPE

# Output formats c2pa-rs embeds a manifest into (BMP, Matroska and WebM have no C2PA binding).
SIGNABLE_FORMATS = frozenset({"gif", "png", "apng", "webp", "jpeg", "mp4", "mov", "avi"})
_MIME_FOR_C2PA = {"apng": "image/png"}  # c2pa reads an APNG as the PNG it is


def _import_c2pa() -> Any:
    try:
        import c2pa
    except ImportError:
        raise MissingDependencyError(
            'C2PA signing needs the c2pa-python package: pip install "frameswap[c2pa]"'
        ) from None
    return c2pa


@dataclass(frozen=True)
class Ingredient:
    """An input named in the manifest: its title, format and bytes (from a file or memory)."""

    title: str
    format: str  # frameswap's format name ("gif", "jpeg", ...)
    source: ResolvedSource

    @contextmanager
    def stream(self) -> Iterator[BinaryIO]:
        if self.source.path is not None:
            with self.source.path.open("rb") as fh:
                yield fh
        else:
            yield io.BytesIO(self.source.data or b"")


@dataclass(frozen=True)
class C2paCredentials:
    """A PEM certificate chain (signer first) and its PEM private key, checked to belong together."""

    certificate_chain: bytes
    private_key: bytes
    algorithm: str  # c2pa's name: "es256", "es384", "es512", "ed25519", "ps256"

    @classmethod
    def load(cls, cert: Path, key: Path) -> C2paCredentials:
        """Read and check both files; OptionsError naming what is wrong."""
        _import_c2pa()
        chain, pem_key = _read(cert, "certificate"), _read(key, "private key")
        from cryptography import x509  # a dependency of c2pa-python
        from cryptography.hazmat.primitives import serialization

        try:
            certs = x509.load_pem_x509_certificates(chain)
        except ValueError:
            raise OptionsError(f"{cert}: not a PEM certificate chain") from None
        try:
            private = serialization.load_pem_private_key(pem_key, password=None)
        except (ValueError, TypeError):
            raise OptionsError(f"{key}: not an unencrypted PEM private key") from None
        spki = serialization.PublicFormat.SubjectPublicKeyInfo
        pem = serialization.Encoding.PEM
        if certs[0].public_key().public_bytes(pem, spki) != private.public_key().public_bytes(pem, spki):
            raise OptionsError(f"{key}: this key does not belong to the first certificate in {cert}")
        return cls(chain, pem_key, _algorithm(private, key))

    def sign(
        self,
        unsigned: Path,
        fmt: str,
        destination: Path | None,
        *,
        parent: Ingredient,
        component: Ingredient,
        tool_version: str,
    ) -> Path | bytes:
        """Embed a signed manifest in a copy of ``unsigned``: written atomically to ``destination``,
        or returned as bytes when it is None."""
        c2pa = _import_c2pa()
        mime = _MIME_FOR_C2PA.get(fmt, content_type_for(fmt))
        manifest = _manifest(destination.name if destination else f"output.{fmt}", tool_version)
        try:
            settings = c2pa.Settings.from_dict({"builder": {"thumbnail": {"enabled": False}}})
            builder = c2pa.Builder(manifest, context=c2pa.Context(settings=settings))
            roles = ((parent, "parentOf", "target"), (component, "componentOf", "source"))
            for ingredient, relationship, label in roles:
                with ingredient.stream() as fh:
                    builder.add_ingredient(
                        {"title": ingredient.title, "relationship": relationship, "label": label},
                        _MIME_FOR_C2PA.get(ingredient.format, content_type_for(ingredient.format)),
                        fh,
                    )
            info = c2pa.C2paSignerInfo(self.algorithm, self.certificate_chain, self.private_key, None)
            signer = c2pa.Signer.from_info(info)
            with ExitStack() as stack:
                src = stack.enter_context(unsigned.open("rb"))
                if destination is None:
                    out = io.BytesIO()
                    builder.sign(signer, mime, src, out)
                    return out.getvalue()
                tmp = stack.enter_context(atomic_output(destination))
                with tmp.open("w+b") as dest:
                    builder.sign(signer, mime, src, dest)
                return destination
        except c2pa.C2paError as exc:
            raise MediaEncodeError(f"cannot sign the {fmt} output with C2PA ({exc})") from exc


def check_signable(fmt: str) -> None:
    """OptionsError, before any work, when C2PA cannot be embedded in ``fmt``."""
    if fmt not in SIGNABLE_FORMATS:
        formats = ", ".join(sorted(SIGNABLE_FORMATS))
        raise OptionsError(f"C2PA signing is not available for {fmt} outputs; use one of: {formats}")


def _manifest(title: str, tool_version: str) -> dict[str, object]:
    agent = {"name": "frameswap", "version": tool_version}
    return {
        "claim_generator_info": [agent],
        "title": title,
        "assertions": [
            {
                "label": "c2pa.actions.v2",
                "data": {
                    "actions": [
                        {"action": "c2pa.opened", "parameters": {"ingredientIds": ["target"]}},
                        {
                            "action": "c2pa.edited",
                            "digitalSourceType": DIGITAL_SOURCE_TYPE,
                            "softwareAgent": agent,
                            "description": "faces replaced with a face from the source photo",
                            "parameters": {"ingredientIds": ["source"]},
                        },
                    ]
                },
            }
        ],
    }


def _read(path: Path, what: str) -> bytes:
    try:
        return Path(path).read_bytes()
    except OSError as exc:
        raise OptionsError(f"cannot read the C2PA {what} {path}: {exc.strerror or exc}") from None


def _algorithm(private: Any, key: Path) -> str:
    from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa

    if isinstance(private, ec.EllipticCurvePrivateKey):
        curves = {"secp256r1": "es256", "secp384r1": "es384", "secp521r1": "es512"}
        if private.curve.name in curves:
            return curves[private.curve.name]
    elif isinstance(private, ed25519.Ed25519PrivateKey):
        return "ed25519"
    elif isinstance(private, rsa.RSAPrivateKey):
        return "ps256"
    raise OptionsError(f"{key}: C2PA signs with P-256/P-384/P-521 EC, Ed25519 or RSA keys only")
