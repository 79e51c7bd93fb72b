"""Access control: keys, roles, a sales rep's own leads only, revocation, rate limits."""

from __future__ import annotations

from apikit import ACCOUNT, Api, api, lead_body, open_api

from leadgate.services.keys import revoke_key, split_token
from leadgate.storage import transaction

__all__ = ["api"]


def _two_owned_leads(api: Api) -> dict[str, str]:
    """Two MQLs owned by two different reps (round robin); returns lead → owner."""
    owners = {}
    beta = ACCOUNT | {"name": "Beta", "domain": "beta-example.com"}
    assert api.call("PUT", "/v1/accounts/beta", json=beta).status_code == 200
    other = {"account_id": "beta", "email": "bob@beta-example.com"}  # not at the owned account
    for lead_id, body in (("L1", lead_body("ada")), ("L2", lead_body("bob", **other))):
        api.call("PUT", f"/v1/leads/{lead_id}", json=body)
        ack = api.call("POST", "/v1/events", json=api.event(f"d-{lead_id}", lead_id)).json()
        owners[lead_id] = ack["lead"]["owner_id"]
    assert len(set(owners.values())) == 2, owners
    return owners


def test_a_sales_key_reads_and_acts_on_its_own_leads_only(api: Api) -> None:
    owners = _two_owned_leads(api)
    mine, theirs = owners["L1"], owners["L2"]
    assert api.call("GET", "/v1/leads/L1", who=mine).status_code == 200
    read = api.call("GET", "/v1/leads/L2", who=mine)
    assert read.status_code == 403
    assert read.json()["code"] == "forbidden"
    act = api.call("POST", "/v1/leads/L2/actions/accept", who=mine)
    assert act.status_code == 403
    outcome = api.call(
        "POST",
        "/v1/outcomes",
        who=mine,
        json={"opportunity_id": "o1", "lead_id": "L2", "amount": 100.0, "won": True},
    )
    assert outcome.status_code == 403
    # nothing happened to the other rep's lead
    assert api.call("GET", "/v1/leads/L2", who=theirs).json()["stage"] == "mql"
    assert api.call("POST", "/v1/leads/L1/actions/accept", who=mine).status_code == 200
    queue = api.call("GET", "/v1/queue", who=mine)
    assert queue.status_code == 200
    assert [item["lead_id"] for item in queue.json()["items"]] == ["L1"]
    other_queue = api.call("GET", "/v1/queue", who=mine, params={"owner_id": theirs})
    assert other_queue.status_code == 403


def test_what_each_role_may_do(api: Api) -> None:
    _two_owned_leads(api)
    ingest_read = api.call("GET", "/v1/leads/L1", who="ingest")
    assert ingest_read.status_code == 403
    assert "ingest" in ingest_read.json()["detail"]
    assert api.call("GET", "/v1/funnel", who="ingest").status_code == 403
    assert api.call("GET", "/v1/funnel", who="sdr_gale").status_code == 403
    assert api.call("GET", "/v1/funnel", who="revops").status_code == 200
    assert api.call("GET", "/v1/leads/L2", who="revops").status_code == 200
    assert api.call("PUT", "/v1/leads/L9", who="sdr_gale", json={}).status_code == 403
    assert api.call("POST", "/v1/admin/sla:sweep", who="revops").status_code == 403
    assert api.call("DELETE", "/v1/leads/L1", who="sdr_gale").status_code == 403
    assert api.call("GET", "/v1/queue", who="revops").status_code == 422  # whose queue?


def test_missing_bad_and_revoked_keys_are_refused(api: Api) -> None:
    missing = api.client.get("/v1/leads/L1")
    assert missing.status_code == 401
    assert missing.json()["code"] == "unauthenticated"
    assert missing.headers["www-authenticate"] == "Bearer"
    for token in ("nonsense", "lg_0123456789abcdef_" + "x" * 43):
        bad = api.client.get("/v1/leads/L1", headers={"Authorization": f"Bearer {token}"})
        assert bad.status_code == 401
        assert bad.json()["code"] == "invalid_key"
    assert api.call("GET", "/v1/queue", who="sdr_gale").status_code == 200
    parts = split_token(api.keys["sdr_gale"])
    assert parts is not None
    with transaction(api.engine) as conn:
        revoke_key(conn, parts[0], actor="test", now=api.clock())
    assert api.call("GET", "/v1/queue", who="sdr_gale").status_code == 401
    assert api.client.get("/v1/health").status_code == 200  # no key needed


def test_each_key_has_its_own_rate_limit(db_url: str) -> None:
    for limited in open_api(db_url, rate_limit_per_second=0.01, rate_limit_burst=3):
        statuses = [limited.call("GET", "/v1/queue", who="sdr_gale").status_code for _ in range(4)]
        assert statuses == [200, 200, 200, 429]
        refused = limited.call("GET", "/v1/queue", who="sdr_gale")
        assert refused.json()["code"] == "rate_limited"
        assert int(refused.headers["retry-after"]) >= 1
        assert limited.call("GET", "/v1/queue", who="sdr_harper").status_code == 200
