"""Company names and unique domains ("Northwind Analytics" -> ``northwindanalytics.com``)."""

from __future__ import annotations

import numpy as np
import polars as pl

from leadgate.synth._common import IntArray, choose, strings
from leadgate.synth.names import LAST_EMAIL, LAST_NAMES, email_part
from leadgate.synth.vocab import (
    BRAND_HEADS,
    BRAND_TAILS,
    COUNTRIES,
    COUNTRY_CODES,
    DOMAIN_SUFFIXES,
    INDUSTRIES,
    INDUSTRY_NAMES,
    PLACES,
    UNIVERSITY_FORMS,
)


def _flat(groups: list[tuple[str, ...]]) -> tuple[list[str], IntArray, IntArray]:
    """Concatenate word groups; return the words, each group's offset and its size."""
    sizes = np.array([len(g) for g in groups])
    offsets = np.concatenate([[0], np.cumsum(sizes)[:-1]])
    return [w for g in groups for w in g], offsets, sizes


def _pick_in_group(rng: np.random.Generator, group: IntArray, sizes: IntArray) -> IntArray:
    return (rng.random(len(group)) * sizes[group]).astype(np.int64)


def company_names(rng: np.random.Generator, industry: IntArray, country: IntArray) -> pl.DataFrame:
    """Company name, the letters its domain is made of and a TLD, for ordinary companies."""
    n = len(industry)
    nouns, noun_off, noun_size = _flat([i.nouns for i in INDUSTRIES])
    noun = noun_off[industry] + _pick_in_group(rng, industry, noun_size)
    head, tail = (
        choose(rng, np.ones(len(BRAND_HEADS)), n),
        choose(rng, np.ones(len(BRAND_TAILS)), n),
    )
    surname, place = choose(rng, np.ones(len(LAST_NAMES)), n), choose(rng, np.ones(len(PLACES)), n)
    # brand + noun, brand alone, surname + noun, "Surname & Surname"
    style = choose(rng, [0.60, 0.16, 0.15, 0.09], n)
    partner = choose(rng, np.ones(len(LAST_NAMES)), n)
    by_place = np.isin(industry, [INDUSTRY_NAMES.index("Government")])
    legal_words, legal_off, legal_size = _flat([ctry.legal for ctry in COUNTRIES])
    legal = legal_off[country] + _pick_in_group(rng, country, legal_size)
    has_legal = (rng.random(n) < 0.3) & ~by_place & (style < 2)
    tld_pick = rng.random(n)
    software = industry == INDUSTRY_NAMES.index("Software")
    own_tld = [i.tld or "" for i in INDUSTRIES]
    frame = pl.DataFrame(
        {
            "head": strings(BRAND_HEADS, head, "head"),
            "tail": strings(BRAND_TAILS, tail, "tail"),
            "noun": strings(nouns, noun, "noun"),
            "noun_d": strings([email_part(w) for w in nouns], noun, "noun_d"),
            "surname": strings(LAST_NAMES, surname, "surname"),
            "surname_d": strings(LAST_EMAIL, surname, "surname_d"),
            "partner": strings(LAST_NAMES, partner, "partner"),
            "partner_d": strings(LAST_EMAIL, partner, "partner_d"),
            "place": strings(PLACES, place, "place"),
            "legal": strings(legal_words, legal, "legal", mask=has_legal),
            "style": style,
            "by_place": by_place,
            "own_tld": strings(own_tld, industry, "own_tld"),
            "ctld": strings([ctry.tld for ctry in COUNTRIES], country, "ctld"),
            "tld_pick": tld_pick,
            "software": software,
            "us": country == COUNTRY_CODES.index("US"),
        }
    )
    brand = pl.col("head") + pl.col("tail").str.to_lowercase()
    core = (
        pl.when(pl.col("by_place"))
        .then(pl.col("place") + " " + pl.col("noun"))
        .when(pl.col("style") == 0)
        .then(brand + " " + pl.col("noun"))
        .when(pl.col("style") == 1)
        .then(brand)
        .when(pl.col("style") == 2)
        .then(pl.col("surname") + " " + pl.col("noun"))
        .otherwise(pl.col("surname") + " & " + pl.col("partner"))
    )
    base = (
        pl.when(pl.col("by_place"))
        .then(pl.col("place").str.to_lowercase() + pl.col("noun_d"))
        .when(pl.col("style") == 0)
        .then(brand.str.to_lowercase() + pl.col("noun_d"))
        .when(pl.col("style") == 1)
        .then(brand.str.to_lowercase())
        .when(pl.col("style") == 2)
        .then(pl.col("surname_d") + pl.col("noun_d"))
        .otherwise(pl.col("surname_d") + pl.col("partner_d"))
    )
    tld = (
        pl.when((pl.col("own_tld") == ".gov") & ~pl.col("us"))
        .then(pl.col("ctld"))
        .when(pl.col("own_tld") != "")
        .then(pl.col("own_tld"))
        .when(pl.col("software") & (pl.col("tld_pick") < 0.22))
        .then(pl.lit(".io"))
        .when(pl.col("tld_pick") < 0.6)
        .then(pl.lit(".com"))
        .otherwise(pl.col("ctld"))
    )
    return frame.select(
        pl.concat_str([core, pl.col("legal")], separator=" ", ignore_nulls=True).alias("name"),
        base.alias("base"),
        tld.alias("tld"),
    )


