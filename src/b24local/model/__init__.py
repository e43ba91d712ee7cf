"""The CRM model's types, below both crm/ and storage/: fields, entity and binding types, the list
query and its page. The declarations (LEAD, CONTACT, LEAD_CONTACT, their fields) stay in crm/."""
