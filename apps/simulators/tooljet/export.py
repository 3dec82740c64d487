"""ToolJet app export bundles with the real shape: {tooljet_version, app:[{definition:{appV2:{…}}}], tooljet_database?}."""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator

from apps.simulators.people import make_rng, rng_uuid

PAD_SENTINEL = "\u0000__simulator_pad__\u0000"
PAD_CHUNK = 1024 * 1024
WIDGETS = (
    "Table",
    "Button",
    "Text",
    "TextInput",
    "Dropdown",
    "Chart",
    "Form",
    "Modal",
    "Container",
    "DatePicker",
    "Checkbox",
    "NumberInput",
    "Image",
    "Tabs",
    "Statistics",
)


def _component(rng, page_id: str, index: int, stamp: str) -> dict:
    widget = WIDGETS[rng.randrange(len(WIDGETS))]
    cid = rng_uuid(rng)
    return {
        "id": cid,
        "name": f"{widget.lower()}{index + 1}",
        "type": widget,
        "pageId": page_id,
        "parent": None,
        "properties": {
            "title": {"value": f"{widget} {index + 1}"},
            "data": {"value": "{{queries.listOrders.data}}"},
            "loadingState": {"value": "{{queries.listOrders.isLoading}}"},
            "visibility": {"value": "{{true}}"},
            "tooltip": {"value": ""},
        },
        "styles": {
            "backgroundColor": {"value": "#ffffffff"},
            "textColor": {"value": "#1b1f24ff"},
            "borderRadius": {"value": "{{6}}"},
            "boxShadow": {"value": "0px 0px 0px 0px #00000040"},
        },
        "generalProperties": {"tooltip": {"value": ""}},
        "generalStyles": {"boxShadow": {"value": "0px 0px 0px 0px #00000040"}},
        "displayPreferences": {
            "showOnDesktop": {"value": "{{true}}"},
            "showOnMobile": {"value": "{{false}}"},
        },
        "validation": {},
        "properties_version": 2,
        "layouts": [
            {
                "id": rng_uuid(rng),
                "type": "desktop",
                "top": 30 + 60 * index,
                "left": 2 + (index % 3) * 14,
                "width": 12 + rng.randrange(20),
                "height": 40 + rng.randrange(400),
                "componentId": cid,
                "dimensionUnit": "count",
            },
            {
                "id": rng_uuid(rng),
                "type": "mobile",
                "top": 30 + 60 * index,
                "left": 0,
                "width": 43,
                "height": 40 + rng.randrange(200),
                "componentId": cid,
                "dimensionUnit": "count",
            },
        ],
        "createdAt": stamp,
        "updatedAt": stamp,
    }


def _version_parts(app: dict, version: dict, ds_ids: list[str]) -> tuple[dict, list, list, list]:
    rng = make_rng(0, f"export:{app['id']}:{version['id']}")
    stamp = version["createdAt"]
    pages, components, queries = [], [], []
    for p, page_name in enumerate(("Home", "Details", "Settings")):
        page_id = rng_uuid(rng)
        pages.append(
            {
                "id": page_id,
                "name": page_name,
                "handle": page_name.lower(),
                "index": p,
                "disabled": False,
                "hidden": False,
                "autoComputeLayout": False,
                "appVersionId": version["id"],
                "icon": "IconHome2",
                "pageGroupIndex": None,
                "pageGroupId": None,
                "isPageGroup": False,
                "createdAt": stamp,
                "updatedAt": stamp,
            }
        )
        components.extend(_component(rng, page_id, i, stamp) for i in range(12))
    for q, qname in enumerate(("listOrders", "getCustomer", "updateOrder", "refundPayment")):
        queries.append(
            {
                "id": rng_uuid(rng),
                "name": qname,
                "kind": "postgresql" if q < 3 else "restapi",
                "options": {
                    "mode": "sql",
                    "query": f"select * from orders where id = {{{{components.table1.selectedRow.id}}}} -- {qname}",  # noqa: S608 - fixture text, never executed
                    "transformationLanguage": "javascript",
                    "enableTransformation": False,
                    "runOnPageLoad": q == 0,
                },
                "dataSourceId": ds_ids[q % len(ds_ids)] if ds_ids else None,
                "appVersionId": version["id"],
                "createdAt": stamp,
                "updatedAt": stamp,
            }
        )
    entry = {
        "id": version["id"],
        "name": version["name"],
        "definition": None,
        "globalSettings": {
            "hideHeader": False,
            "appInMaintenance": False,
            "canvasMaxWidth": 100,
            "canvasMaxWidthType": "%",
            "canvasBackgroundColor": "#edeff5",
            "backgroundFxQuery": "",
            "theme": {"id": 1, "name": "Default"},
        },
        "pageSettings": {
            "properties": {"disableMenu": {"value": "{{false}}"}, "position": {"value": "side"}}
        },
        "showViewerNavigation": True,
        "homePageId": pages[0]["id"],
        "appId": app["id"],
        "currentEnvironmentId": None,
        "promotedFrom": None,
        "status": "DRAFT",
        "createdAt": stamp,
        "updatedAt": stamp,
    }
    return entry, pages, components, queries


