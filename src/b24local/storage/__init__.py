"""Storage: one interface (``base``), implementations per database, and their migrations."""
