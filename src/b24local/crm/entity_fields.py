"""The standard fields of leads, contacts, deals and companies (contract crud.md C1, C2).

Order, types, titles and flags follow what `crm.<entity>.fields` print on a portal (the example
responses in ../shared/b24-docs). User fields (``UF_*``) are not listed here, nor fields of modules
b24local lacks (quotes, locations, logos, smart-process parents).
"""

from __future__ import annotations

from b24local.model.fields import Field, multifield, ro


def address(
    prefix: str,
    first: str,
    *,
    line_2: str = "Address (Line 2)",
    place: str = "",
    location: str = "Location Address ID",
) -> tuple[Field, ...]:
    """The nine fields of one address (ADDRESS, ADDRESS_2, ..., ADDRESS_LOC_ADDR_ID)."""
    return (
        Field(prefix, "string", first),
        Field(f"{prefix}_2", "string", line_2),
        Field(f"{prefix}_CITY", "string", f"{place}City"),
        Field(f"{prefix}_POSTAL_CODE", "string", f"{place}Postal Code"),
        Field(f"{prefix}_REGION", "string", f"{place}Region"),
        Field(f"{prefix}_PROVINCE", "string", f"{place}Province"),
        Field(f"{prefix}_COUNTRY", "string", f"{place}Country"),
        Field(f"{prefix}_COUNTRY_CODE", "string", f"{place}Country Code"),
        Field(f"{prefix}_LOC_ADDR_ID", "integer", f"{place}{location}"),
    )


def utm(term: str) -> tuple[Field, ...]:
    """The five UTM fields; only the title of UTM_TERM differs between entities."""
    return (
        Field("UTM_SOURCE", "string", "Advertising System"),
        Field("UTM_MEDIUM", "string", "Traffic Type"),
        Field("UTM_CAMPAIGN", "string", "Campaign Identifier"),
        Field("UTM_CONTENT", "string", "Campaign Content"),
        Field("UTM_TERM", "string", term),
    )


MULTIFIELDS: tuple[Field, ...] = (
    multifield("PHONE", "Phone"),
    multifield("EMAIL", "E-mail"),
    multifield("WEB", "Website"),
    multifield("IM", "Messenger"),
    multifield("LINK", "LINK"),
)

LEAD_FIELDS: tuple[Field, ...] = (
    ro("ID", "integer", "ID"),
    Field("TITLE", "string", "Lead Title"),
    Field("HONORIFIC", "crm_status", "Salutation", status_type="HONORIFIC"),
    Field("NAME", "string", "First Name"),
    Field("SECOND_NAME", "string", "Middle Name"),
    Field("LAST_NAME", "string", "Last Name"),
    Field("BIRTHDATE", "date", "Birthdate"),
    Field("COMPANY_TITLE", "string", "Company Name"),
    Field("SOURCE_ID", "crm_status", "Source", status_type="SOURCE"),
    Field("SOURCE_DESCRIPTION", "string", "Source Description"),
    Field("STATUS_ID", "crm_status", "Stage", status_type="STATUS", default="NEW"),
    Field("STATUS_DESCRIPTION", "string", "Stage Description"),
    ro("STATUS_SEMANTIC_ID", "string", "Status Semantic"),
    Field("POST", "string", "Position"),
    *address("ADDRESS", "Address"),
    Field("CURRENCY_ID", "crm_currency", "Currency"),
    Field("OPPORTUNITY", "double", "Amount", default=0.0),  # a portal prints "0.00" when unset
    Field("IS_MANUAL_OPPORTUNITY", "char", "IS_MANUAL_OPPORTUNITY", default="N"),
    Field("OPENED", "char", "Available to All", default="Y"),
    Field("COMMENTS", "string", "Comments"),
    ro("HAS_PHONE", "char", "Phone Provided"),
    ro("HAS_EMAIL", "char", "Email Provided"),
    ro("HAS_IMOL", "char", "Open Line Assigned"),
    # Defaults to the caller on add; that is set by the method, not here.
    Field("ASSIGNED_BY_ID", "user", "Responsible User"),
    ro("CREATED_BY_ID", "user", "Created By"),
    ro("MODIFY_BY_ID", "user", "Modified By"),
    ro("MOVED_BY_ID", "user", "MOVED_BY_ID"),
    ro("DATE_CREATE", "datetime", "Creation Date"),
    ro("DATE_MODIFY", "datetime", "Modification Date"),
    ro("MOVED_TIME", "datetime", "MOVED_TIME"),
    Field("COMPANY_ID", "crm_company", "Company"),
    # The contact of the primary binding (lead-contact-bindings.md I2).
    Field(
        "CONTACT_ID",
        "crm_contact",
        "Contact",
        storage="computed",
        is_deprecated=True,
    ),
    Field(
        "CONTACT_IDS",
        "crm_contact",
        "CONTACT_IDS",
        storage="write_only",
        is_multiple=True,
    ),
    ro("IS_RETURN_CUSTOMER", "char", "Returning Lead"),
    ro("DATE_CLOSED", "datetime", "Closing Date"),
    Field("ORIGINATOR_ID", "string", "External Source"),
    Field("ORIGIN_ID", "string", "Identifier in External Source"),
    *utm("Campaign Search Term"),
    ro("LAST_ACTIVITY_TIME", "datetime", "LAST_ACTIVITY_TIME"),
    ro("LAST_ACTIVITY_BY", "user", "LAST_ACTIVITY_BY"),
    *MULTIFIELDS,
)

