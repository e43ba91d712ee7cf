"""GET /_b24local/openapi.json: a valid OpenAPI 3.1 document of /rest/, generated from the registry,
whose schemas the server's real answers conform to."""

from __future__ import annotations

import copy
from typing import Any

import jsonschema_rs
import orjson
import pytest
import schemathesis

from b24local.methods import openapi
from b24local.methods.families import load_all
from tests.conftest import LiveServer

pytestmark = pytest.mark.sqlite_only  # the document does not depend on the storage

WEBHOOK_LIST = "/rest/{user_id}/{webhook_code}/crm.lead.list"
ERROR_STATUSES = ["400", "401", "403", "413", "429", "500", "503"]


def document() -> dict[str, Any]:
    return openapi.build(load_all())


def success_schema(doc: dict[str, Any], path: str) -> dict[str, Any]:
    """The 200 body schema of POST ``path``, with the components its references point into."""
    schema = doc["paths"][path]["post"]["responses"]["200"]["content"]["application/json"]["schema"]
    return {**schema, "components": doc["components"]}


def test_served_without_credentials_as_built(server: LiveServer) -> None:
    response = server.raw("GET", "/_b24local/openapi.json")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json; charset=utf-8"
    assert orjson.loads(response.content) == document()
    head = server.raw("HEAD", "/_b24local/openapi.json")
    assert (head.status_code, head.content) == (200, b"")
    assert head.headers["content-length"] == response.headers["content-length"]


def test_other_http_methods_are_refused(server: LiveServer) -> None:
    response = server.raw("POST", "/_b24local/openapi.json", json={})
    assert response.status_code == 405
    assert response.headers["allow"] == "GET, HEAD"
    assert response.json() == {"error": "METHOD_NOT_ALLOWED", "error_description": "Use GET"}


def test_document_is_valid_openapi_3_1() -> None:
    doc = document()
    assert doc["openapi"] == "3.1.0"
    schemathesis.openapi.from_dict(copy.deepcopy(doc)).validate()
    broken = copy.deepcopy(doc)
    broken["paths"][WEBHOOK_LIST]["get"]["parameters"][0]["in"] = "body"  # not a location in 3.1
    with pytest.raises(jsonschema_rs.ValidationError):
        schemathesis.openapi.from_dict(broken).validate()


def test_every_method_has_a_webhook_and_an_oauth_path() -> None:
    doc = document()
    names = sorted(load_all())
    assert {"batch", "crm.lead.list", "crm.lead.contact.items.set"} <= set(names)
    assert sorted(doc["paths"]) == sorted(
        [f"/rest/{{user_id}}/{{webhook_code}}/{n}" for n in names] + [f"/rest/{n}" for n in names]
    )
    for item in doc["paths"].values():
        assert sorted(item) in (["get", "parameters", "post"], ["get", "post"])
    oauth = doc["paths"]["/rest/crm.lead.list"]["post"]
    assert oauth["security"] == [{"oauthToken": []}]
    assert doc["components"]["securitySchemes"]["oauthToken"]["in"] == "query"
    assert doc["components"]["securitySchemes"]["oauthToken"]["name"] == "auth"
    assert doc["paths"][WEBHOOK_LIST]["parameters"] == [
        {"$ref": "#/components/parameters/UserId"},
        {"$ref": "#/components/parameters/WebhookCode"},
    ]


def test_crm_lead_list_parameters() -> None:
    get = document()["paths"][WEBHOOK_LIST]["get"]
    shapes = [(p["name"], p.get("style"), p["schema"]["type"]) for p in get["parameters"]]
    assert shapes == [
        ("select[]", "form", "array"),
        ("filter", "deepObject", "object"),
        ("order", "deepObject", "object"),
        ("start", None, "integer"),
    ]
    order = get["parameters"][2]["schema"]
    assert order["additionalProperties"] == {"type": "string", "enum": ["ASC", "DESC"]}
    assert "PHONE" not in order["propertyNames"]["enum"]  # multifields do not sort
    body = document()["paths"][WEBHOOK_LIST]["post"]["requestBody"]
    assert sorted(body["content"]) == ["application/json", "application/x-www-form-urlencoded"]
    json_body = body["content"]["application/json"]["schema"]
    assert sorted(json_body["properties"]) == ["filter", "order", "select", "start"]
    assert "required" not in json_body
    assert body["content"]["application/x-www-form-urlencoded"]["encoding"] == {
        "select": {"style": "deepObject", "explode": True},
        "filter": {"style": "deepObject", "explode": True},
        "order": {"style": "deepObject", "explode": True},
    }


def test_crm_lead_list_result_and_errors() -> None:
    doc = document()
    responses = doc["paths"][WEBHOOK_LIST]["post"]["responses"]
    assert sorted(responses) == sorted(["200", *ERROR_STATUSES])
    assert responses["401"] == {"$ref": "#/components/responses/Unauthorized"}
    envelope = responses["200"]["content"]["application/json"]["schema"]
    assert envelope["required"] == ["result", "time", "total"]
    assert envelope["properties"]["result"] == {
        "type": "array",
        "items": {"$ref": "#/components/schemas/Lead"},
    }
    assert envelope["properties"]["time"] == {"$ref": "#/components/schemas/Time"}
    assert envelope["properties"]["next"]["type"] == "integer"
    assert envelope["additionalProperties"] is False
    lead = doc["components"]["schemas"]["Lead"]
    assert lead["required"] == ["ID"]
    assert lead["properties"]["ID"] == {"type": ["string", "null"], "pattern": "^-?[0-9]+$", "title": "ID"}
    assert lead["properties"]["OPENED"]["enum"] == ["Y", "N", None]
    assert "CONTACT_IDS" not in lead["properties"]  # write-only
    error = doc["components"]["schemas"]["Error"]
    assert error["required"] == ["error", "error_description"]


