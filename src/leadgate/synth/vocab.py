"""Word lists the generator draws from: countries, industries, company and place words."""

from __future__ import annotations

from typing import NamedTuple

from leadgate.synth._common import words


class Country(NamedTuple):
    """A country the fake companies and leads are spread over."""

    code: str
    weight: float
    tld: str
    dial: str
    legal: tuple[str, ...]


COUNTRIES: tuple[Country, ...] = (
    Country("US", 38.0, ".com", "+1", ("Inc.", "LLC", "Corp.")),
    Country("GB", 9.0, ".co.uk", "+44", ("Ltd", "plc")),
    Country("DE", 8.0, ".de", "+49", ("GmbH", "AG")),
    Country("FR", 5.0, ".fr", "+33", ("SAS", "SA")),
    Country("CA", 5.0, ".ca", "+1", ("Inc.", "Ltd.")),
    Country("IN", 4.5, ".in", "+91", ("Pvt Ltd",)),
    Country("NL", 4.0, ".nl", "+31", ("B.V.",)),
    Country("AU", 4.0, ".com.au", "+61", ("Pty Ltd",)),
    Country("BR", 2.8, ".com.br", "+55", ("Ltda",)),
    Country("SE", 2.5, ".se", "+46", ("AB",)),
    Country("ES", 2.5, ".es", "+34", ("S.L.", "S.A.")),
    Country("JP", 2.2, ".co.jp", "+81", ("K.K.",)),
    Country("SG", 2.0, ".sg", "+65", ("Pte Ltd",)),
    Country("IT", 2.0, ".it", "+39", ("S.r.l.", "S.p.A.")),
    Country("CH", 1.5, ".ch", "+41", ("AG", "SA")),
    Country("IE", 1.5, ".ie", "+353", ("Ltd",)),
    Country("MX", 1.3, ".com.mx", "+52", ("S.A. de C.V.",)),
    Country("PL", 1.2, ".pl", "+48", ("sp. z o.o.",)),
    Country("DK", 1.0, ".dk", "+45", ("A/S", "ApS")),
    Country("BE", 1.0, ".be", "+32", ("NV", "SRL")),
    Country("IL", 1.0, ".co.il", "+972", ("Ltd",)),
    Country("NO", 0.8, ".no", "+47", ("AS",)),
    Country("FI", 0.8, ".fi", "+358", ("Oy",)),
    Country("AT", 0.8, ".at", "+43", ("GmbH",)),
    Country("ZA", 0.8, ".co.za", "+27", ("(Pty) Ltd",)),
    Country("NZ", 0.6, ".co.nz", "+64", ("Ltd",)),
    Country("AE", 0.6, ".ae", "+971", ("LLC", "FZ-LLC")),
)
COUNTRY_CODES: tuple[str, ...] = tuple(c.code for c in COUNTRIES)
COUNTRY_WEIGHTS: tuple[float, ...] = tuple(c.weight for c in COUNTRIES)


class Industry(NamedTuple):
    """An industry with its share, typical size, revenue per employee and name words."""

    name: str
    weight: float
    median_employees: float
    revenue_per_employee: float
    tld: str | None
    nouns: tuple[str, ...]


# name; weight; median employees; revenue per employee (USD); own TLD; company-name nouns
_INDUSTRY_TABLE = """
Software;22;60;210000;;Software|Analytics|Labs|Systems|Cloud|AI|Technologies|Data|Digital|Apps
Financial Services;10;120;380000;;Capital|Financial|Payments|Wealth|Advisors|Credit|Bank
Healthcare;8;150;160000;;Health|Medical|Care|Clinics|Therapeutics|Diagnostics|Biosciences
Manufacturing;10;180;260000;;Manufacturing|Industries|Components|Machinery|Materials|Tools
Retail;7;80;190000;;Retail|Stores|Outfitters|Market|Goods|Brands|Apparel
Education;4;90;90000;;Learning|Academy|Education|Tutoring|Schools
Logistics;5;120;230000;;Logistics|Freight|Shipping|Transport|Distribution|Cargo
Media;5;50;220000;;Media|Studios|Publishing|Entertainment|Broadcasting|Creative
Telecommunications;3;300;420000;;Telecom|Networks|Communications|Mobile|Fiber|Wireless
Professional Services;11;40;160000;;Consulting|Advisory|Partners|Associates|Solutions|Group
Government;2.5;400;130000;.gov;County|City Council|Transit Authority|Water Authority|Library
Energy;2.5;250;650000;;Energy|Power|Utilities|Solar|Renewables|Petroleum
Insurance;3.5;200;420000;;Insurance|Assurance|Mutual|Underwriters|Insurance Group
Real Estate;3.5;30;310000;;Properties|Realty|Estates|Homes|Real Estate|Property Group
Non-profit;2.5;25;70000;.org;Foundation|Trust|Alliance|Society|Fund|Institute
"""