CONTACT_FIELDS: tuple[Field, ...] = (
    ro("ID", "integer", "ID"),
    Field("HONORIFIC", "crm_status", "Salutation", status_type="HONORIFIC"),
    # A portal prints all three name parts as required; the real rule (C2) is "NAME or
    # LAST_NAME non-empty", which add/update must check itself, not via is_required.
    Field("NAME", "string", "First Name", is_required=True),
    Field("SECOND_NAME", "string", "Middle Name", is_required=True),
    Field("LAST_NAME", "string", "Last Name", is_required=True),
    Field("BIRTHDATE", "date", "Birthdate"),
    Field(
        "TYPE_ID",
        "crm_status",
        "Contact Type",
        status_type="CONTACT_TYPE",
        default="CLIENT",
    ),
    Field("SOURCE_ID", "crm_status", "Source", status_type="SOURCE"),
    Field("SOURCE_DESCRIPTION", "string", "Additional Source Information"),
    Field("POST", "string", "Position"),
    *address("ADDRESS", "Address"),
    Field("COMMENTS", "string", "Comment"),
    Field("OPENED", "char", "Available to All", default="Y"),
    Field("EXPORT", "char", "Participates in Contact Export", default="Y"),
    ro("HAS_PHONE", "char", "Phone Set"),
    ro("HAS_EMAIL", "char", "E-mail Set"),
    ro("HAS_IMOL", "char", "Open Line Set"),
    # Defaults to the caller on add; that is set by the method, not here.
    Field("ASSIGNED_BY_ID", "user", "Responsible Person"),
    ro("CREATED_BY_ID", "user", "Created By"),
    ro("MODIFY_BY_ID", "user", "Modified By"),
    ro("DATE_CREATE", "datetime", "Creation Date"),
    ro("DATE_MODIFY", "datetime", "Modification Date"),
    # The company of the primary company binding.
    Field(
        "COMPANY_ID",
        "crm_company",
        "Company",
        storage="computed",
        is_deprecated=True,
    ),
    Field(
        "COMPANY_IDS",
        "crm_company",
        "COMPANY_IDS",
        storage="write_only",
        is_multiple=True,
    ),
    ro("LEAD_ID", "crm_lead", "Lead"),
    Field("ORIGINATOR_ID", "string", "External Source"),
    Field("ORIGIN_ID", "string", "Identifier in External Source"),
    Field("ORIGIN_VERSION", "string", "Original Version"),
    *utm("Campaign Search Condition"),
    ro("LAST_ACTIVITY_TIME", "datetime", "Last Activity"),
    ro("LAST_ACTIVITY_BY", "user", "Last Activity By"),
    *MULTIFIELDS,
)

