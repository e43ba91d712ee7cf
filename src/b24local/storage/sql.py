"""The SQL transaction both backends share, made of one part per concern of the storage port.

A backend (sqlite.py, postgres.py) subclasses :class:`SqlTransaction`, sets ``ph`` (its placeholder),
``compiler`` and ``_ROLE_ASSIGN``, and fills in the hooks of :class:`~b24local.storage.sql_base.SqlBase`.
"""

from __future__ import annotations

from b24local.storage.sql_auth import OAuthSql, UserSql
from b24local.storage.sql_compiler import SqlCompiler
from b24local.storage.sql_crm import CrmSql, access_columns, access_from, bindings_from_rows
from b24local.storage.sql_faults import FaultSql
from b24local.storage.sql_journal import JournalSql
from b24local.storage.sql_limits import LimitSql
from b24local.storage.sql_roles import RoleSql
from b24local.storage.sql_seed import SeedSql

__all__ = [
    "SqlCompiler",
    "SqlTransaction",
    "access_columns",
    "access_from",
    "bindings_from_rows",
]


class SqlTransaction(UserSql, OAuthSql, LimitSql, FaultSql, RoleSql, CrmSql, SeedSql, JournalSql):
    """The :class:`~b24local.storage.base.Transaction` methods both SQL backends share."""
