"""b24local: a self-hosted server speaking the Bitrix24 REST protocol for CRM."""

__version__ = "0.1.0"
