"""Field definitions moved to model/fields.py (below storage/); this name stays for crm's imports."""

from b24local.model.fields import *  # noqa: F403  (every name of the moved module, as before)
