"""Shared by the scale benchmarks: the cached synthetic data set and peak memory."""

from __future__ import annotations

import resource
import time
from pathlib import Path

HERE = Path(__file__).parent
DATA = HERE / ".data"
MODEL = HERE.parent / "src" / "leadgate" / "examples" / "b2b_saas.yaml"
FRAMES = ("accounts", "leads", "events", "outcomes")


def rss_mib() -> float:
    """Peak resident memory of this process so far, in MiB."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def generate(accounts: int, events_per_lead: float) -> Path:
    """Generate (once, then reuse) the data set as Parquet files; return its folder."""
    folder = DATA / f"synth_a{accounts}_e{events_per_lead:g}"
    if (folder / "done").exists():
        return folder
    from leadgate.synth import generate_dataset

    folder.mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()
    data = generate_dataset(
        accounts=accounts, leads_per_account=6.25, events_per_lead=events_per_lead, seed=11
    )
    for name in FRAMES:
        getattr(data, name).write_parquet(folder / f"{name}.parquet")
    (folder / "as_of").write_text(data.as_of.isoformat())
    (folder / "done").write_text("")
    print(
        f"generated {data.leads.height:,} leads, {data.events.height:,} events, "
        f"{data.outcomes.height:,} opportunities in {time.perf_counter() - start:.1f} s"
    )
    return folder
