"""How the OpenAPI document (``/docs``, ``/openapi.json``) learns about request bodies that the
routes parse themselves.

Why the routes do not declare their body: FastAPI would parse and validate a declared body on the
event loop, and a body may be tens of MiB, which would freeze ``/health``. So each route reads the
raw bytes and validates them on a worker thread, and FastAPI no longer knows the body's model. The
docs still have to describe it: :func:`body_doc` gives the route's ``openapi_extra`` (a ``$ref`` to
the model) and :func:`add_body_schemas` puts the models those references name into the document's
components, so that every ``$ref`` resolves.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel

_COMPONENTS = "#/components/schemas/{model}"


def body_doc(model: type[BaseModel]) -> dict[str, Any]:
    """``openapi_extra`` for a route whose JSON body is ``model`` (register the model with
    :func:`add_body_schemas`, or its ``$ref`` dangles)."""
    ref = _COMPONENTS.format(model=model.__name__)
    return {"requestBody": {"required": True, "content": {"application/json": {"schema": {"$ref": ref}}}}}


def add_body_schemas(document: dict[str, Any], models: tuple[type[BaseModel], ...]) -> None:
    """Put each model's JSON schema (and the schemas it nests) into ``document``'s components."""
    schemas = document.setdefault("components", {}).setdefault("schemas", {})
    for model in models:
        schema = model.model_json_schema(ref_template=_COMPONENTS)
        schemas.update(schema.pop("$defs", {}))  # nested models are components of their own
        schemas[model.__name__] = schema