def build_bundle(state, app: dict, versions: list[dict], *, include_tjdb: bool, pad: bool = False) -> dict:
    """The export bundle as a dict (the padded app carries PAD_SENTINEL where the pad goes)."""
    ws_id = app["organizationId"]
    if app.get("definition") is not None:
        definition = copy.deepcopy(app["definition"])
        app_v2 = definition.setdefault("appV2", {})
        app_v2.update({"id": app["id"], "name": app["name"], "slug": app["slug"], "organizationId": ws_id})
        wanted = {v["name"] for v in versions}
        app_v2["appVersions"] = [v for v in app_v2.get("appVersions", []) if v.get("name") in wanted] or [
            {"id": v["id"], "name": v["name"]} for v in versions
        ]
    else:
        ds_ids = [d["id"] for d in state.data_sources.get(ws_id, [])]
        app_versions, pages, components, queries = [], [], [], []
        for version in versions:
            entry, p, c, q = _version_parts(app, version, ds_ids)
            app_versions.append(entry)
            pages += p
            components += c
            queries += q
        if pad:
            queries.append(
                {
                    "id": app["id"],
                    "name": "bulkSeed",
                    "kind": "runjs",
                    "options": {"code": PAD_SENTINEL},
                    "appVersionId": versions[-1]["id"],
                }
            )
        newest = app["versions"][-1]
        app_v2 = {
            "id": app["id"],
            "type": "front-end",
            "name": app["name"],
            "slug": app["slug"],
            "isPublic": False,
            "isMaintenanceOn": False,
            "icon": "apps",
            "organizationId": ws_id,
            "currentVersionId": newest["id"],
            "userId": app.get("ownerId"),
            "workflowEnabled": False,
            "workflowApiToken": None,
            "createdAt": app["createdAt"],
            "creationMode": "DEFAULT",
            "updatedAt": app["createdAt"],
            "editingVersion": app_versions[-1],
            "components": components,
            "pages": pages,
            "events": [],
            "dataQueries": queries,
            "dataSources": [
                {
                    "id": d["id"],
                    "name": d["name"],
                    "kind": "postgresql",
                    "type": "default",
                    "scope": "global",
                    "organizationId": ws_id,
                }
                for d in state.data_sources.get(ws_id, [])
            ],
            "appVersions": app_versions,
            "appEnvironments": [
                {"id": e, "name": e, "isDefault": e == "development", "priority": i + 1}
                for i, e in enumerate(("development", "staging", "production"))
            ],
            "dataSourceOptions": [],
            "schemaDetails": {"multiPages": True, "multiEnv": True, "globalDataSources": True},
            "modules": [],
        }
        definition = {"appV2": app_v2}
    bundle: dict = {"tooljet_version": state.profile.version, "app": [{"definition": definition}]}
    if include_tjdb:
        bundle["tooljet_database"] = copy.deepcopy(state.tjdb.get(ws_id, []))
    return bundle


def stream_bundle(bundle: dict, pad_bytes: int) -> tuple[int, Iterator[bytes]]:
    """Serialise the bundle, streaming ``pad_bytes`` of padding in place of the sentinel, never all in memory.
    Returns (Content-Length, chunks): like NestJS's JSON answers, the export is not chunk-encoded."""
    text = json.dumps(bundle, ensure_ascii=False, separators=(",", ":"))
    marker = json.dumps(PAD_SENTINEL)[1:-1]
    head, _, tail = (part.encode() for part in text.partition(marker))

    def chunks() -> Iterator[bytes]:
        yield head
        block = ("// generated fixture data " + "x" * 1000 + "\\n") * (PAD_CHUNK // 1030)
        raw = block.encode()
        remaining = pad_bytes
        while remaining > 0:
            piece = raw[: min(remaining, len(raw))]
            if piece.endswith(b"\\"):
                piece = piece[:-1] + b"x"
            yield piece
            remaining -= len(piece)
        yield tail

    return len(head) + pad_bytes + len(tail), chunks()
