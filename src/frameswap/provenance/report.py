"""What a file says about how it was made: its XMP statement and its C2PA manifest, for ``info``.

The C2PA part needs the optional ``c2pa-python``; without it the report says it was not checked.
Reading never goes to the network: fetching remote manifests and OCSP answers is turned off, so
``frameswap info`` on a file stays a local operation. A manifest that cannot be read is reported
as an error in the report, not raised: the file is still worth describing.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from frameswap.provenance.xmp import read_statement


def describe(path: Path) -> dict[str, Any]:
    """``{"digital_source_type", "creator_tool", "ai_disclosed", "c2pa"}`` of the file at ``path``;
    ``c2pa`` is None when the file holds no manifest, else a dict (see :func:`c2pa_summary`)."""
    statement = read_statement(path)
    c2pa = c2pa_summary(path)
    c2pa_types = [] if c2pa is None else c2pa.get("digital_source_types", [])
    in_c2pa = any("Algorithmic" in kind for kind in c2pa_types)
    return {
        "digital_source_type": statement.digital_source_type if statement else None,
        "creator_tool": statement.creator_tool if statement else None,
        "ai_disclosed": bool(statement and statement.ai_altered) or in_c2pa,
        "c2pa": c2pa,
    }


def c2pa_summary(path: Path) -> dict[str, Any] | None:
    """The active manifest in brief: validation state and status codes, signer, claim generator,
    actions and digital source types; ``{"checked": False, ...}`` when c2pa-python is missing."""
    try:
        import c2pa
    except ImportError:
        return {"checked": False, "reason": 'c2pa-python is not installed (pip install "frameswap[c2pa]")'}
    settings = c2pa.Settings.from_dict({"verify": {"remote_manifest_fetch": False, "ocsp_fetch": False}})
    try:
        reader = c2pa.Reader.try_create(str(path), context=c2pa.Context(settings=settings))
    except c2pa.C2paError.NotSupported:
        return None  # a format C2PA has no binding for (BMP, Matroska...)
    except c2pa.C2paError as exc:
        return {"checked": True, "error": str(exc)}
    if reader is None:
        return None
    with reader:
        store = json.loads(reader.json())
        manifest = reader.get_active_manifest() or {}
    actions = [
        action
        for assertion in manifest.get("assertions", [])
        if str(assertion.get("label", "")).startswith("c2pa.actions")
        for action in assertion.get("data", {}).get("actions", [])
    ]
    signer = manifest.get("signature_info", {})
    generator = (manifest.get("claim_generator_info") or [{}])[0]
    return {
        "checked": True,
        "validation_state": store.get("validation_state"),
        "status": [s.get("code") for s in store.get("validation_status", [])],
        "signer": signer.get("common_name"),
        "issuer": signer.get("issuer"),
        "claim_generator": " ".join(str(generator[k]) for k in ("name", "version") if k in generator),
        "actions": [a.get("action") for a in actions],
        "digital_source_types": [a["digitalSourceType"] for a in actions if "digitalSourceType" in a],
        "ingredients": [
            {"title": i.get("title"), "relationship": i.get("relationship"), "format": i.get("format")}
            for i in manifest.get("ingredients", [])
        ],
    }