def test_statuses_follow_scope_and_kind() -> None:
    paths = document()["paths"]

    def statuses(method: str) -> list[str]:
        return sorted(s for s in paths[f"/rest/{method}"]["get"]["responses"] if s != "200")

    assert statuses("crm.lead.get") == ERROR_STATUSES
    assert statuses("profile") == ["400", "401", "413", "429", "500", "503"]  # basic: no scope check
    assert statuses("batch") == ["400", "401", "413", "500", "503"]  # its commands are accounted


def test_lead_fields_input_is_typed_from_the_field_definitions() -> None:
    doc = document()
    fields = doc["components"]["schemas"]["LeadFields"]["properties"]
    assert fields["TITLE"] == {"type": "string", "title": "Lead Title"}
    assert fields["OPPORTUNITY"] == {"type": "number", "title": "Amount"}
    assert fields["OPENED"] == {"type": "string", "enum": ["Y", "N"], "title": "Available to All"}
    assert fields["BIRTHDATE"] == {"type": "string", "format": "date", "title": "Birthdate"}
    assert fields["CONTACT_IDS"]["items"]["type"] == "integer"
    assert fields["PHONE"]["items"] == {"$ref": "#/components/schemas/MultifieldInput"}
    assert "DATE_CREATE" not in fields  # read-only
    # In a query string only one level of scalars: the multifields and CONTACT_IDS are left out.
    get = doc["paths"]["/rest/crm.lead.add"]["get"]
    query_fields = next(p for p in get["parameters"] if p["name"] == "fields")
    assert "PHONE" not in query_fields["schema"]["properties"]
    assert "TITLE" in query_fields["schema"]["properties"]
    items_set = doc["paths"]["/rest/crm.lead.contact.items.set"]["get"]
    assert [p["name"] for p in items_set["parameters"]] == ["id"]  # items: a list of objects, body only


def test_a_new_contact_needs_a_name_or_a_last_name() -> None:
    doc = document()
    body = doc["paths"]["/rest/crm.contact.add"]["post"]["requestBody"]["content"]["application/json"]
    assert body["schema"]["properties"]["fields"]["$ref"] == "#/components/schemas/NewContactFields"
    assert doc["components"]["schemas"]["NewContactFields"] == {
        "allOf": [{"$ref": "#/components/schemas/ContactFields"}],
        "anyOf": [
            {"required": ["NAME"], "properties": {"NAME": {"type": "string", "pattern": "\\S"}}},
            {"required": ["LAST_NAME"], "properties": {"LAST_NAME": {"type": "string", "pattern": "\\S"}}},
        ],
    }
    update = doc["paths"]["/rest/crm.contact.update"]["post"]["requestBody"]["content"]["application/json"]
    assert update["schema"]["properties"]["fields"]["$ref"] == "#/components/schemas/ContactFields"
    get = doc["paths"]["/rest/crm.contact.add"]["get"]
    query_fields = next(p for p in get["parameters"] if p["name"] == "fields")
    assert (query_fields["style"], query_fields["schema"]["type"]) == ("deepObject", "object")
    assert len(query_fields["schema"]["anyOf"]) == 2


def conforms(doc: dict[str, Any], path: str, body: Any) -> None:
    jsonschema_rs.validator_for(success_schema(doc, path)).validate(body)


def test_real_answers_conform(server: LiveServer) -> None:
    doc = document()

    def check(method: str, params: dict[str, Any]) -> Any:
        response = server.call(method, params)
        assert response.status == 200, response.body
        conforms(doc, f"/rest/{{user_id}}/{{webhook_code}}/{method}", response.body)
        return response.body["result"]

    fields = {
        "TITLE": "OpenAPI",
        "OPPORTUNITY": 12.5,
        "BIRTHDATE": "1990-05-03",
        "PHONE": [{"VALUE": "+100", "VALUE_TYPE": "WORK"}],
    }
    lead_id = check("crm.lead.add", {"fields": fields})
    contact_id = check("crm.contact.add", {"fields": {"NAME": "Ann"}})
    check("crm.lead.contact.add", {"id": lead_id, "fields": {"CONTACT_ID": contact_id}})
    assert check("crm.lead.get", {"id": lead_id})["CONTACT_ID"] == str(contact_id)
    check("crm.lead.list", {"filter": {"ID": lead_id}, "select": ["*", "PHONE"]})
    check("crm.lead.contact.items.get", {"id": lead_id})
    for method in ("crm.lead.fields", "crm.contact.fields", "crm.lead.contact.fields", "profile"):
        check(method, {})
    for method in ("user.current", "server.time", "scope", "methods", "user.admin"):
        check(method, {})
    result = check("batch", {"cmd": {"a": f"crm.lead.get?id={lead_id}", "b": "nope"}})
    assert sorted(result["result_error"]) == ["b"]


def test_an_answer_that_breaks_its_schema_is_caught() -> None:
    doc = document()
    path = "/rest/{user_id}/{webhook_code}/crm.lead.get"
    time = {k: 0 for k in ("start", "finish", "duration", "processing", "operating_reset_at", "operating")}
    time |= {"date_start": "2024-05-03T17:19:01+03:00", "date_finish": "2024-05-03T17:19:01+03:00"}
    conforms(doc, path, {"result": {"ID": "7"}, "time": time})
    with pytest.raises(jsonschema_rs.ValidationError):
        conforms(doc, path, {"result": {"ID": 7}, "time": time})  # ids are printed as strings (C4)
