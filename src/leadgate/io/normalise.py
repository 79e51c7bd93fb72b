"""E-mail addresses and company domains as Polars expressions, so readers and services agree.

``normalise_email`` and ``normalise_domain`` only clean; ``email_problem`` and
``domain_problem`` say, per cell, why a cleaned value is not an address or a domain (null
when it is fine). All of them run column-wise, never per row in Python.
"""

from __future__ import annotations

import polars as pl

# A domain: dot-separated labels of letters/digits/hyphens (not at a label's ends), ending
# in a letters-only top-level domain of two or more letters, or a punycode one.
_LABEL = r"[\p{L}\p{N}](?:[\p{L}\p{N}-]*[\p{L}\p{N}])?"
DOMAIN_PATTERN = rf"^(?:{_LABEL}\.)+(?:\p{{L}}{{2,}}|xn--[a-z0-9-]+)$"
_LOCAL_FORBIDDEN = r"""[,;:<>()\[\]\\"]"""

EMAIL_HINT = (
    "Write one address like jane@acme.com: no spaces, one @, and a domain with a dot; "
    "or clear the cell."
)
DOMAIN_HINT = "Write a domain like acme.com or a website like https://www.acme.com/; or clear it."


def _expr(column: str | pl.Expr) -> pl.Expr:
    return pl.col(column) if isinstance(column, str) else column


def _blank_to_null(expr: pl.Expr) -> pl.Expr:
    return pl.when(expr.str.len_bytes() > 0).then(expr)


def normalise_email(column: str | pl.Expr) -> pl.Expr:
    """Strip whitespace and a ``mailto:`` prefix and lower-case; empty text becomes null.

    Example:
        ``frame.with_columns(normalise_email("email"))`` turns ``" Jane@Acme.COM "`` into
        ``"jane@acme.com"``.
    """
    text = _expr(column).cast(pl.String).str.strip_chars().str.to_lowercase()
    return _blank_to_null(text.str.strip_prefix("mailto:").str.strip_chars())


def email_problem(column: str | pl.Expr) -> pl.Expr:
    """Why a normalised address is not a valid e-mail address, or null when it is fine.

    Only clearly invalid addresses are flagged (no ``@``, spaces inside, no dot in the
    domain, ...); the check does not try to implement RFC 5322.
    """
    email = _expr(column)
    local = email.str.extract(r"^([^@]*)@", 1)
    domain = email.str.extract(r"@([^@]*)$", 1)
    return (
        pl.when(email.is_null())
        .then(None)
        .when(email.str.contains(r"\s"))
        .then(pl.lit("it contains a space"))
        .when(~email.str.contains("@", literal=True))
        .then(pl.lit("it has no @"))
        .when(email.str.count_matches("@", literal=True) > 1)
        .then(pl.lit("it has more than one @"))
        .when(local.str.len_bytes() == 0)
        .then(pl.lit("nothing comes before the @"))
        .when(domain.str.len_bytes() == 0)
        .then(pl.lit("nothing comes after the @"))
        .when(~domain.str.contains(".", literal=True))
        .then(pl.lit("the domain after the @ has no dot"))
        .when(email.str.contains("..", literal=True))
        .then(pl.lit("it has two dots in a row"))
        .when(local.str.contains(_LOCAL_FORBIDDEN) | local.str.contains(r"^\.|\.$"))
        .then(pl.lit("the part before the @ has a character an address cannot have there"))
        .when(~domain.str.contains(DOMAIN_PATTERN))
        .then(pl.lit("the domain after the @ is not a valid domain"))
    )


def normalise_domain(column: str | pl.Expr) -> pl.Expr:
    """A company domain from a domain, website URL or e-mail address; empty becomes null.

    Lower-cases and drops the scheme, user, ``www.``, port, path, query and trailing dot.

    Example:
        ``"https://www.Acme.com/about"`` → ``"acme.com"``; ``"jane@Acme.com"`` → ``"acme.com"``.
    """
    text = (
        _expr(column)
        .cast(pl.String)
        .str.strip_chars()
        .str.to_lowercase()
        .str.replace(r"^[a-z][a-z0-9+.\-]*://", "")
        .str.replace(r"^//", "")
        .str.replace(r"[/?#].*$", "")
        .str.replace(r"^[^@]*@", "")
        .str.replace(r":\d*$", "")
        .str.replace(r"^www\d*\.", "")
        .str.strip_chars(".")
    )
    return _blank_to_null(text)


def domain_problem(column: str | pl.Expr) -> pl.Expr:
    """Why a normalised domain is not a domain, or null when it is fine."""
    domain = _expr(column)
    return (
        pl.when(domain.is_null())
        .then(None)
        .when(domain.str.contains(r"\s"))
        .then(pl.lit("it contains a space"))
        .when(~domain.str.contains(".", literal=True))
        .then(pl.lit("it has no dot"))
        .when(~domain.str.contains(DOMAIN_PATTERN))
        .then(pl.lit("it is not a valid domain"))
    )
