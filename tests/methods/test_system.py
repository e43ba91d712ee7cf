"""System methods (scope basic): exact bodies, and lists that follow the method registry."""

from __future__ import annotations

from tests.conftest import LiveServer
from tests.expected import INSUFFICIENT_SCOPE, ISO_DATETIME

CRM_METHODS = [
    "crm.company.add",
    "crm.company.contact.add",
    "crm.company.contact.delete",
    "crm.company.contact.fields",
    "crm.company.contact.items.delete",
    "crm.company.contact.items.get",
    "crm.company.contact.items.set",
    "crm.company.delete",
    "crm.company.fields",
    "crm.company.get",
    "crm.company.list",
    "crm.company.update",
    "crm.contact.add",
    "crm.contact.company.add",
    "crm.contact.company.delete",
    "crm.contact.company.fields",
    "crm.contact.company.items.delete",
    "crm.contact.company.items.get",
    "crm.contact.company.items.set",
    "crm.contact.delete",
    "crm.contact.fields",
    "crm.contact.get",
    "crm.contact.list",
    "crm.contact.update",
    "crm.deal.add",
    "crm.deal.contact.add",
    "crm.deal.contact.delete",
    "crm.deal.contact.fields",
    "crm.deal.contact.items.delete",
    "crm.deal.contact.items.get",
    "crm.deal.contact.items.set",
    "crm.deal.delete",
    "crm.deal.fields",
    "crm.deal.get",
    "crm.deal.list",
    "crm.deal.update",
    "crm.lead.add",
    "crm.lead.contact.add",
    "crm.lead.contact.delete",
    "crm.lead.contact.fields",
    "crm.lead.contact.items.delete",
    "crm.lead.contact.items.get",
    "crm.lead.contact.items.set",
    "crm.lead.delete",
    "crm.lead.fields",
    "crm.lead.get",
    "crm.lead.list",
    "crm.lead.update",
]
BASIC_METHODS = [
    "app.info",
    "batch",
    "method.get",
    "methods",
    "profile",
    "scope",
    "server.time",
    "user.admin",
    "user.current",
]


def test_scope(server: LiveServer) -> None:
    assert server.call("scope").result == ["crm"]
    # Only scopes that have methods: b24local has none of scope user (issue 16).
    assert server.call("scope", {"full": True}).result == ["crm"]
    assert server.call("scope", {"full": "Y"}).result == ["crm"]
    user_only = server.add_user(scopes=("user",))
    assert server.call("scope", webhook=user_only).result == ["user"]


def test_methods(server: LiveServer) -> None:
    assert server.call("methods").result == sorted(BASIC_METHODS + CRM_METHODS)
    assert server.call("methods", {"full": "true"}).result == sorted(BASIC_METHODS + CRM_METHODS)
    assert server.call("methods", {"scope": "crm"}).result == CRM_METHODS
    assert server.call("methods", {"scope": ""}).result == BASIC_METHODS
    user_only = server.add_user(scopes=("user",))
    assert server.call("methods", webhook=user_only).result == BASIC_METHODS


def test_method_get(server: LiveServer) -> None:
    assert server.call("method.get", {"name": "crm.lead.contact.items.set"}).result == {
        "isExisting": True,
        "isAvailable": True,
    }
    assert server.call("method.get", {"name": "CRM.Lead.Get"}).result == {
        "isExisting": True,
        "isAvailable": True,
    }
    assert server.call("method.get", {"name": "crm.quote.get"}).result == {
        "isExisting": False,
        "isAvailable": False,
    }
    assert server.call("method.get").result == {"isExisting": False, "isAvailable": False}
    user_only = server.add_user(scopes=("user",))
    assert server.call("method.get", {"name": "crm.lead.get"}, webhook=user_only).result == {
        "isExisting": True,
        "isAvailable": False,
    }


def test_server_time(server: LiveServer) -> None:
    assert ISO_DATETIME.match(server.call("server.time").result)


def test_profile_user_current_user_admin(server: LiveServer) -> None:
    assert server.call("profile").result == {
        "ID": "1",
        "ADMIN": True,
        "NAME": "Admin",
        "LAST_NAME": "",
        "PERSONAL_GENDER": "",
        "TIME_ZONE": "",
    }
    assert server.call("user.admin").result is True
    other = server.add_user("Olga", scopes=("user",))
    user_id = other.split("/rest/")[1].split("/")[0]
    assert server.call("user.admin", webhook=other).result is False
    assert server.call("user.current", webhook=other).result == {
        "ID": user_id,
        "XML_ID": None,
        "ACTIVE": True,
        "NAME": "Olga",
        "LAST_NAME": "",
        "SECOND_NAME": "",
        "EMAIL": "",
        "PERSONAL_GENDER": "",
        "IS_ONLINE": "Y",
        "TIME_ZONE": "",
        "UF_DEPARTMENT": [],
        "USER_TYPE": "employee",
    }


def test_app_info_needs_an_application(server: LiveServer) -> None:
    reply = server.call("app.info")
    assert (reply.status, reply.body) == (
        400,
        {"error": "ACCESS_DENIED", "error_description": "Access denied! Application context required"},
    )


def test_basic_methods_need_no_scope(server: LiveServer) -> None:
    user_only = server.add_user(scopes=("user",))
    for name in ("scope", "methods", "method.get", "server.time", "profile", "user.current", "user.admin"):
        assert server.call(name, webhook=user_only).status == 200, name
    reply = server.call("crm.lead.fields", webhook=user_only)
    assert (reply.status, reply.body) == (
        403,
        INSUFFICIENT_SCOPE,
    )