DEAL_FIELDS: tuple[Field, ...] = (
    ro("ID", "integer", "ID"),
    # Empty on add: "Deal #<ID>", as on a portal (the service sets it).
    Field("TITLE", "string", "Title"),
    Field("TYPE_ID", "crm_status", "Type", status_type="DEAL_TYPE", default="SALE"),
    # The pipeline: fixed at add (the service ignores it on update, as a portal does).
    Field("CATEGORY_ID", "crm_category", "Sales Funnel", is_immutable=True, default=0),
    # Empty: the pipeline's first stage (the service sets it, crm.model.rules.DealStages).
    Field("STAGE_ID", "crm_status", "Deal Stage", status_type="DEAL_STAGE"),
    ro("STAGE_SEMANTIC_ID", "string", "Stage Group"),
    ro("IS_NEW", "char", "New Deal"),
    Field("IS_RECURRING", "char", "Recurring Deal", default="N"),
    Field("IS_RETURN_CUSTOMER", "char", "Repeat Deal", default="N"),
    Field("IS_REPEATED_APPROACH", "char", "Repeated Approach", default="N"),
    Field("PROBABILITY", "integer", "Probability"),
    Field("CURRENCY_ID", "crm_currency", "Currency"),
    Field("OPPORTUNITY", "double", "Amount", default=0.0),
    Field("IS_MANUAL_OPPORTUNITY", "char", "IS_MANUAL_OPPORTUNITY", default="N"),
    Field("TAX_VALUE", "double", "Tax Rate", default=0.0),
    Field("COMPANY_ID", "crm_company", "Company"),
    # The contact of the primary deal–contact binding (binding-family.md B2).
    Field("CONTACT_ID", "crm_contact", "Contact", storage="computed", is_deprecated=True),
    Field("CONTACT_IDS", "crm_contact", "Contacts", storage="write_only", is_multiple=True),
    # Empty on add: today and today + 7 days (the service sets them).
    Field("BEGINDATE", "date", "Start Date"),
    Field("CLOSEDATE", "date", "Close Date"),
    Field("OPENED", "char", "Available to All", default="Y"),
    # Follows the stage (crm.model.rules.DealStages).
    Field("CLOSED", "char", "Closed", default="N"),
    Field("COMMENTS", "string", "Comment"),
    Field("ASSIGNED_BY_ID", "user", "Responsible"),
    ro("CREATED_BY_ID", "user", "Created By"),
    ro("MODIFY_BY_ID", "user", "Modified By"),
    ro("MOVED_BY_ID", "user", "MOVED_BY_ID"),
    ro("DATE_CREATE", "datetime", "Creation Date"),
    ro("DATE_MODIFY", "datetime", "Modification Date"),
    ro("MOVED_TIME", "datetime", "MOVED_TIME"),
    Field("SOURCE_ID", "crm_status", "Source", status_type="SOURCE"),
    Field("SOURCE_DESCRIPTION", "string", "Additional Info about Source"),
    ro("LEAD_ID", "crm_lead", "Lead"),
    Field("ADDITIONAL_INFO", "string", "Additional Information"),
    Field("ORIGINATOR_ID", "string", "External Source"),
    Field("ORIGIN_ID", "string", "Identifier in External Source"),
    *utm("Campaign Search Condition"),
    ro("LAST_ACTIVITY_TIME", "datetime", "LAST_ACTIVITY_TIME"),
    ro("LAST_ACTIVITY_BY", "user", "LAST_ACTIVITY_BY"),
)

COMPANY_FIELDS: tuple[Field, ...] = (
    ro("ID", "integer", "ID"),
    Field("TITLE", "string", "Company Name", is_required=True),
    Field("COMPANY_TYPE", "crm_status", "Company Type", status_type="COMPANY_TYPE", default="CUSTOMER"),
    *address("ADDRESS", "Physical Address", line_2="Address (line 2)"),
    Field("ADDRESS_LEGAL", "string", "Legal Address"),
    # A portal titles it "Legal Address Location ID", not "... Location Address ID" (crm-company-fields.md).
    *address(
        "REG_ADDRESS",
        "Legal Address",
        line_2="Legal Address (line 2)",
        place="Legal Address ",
        location="Location ID",
    ),
    Field("BANKING_DETAILS", "string", "Banking Details"),
    Field("INDUSTRY", "crm_status", "Industry", status_type="INDUSTRY"),
    Field("EMPLOYEES", "crm_status", "Number of Employees", status_type="EMPLOYEES"),
    Field("CURRENCY_ID", "crm_currency", "Currency"),
    Field("REVENUE", "double", "Annual Revenue", default=0.0),
    Field("OPENED", "char", "Available to Everyone", default="Y"),
    Field("COMMENTS", "string", "Comment"),
    ro("HAS_PHONE", "char", "Phone Set"),
    ro("HAS_EMAIL", "char", "E-mail Set"),
    ro("HAS_IMOL", "char", "Open Line Set"),
    Field("IS_MY_COMPANY", "char", "My Company", default="N"),
    Field("ASSIGNED_BY_ID", "user", "Responsible Person"),
    ro("CREATED_BY_ID", "user", "Created By"),
    ro("MODIFY_BY_ID", "user", "Modified By"),
    ro("DATE_CREATE", "datetime", "Creation Date"),
    ro("DATE_MODIFY", "datetime", "Modification Date"),
    # The company's contacts on add/update; read with crm.company.contact.items.get (B2).
    Field("CONTACT_ID", "crm_contact", "Contact", storage="write_only", is_multiple=True),
    ro("LEAD_ID", "crm_lead", "Lead"),
    Field("ORIGINATOR_ID", "string", "External Source"),
    Field("ORIGIN_ID", "string", "Identifier in External Source"),
    Field("ORIGIN_VERSION", "string", "Original Version"),
    *utm("Campaign Search Term"),
    ro("LAST_ACTIVITY_TIME", "datetime", "Last Activity Time"),
    ro("LAST_ACTIVITY_BY", "user", "Last Activity Author"),
    *MULTIFIELDS,
)