def _industry(line: str) -> Industry:
    name, weight, median, rpe, tld, nouns = line.split(";")
    return Industry(
        name, float(weight), float(median), float(rpe), tld or None, tuple(nouns.split("|"))
    )


INDUSTRIES: tuple[Industry, ...] = tuple(
    _industry(line) for line in _INDUSTRY_TABLE.strip().splitlines()
)
INDUSTRY_NAMES: tuple[str, ...] = tuple(i.name for i in INDUSTRIES)
EDUCATION = INDUSTRY_NAMES.index("Education")

# Two halves of invented brand names: "North" + "wind" -> "Northwind".
BRAND_HEADS: tuple[str, ...] = words(
    "North South East West Blue Red Green Silver Gold Iron Stone Clear Bright High Deep Swift"
    " True Prime Open Bold Cedar Maple Oak Pine Willow Aspen Summit Harbor River Lake Sun"
    " Star Moon Cloud Storm Frost Ember Falcon Eagle Fox Wolf Lumen Nova Terra Aero Vertex"
    " Apex Zen Quantum Pixel Hyper Cobalt Crimson Amber Jade Onyx Copper Arc Atlas Beacon"
    " Birch Canyon Coral Delta Echo Elm Fern Flint Glacier Granite Hawk Heron Indigo Juniper"
    " Kestrel Lark Lynx Marble Meadow Mesa Nimbus Orbit Orchid Osprey Pebble Polar Quartz"
    " Raven Sage Sequoia Sierra Sky Slate Solar Spruce Thunder Tidal Topaz Vista Wren Zephyr"
    " Alder Basalt Brass Cinder Dune Fjord Gale Harvest Ivory Kelp Lantern Nimble Rapid"
)
BRAND_TAILS: tuple[str, ...] = words(
    "wind peak line gate field stone bridge brook wave point ridge path works forge light"
    " craft shore vale crest spring mark view way port bay rock wood leaf star beam sight"
    " pulse loop base hub grid stack scale flow bit mint yard cast core dale fall fire"
    " fort glen hill land lane lens link mill nest rise root run sail shift side sky sound"
    " span spark sphere spire tide tower track tree well wing wise ware pad stream dock"
)
PLACES: tuple[str, ...] = words(
    "Springfield Riverside Lakewood Fairview Westbrook Kingsport Franklin Clinton Greenville"
    " Bristol Madison Georgetown Salem Ashland Oxford Burlington Milford Newport Dover Hudson"
    " Marion Jackson Arlington Auburn Lexington Princeton Winchester Chester Camden Dayton"
    " Beaumont Belmont Brookfield Clayton Concord Eastwood Glendale Hampton Highland Kent"
    " Lancaster Lincoln Manchester Norwood Plymouth Richmond Rochester Shelby Sterling Troy"
)
UNIVERSITY_FORMS: tuple[tuple[str, str], ...] = (
    ("{} University", ""),
    ("University of {}", ""),
    ("{} State University", "state"),
    ("{} Institute of Technology", "tech"),
    ("{} College", "college"),
)
COMPETITORS: tuple[tuple[str, str, str, int], ...] = (
    ("RivalScore", "rivalscore.com", "US", 420),
    ("Leadlytics", "leadlytics.io", "GB", 130),
    ("QualifyHQ", "qualifyhq.com", "US", 65),
    ("RivalScore GmbH", "rivalscore.de", "DE", 40),
    ("Leadlytics Inc.", "leadlytics.com", "US", 35),
    ("QualifyHQ Ltd", "qualifyhq.co.uk", "GB", 12),
)
DOMAIN_SUFFIXES: tuple[str, ...] = ("hq", "group", "global", "inc", "co", "online", "app", "corp")
FREE_MAIL: tuple[tuple[str, float], ...] = (
    ("gmail.com", 46.0),
    ("yahoo.com", 14.0),
    ("outlook.com", 13.0),
    ("hotmail.com", 10.0),
    ("icloud.com", 6.0),
    ("proton.me", 4.0),
    ("gmx.de", 3.0),
    ("web.de", 2.0),
    ("aol.com", 2.0),
)
