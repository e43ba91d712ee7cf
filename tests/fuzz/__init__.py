"""A bounded fuzz test over every registered method and every encoding (issue 14, `make fuzz`)."""
