"""The test portal's own surface under ``/_b24local/`` (contract test-portal.md): no Bitrix24 client
calls it. surface.py routes it and checks the admin token (T2); health.py is T1."""
