"""A method on Bitrix24's official list that b24local lacks: the portal's 404, marked by a header.

The body is a portal's for any unknown method; ``X-B24local-Not-Implemented: 1`` tells it from a typo
(docs/deviations.md, "Protocol"). ``tasks.task.add`` and ``im.message.add``: families b24local does not
plan to implement, so these tests stay stable while CRM grows.
"""

from __future__ import annotations

from tests.conftest import LiveServer
from tests.expected import METHOD_NOT_FOUND

HEADER = "x-b24local-not-implemented"
XML_TYPE = "text/xml; charset=utf-8"
XML_NOT_FOUND = (
    '<?xml version="1.0" encoding="utf-8"?><response><error>ERROR_METHOD_NOT_FOUND</error>'
    "<error_description>Method not found!</error_description></response>"
)


def test_listed_method_answers_404_with_the_header(server: LiveServer) -> None:
    for name in ("tasks.task.add", "im.message.add", "TASKS.Task.Add", "tasks.task.add.json"):
        response = server.call(name, {"fields": {"TITLE": "x"}})
        assert response.status == 404, name
        assert response.body == METHOD_NOT_FOUND, name
        assert response.headers.get(HEADER) == "1", name
    get = server.call("im.message.add", http_method="GET")
    assert (get.status, get.body, get.headers.get(HEADER)) == (404, METHOD_NOT_FOUND, "1")


def test_typo_answers_404_without_the_header(server: LiveServer) -> None:
    for name in ("crm.lead.addd", "tasks.task.ad", "nosuch"):
        response = server.call(name, {"fields": {"TITLE": "x"}})
        assert response.status == 404, name
        assert response.body == METHOD_NOT_FOUND, name
        assert HEADER not in response.headers, name


def test_implemented_method_has_no_header(server: LiveServer) -> None:
    response = server.call("crm.lead.fields")
    assert response.status == 200
    assert HEADER not in response.headers


def test_xml_form(server: LiveServer) -> None:
    listed = server.raw("POST", server.webhook_path + "tasks.task.add.xml", json={})
    assert listed.status_code == 404
    assert listed.headers["content-type"] == XML_TYPE
    assert listed.text == XML_NOT_FOUND
    assert listed.headers.get(HEADER) == "1"
    typo = server.raw("POST", server.webhook_path + "crm.lead.addd.xml", json={})
    assert typo.status_code == 404
    assert typo.text == XML_NOT_FOUND
    assert HEADER not in typo.headers


def test_credentials_are_checked_first(server: LiveServer) -> None:
    response = server.raw("POST", "/rest/tasks.task.add", json={"auth": "xyz"})
    assert response.status_code == 401
    assert response.json() == {
        "error": "invalid_token",
        "error_description": "The access token provided is invalid.",
    }
    assert HEADER not in response.headers


def test_inside_batch_the_error_has_no_header(server: LiveServer) -> None:
    response = server.call("batch", {"cmd": {"a": "tasks.task.add", "b": "crm.lead.addd"}})
    assert response.status == 200
    assert response.body["result"]["result_error"] == {"a": METHOD_NOT_FOUND, "b": METHOD_NOT_FOUND}
    assert HEADER not in response.headers
