"""The seed Retool OpenAPI document made usable for validation (retool.md §11): shared by the contract tests."""

from __future__ import annotations

import json
from functools import cache

from openapi_core import OpenAPI

from apps.core.paths import shared_dir

SEED = shared_dir() / "seeds" / "003_744b14b8720f26fb.txt"
SPEC_HOST = "https://api.retool.com"


def neutralise(node):
    """Drift 5: a schema with ``nullable: true`` but no type/$ref/anyOf/oneOf/allOf becomes ``{}`` (any value)."""
    if isinstance(node, dict):
        if node.get("nullable") is True and not ({"type", "$ref", "anyOf", "oneOf", "allOf"} & node.keys()):
            del node["nullable"]
        for value in node.values():
            neutralise(value)
    elif isinstance(node, list):
        for value in node:
            neutralise(value)
    return node


@cache
def retool_openapi() -> OpenAPI:
    spec = neutralise(json.loads(SEED.read_text()))
    spec["servers"] = [{"url": f"{SPEC_HOST}/api/v2"}]  # drift 6: keep the /api/v2 base path explicit
    space = spec["paths"]["/spaces"]["get"]["responses"]["200"]["content"]["application/json"]["schema"]
    space["properties"]["data"]["items"]["properties"]["id"].pop("format")  # drift 1: ids are org_<hex>
    return OpenAPI.from_dict(spec)
