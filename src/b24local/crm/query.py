"""The list query moved to model/query.py (below storage/); this name stays for crm's imports."""

from b24local.model.query import *  # noqa: F403  (every name of the moved module, as before)
