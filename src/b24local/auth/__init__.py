"""Authentication: webhooks now; OAuth 2.0 applications, scopes and limits build on the same context."""
