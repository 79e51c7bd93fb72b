"""The built-in CRM mappings, in the same shape as a custom mapping file.

Source headers are matched ignoring case, spaces, underscores and dashes, and the first
header listed for a column that the file has wins, so one mapping reads both an API export
(``FirstName``) and a report export (``First Name``).
"""

from __future__ import annotations

from typing import Any, Final

# HubSpot's contact property "Number of Employees" is a range picked from a list; leadgate
# keeps the lower bound, which is what the range guarantees.
_HUBSPOT_EMPLOYEE_RANGES: Final = {
    "1-5": "1",
    "5-25": "5",
    "25-50": "25",
    "50-100": "50",
    "100-500": "100",
    "500-1000": "500",
    "1000+": "1000",
}

# Lifecycle stages by label and by internal value, in leadgate's stage words.
_HUBSPOT_LIFECYCLE: Final = {
    "Subscriber": "new",
    "Lead": "new",
    "Marketing Qualified Lead": "mql",
    "marketingqualifiedlead": "mql",
    "Sales Qualified Lead": "sql",
    "salesqualifiedlead": "sql",
    "Opportunity": "opportunity",
    "Customer": "won",
    "Evangelist": "won",
    "Other": "other",
}

BUILTIN_SPECS: Final[dict[str, dict[str, Any]]] = {
    "hubspot-contacts": {
        "name": "hubspot-contacts",
        "target": "leads",
        "description": "HubSpot contacts export (Contacts > Export, CSV)",
        "columns": {
            "Record ID": "lead_id",
            "Contact ID": "lead_id",
            "Email": "email",
            "First Name": "first_name",
            "Last Name": "last_name",
            "Job Title": "title",
            "Phone Number": "phone",
            "Mobile Phone Number": "phone",
            "Country/Region": "country",
            "Original Source": "source",
            "Create Date": "created_at",
            "Company Name": "company",
            "Associated Company": "company",
            "Company Domain Name": "company_domain",
            "Website URL": "company_domain",
            "Associated Company ID": "account_id",
            "Associated Company IDs (Primary)": "account_id",
            "Number of Employees": "employees",
            "Annual Revenue": "annual_revenue",
            "Industry": "industry",
            "Lifecycle Stage": "lifecycle_stage",
            "Lead Status": "crm_status",
            "Contact owner": "owner",
        },
        "rules": {
            "employees": {"values": _HUBSPOT_EMPLOYEE_RANGES},
            "lifecycle_stage": {"values": _HUBSPOT_LIFECYCLE},
        },
    },
    "hubspot-companies": {
        "name": "hubspot-companies",
        "target": "accounts",
        "description": "HubSpot companies export (Companies > Export, CSV)",
        "columns": {
            "Record ID": "account_id",
            "Company ID": "account_id",
            "Company name": "name",
            "Company Domain Name": "domain",
            "Website URL": "domain",
            "Industry": "industry",
            "Number of Employees": "employees",
            "Annual Revenue": "annual_revenue",
            "Country/Region": "country",
            "Company owner": "owner",
            "Create Date": "created_at",
        },
        "rules": {"employees": {"values": _HUBSPOT_EMPLOYEE_RANGES}},
    },
    "salesforce-leads": {
        "name": "salesforce-leads",
        "target": "leads",
        "description": "Salesforce Lead export (Data Loader, Data Export or a Leads report)",
        "columns": {
            "Id": "lead_id",
            "Lead ID": "lead_id",
            "Email": "email",
            "FirstName": "first_name",
            "LastName": "last_name",
            "Title": "title",
            "Company": "company",
            "Company / Account": "company",
            "Website": "company_domain",
            "Phone": "phone",
            "Country": "country",
            "LeadSource": "source",
            "CreatedDate": "created_at",
            "Create Date": "created_at",
            "NumberOfEmployees": "employees",
            "No. of Employees": "employees",
            "AnnualRevenue": "annual_revenue",
            "Industry": "industry",
            "Status": "crm_status",
            "Lead Status": "crm_status",
            "OwnerId": "owner",
            "Lead Owner": "owner",
        },
    },
    "salesforce-contacts": {
        "name": "salesforce-contacts",
        "target": "leads",
        "description": "Salesforce Contact export (Data Loader, Data Export or a Contacts report)",
        "columns": {
            "Id": "lead_id",
            "Contact ID": "lead_id",
            "AccountId": "account_id",
            "Email": "email",
            "FirstName": "first_name",
            "LastName": "last_name",
            "Title": "title",
            "Phone": "phone",
            "MailingCountry": "country",
            "LeadSource": "source",
            "CreatedDate": "created_at",
            "Account Name": "company",
            "OwnerId": "owner",
            "Contact Owner": "owner",
        },
    },
}
