"""CRM domain rules, free of HTTP: entities and fields, the binding engine, permissions."""
