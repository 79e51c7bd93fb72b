"""What events look like: event types, URLs, forms, assets and features, and their mixes."""

from __future__ import annotations

from leadgate.synth._common import words

EVENT_TYPES: tuple[str, ...] = (
    "page_view",
    "email_open",
    "email_click",
    "email_bounce",
    "unsubscribe",
    "form_submit",
    "content_download",
    "webinar_registered",
    "webinar_attended",
    "trial_started",
    "product_login",
    "feature_used",
    "teammate_invited",
    "integration_connected",
)
PAGE_VIEW, EMAIL_OPEN, EMAIL_CLICK, EMAIL_BOUNCE, UNSUBSCRIBE, FORM_SUBMIT = range(6)
CONTENT_DOWNLOAD, TRIAL_STARTED, FEATURE_USED = 6, 9, 11
EMAIL_TYPES = (EMAIL_OPEN, EMAIL_CLICK, EMAIL_BOUNCE, UNSUBSCRIBE)

FORMS: tuple[str, ...] = (
    "demo_request",
    "contact_sales",
    "newsletter",
    "content_gate",
    "free_trial",
)
DEMO_REQUEST, CONTACT_SALES, FREE_TRIAL = 0, 1, 4
ASSETS: tuple[str, ...] = ("case_study", "whitepaper", "ebook", "report")
FEATURES: tuple[str, ...] = ("dashboards", "api", "integrations", "workflows", "reports")
RIVALS: tuple[str, ...] = ("rivalscore", "leadlytics", "qualifyhq")
_BLOG = words(
    "lead-scoring-101 what-is-an-mql bant-vs-meddic pipeline-velocity revops-playbook"
    " intent-data-explained account-based-marketing sales-marketing-alignment"
    " predictive-lead-scoring buyer-journey-stages how-to-build-an-icp demand-gen-benchmarks"
    " attribution-models-compared forecasting-accuracy churn-signals product-qualified-leads"
    " crm-data-hygiene sdr-handoff win-loss-analysis marketing-ops-stack"
)
_CASE_STUDIES = words(
    "northwind acme-cloud bluepeak globex initech umbrella-health stark-logistics"
)
_DOCS = words(
    "getting-started api-reference salesforce-integration hubspot-integration webhooks"
    " scoring-models sso data-retention csv-import warehouse-sync"
)

# Each URL with its weight in ordinary browsing and during a buying burst.
_PAGES: tuple[tuple[str, float, float], ...] = (
    ("/", 12.0, 2.0),
    ("/product", 7.0, 6.0),
    ("/pricing", 5.0, 28.0),
    ("/demo", 0.8, 10.0),
    ("/roi-calculator", 0.7, 8.0),
    ("/about", 3.0, 1.0),
    ("/careers", 3.5, 0.0),
    *((f"/blog/{s}", 34.0 / (i + 2) ** 0.8 / 5.0, 0.1) for i, s in enumerate(_BLOG)),
    *((f"/product/{f}", 1.0, 2.8) for f in FEATURES),
    *((f"/compare/{r}", 0.5, 4.7) for r in RIVALS),
    *(
        (f"/case-studies/{s}", 3.0 / len(_CASE_STUDIES), 12.0 / len(_CASE_STUDIES))
        for s in _CASE_STUDIES
    ),
    *((f"/docs/{s}", 8.0 / len(_DOCS), 6.0 / len(_DOCS)) for s in _DOCS),
)
URLS: tuple[str, ...] = tuple(p[0] for p in _PAGES)
URL_WEIGHTS_BASE: tuple[float, ...] = tuple(p[1] for p in _PAGES)
URL_WEIGHTS_BURST: tuple[float, ...] = tuple(p[2] for p in _PAGES)

# Mixes of event types (weights over EVENT_TYPES) for ordinary engagement and for bursts.
TYPE_WEIGHTS_BASE: tuple[float, ...] = (55, 28.5, 7.5, 0.7, 0.45, 1.2, 2.0, 1.0, 0.3, 0, 0, 0, 0, 0)
TYPE_WEIGHTS_BURST: tuple[float, ...] = (72, 4, 8, 0, 0, 5, 6, 2, 3, 0, 0, 0, 0, 0)
TYPE_WEIGHTS_PRODUCT: tuple[float, ...] = (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 57.7, 38.5, 2.4, 1.4)
FORM_WEIGHTS_BASE: tuple[float, ...] = (2, 3, 45, 50, 0)
FORM_WEIGHTS_BURST: tuple[float, ...] = (25, 15, 10, 50, 0)
ASSET_WEIGHTS_BASE: tuple[float, ...] = (10, 35, 35, 20)
ASSET_WEIGHTS_BURST: tuple[float, ...] = (60, 15, 10, 15)
FEATURE_WEIGHTS: tuple[float, ...] = (35, 10, 15, 15, 25)