_UNIVERSITY_QUALIFIERS = ("", "North ", "South ", "East ", "West ", "Central ", "Mount ", "Lake ")


def university_names(rng: np.random.Generator, n: int) -> pl.DataFrame:
    """Name and domain letters of universities ("West Salem State University", westsalemstate)."""
    frame = pl.DataFrame(
        {
            "q": strings(_UNIVERSITY_QUALIFIERS, choose(rng, [6, 1, 1, 1, 1, 1, 1, 1], n), "q"),
            "place": strings(PLACES, choose(rng, np.ones(len(PLACES)), n), "place"),
            "form": choose(rng, [3, 3, 2, 1, 1], n),
        }
    )
    where = pl.col("q") + pl.col("place")
    name: pl.Expr = pl.lit(None, dtype=pl.String)
    base: pl.Expr = pl.lit(None, dtype=pl.String)
    for code, (pattern, suffix) in enumerate(UNIVERSITY_FORMS):
        hit = pl.col("form") == code
        name = pl.when(hit).then(pl.format(pattern, where)).otherwise(name)
        letters = where.str.to_lowercase().str.replace_all(" ", "", literal=True) + suffix
        base = pl.when(hit).then(letters).otherwise(base)
    return frame.select(name.alias("name"), base.alias("base"), pl.lit(".edu").alias("tld"))


def unique_domains(frame: pl.DataFrame) -> pl.Series:
    """``base + tld``, with a suffix ("hq", "group", ... then a number) on repeats."""
    k = len(DOMAIN_SUFFIXES)
    rank = pl.int_range(pl.len()).over("base", "tld")
    lap = (rank - 1) // k
    suffix = pl.lit(pl.Series(DOMAIN_SUFFIXES)).gather((rank - 1) % k)
    repeat = pl.concat_str(
        pl.col("base"),
        suffix,
        pl.when(lap > 0).then((lap + 1).cast(pl.String)).otherwise(pl.lit("")),
        pl.col("tld"),
    )
    first = pl.col("base") + pl.col("tld")
    domain = pl.when(rank == 0).then(first).otherwise(repeat)
    # A suffixed repeat can meet a real name ("northwind" + "group" vs. "Northwind Group"):
    # such rows get "-<row>", which nothing else contains.
    row = (pl.int_range(pl.len()) + 1).cast(pl.String)
    fallback = pl.concat_str(pl.col("base"), pl.lit("-"), row, pl.col("tld"))
    out = frame.with_columns(domain.alias("domain")).select(
        pl.when(pl.col("domain").is_first_distinct())
        .then(pl.col("domain"))
        .otherwise(fallback)
        .alias("domain")
    )
    return out["domain"]
