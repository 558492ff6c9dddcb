"""How the same company or person gets spelled differently in different systems.

Also the normalisations of the warehouse contract's identity rules (registrable domain,
normalised email), which the generator uses to keep unrelated entities apart and the tests
use to check that the planted variants are the kind the identity rules can (or cannot) undo.
"""

from __future__ import annotations

import random
import re
import unicodedata
from functools import cache

from .fastrand import pick
from .vocab import FREE_MAIL_DOMAINS

_GERMAN = str.maketrans({"ä": "ae", "ö": "oe", "ü": "ue", "Ä": "Ae", "Ö": "Oe", "Ü": "Ue", "ß": "ss"})
_MULTI_PART_SUFFIXES = ("co.uk", "org.uk", "ac.uk", "com.au", "co.jp", "com.br")
_LEGAL_SUFFIX = re.compile(
    r"[\s,]+(inc\.?|llc|ltd\.?|limited|plc|corp\.?|corporation|co\.|gmbh( & co\. kg)?|ag|se|sas|sa|sarl|"
    r"b\.v\.|n\.v\.|s\.l\.|s\.a\.|pty ltd)$",
    re.IGNORECASE,
)


@cache
def fold_accents(text: str) -> str:
    """``text`` with diacritics removed (``Müller`` -> ``Muller``)."""
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(char for char in decomposed if not unicodedata.combining(char))


@cache
def slug(text: str, german: bool = False) -> str:
    """Lower-case ASCII letters and digits of ``text``, for domains and e-mail local parts."""
    if german:
        text = text.translate(_GERMAN)
    return re.sub(r"[^a-z0-9]", "", fold_accents(text).lower())


def registrable_domain(text: str | None) -> str | None:
    """The contract's normalised domain: no scheme, ``www.``, path, port or case; registrable part only."""
    if not text:
        return None
    if text.count(".") == 1 and text.islower() and not any(char in text for char in "/: "):
        return text
    host = text.strip().lower()
    host = re.sub(r"^[a-z][a-z0-9+.-]*://", "", host)
    host = re.split(r"[/?#]", host, maxsplit=1)[0]
    host = host.split("@")[-1].split(":")[0].strip(".")
    if not host:
        return None
    labels = host.split(".")
    keep = 3 if any(host.endswith("." + suffix) for suffix in _MULTI_PART_SUFFIXES) else 2
    return ".".join(labels[-keep:])


def normalize_email(email: str | None) -> str | None:
    """The contract's normalised e-mail: trimmed, lower-case; dots and ``+tags`` folded for Gmail only."""
    if not email:
        return None
    local, _, domain = email.strip().lower().rpartition("@")
    if domain in ("gmail.com", "googlemail.com"):
        local = local.split("+", 1)[0].replace(".", "")
        domain = "gmail.com"
    return f"{local}@{domain}"


def strip_legal_suffix(name: str) -> str:
    """``name`` without a trailing legal-form suffix (Inc, Ltd, GmbH, ...)."""
    return _LEGAL_SUFFIX.sub("", name).strip()


def website_variant(rng: random.Random, domain: str | None) -> str | None:
    """How a Salesforce user typed the company website into ``Account.Website`` (None: left empty)."""
    roll = rng.random()
    if domain is None:
        return None
    if roll < 0.30:
        return f"https://www.{domain}"
    if roll < 0.45:
        return f"https://www.{domain}/about"
    if roll < 0.60:
        return domain
    if roll < 0.70:
        return f"www.{domain}"
    if roll < 0.76:
        return f"WWW.{domain.upper()}"
    if roll < 0.84:
        return f"http://{domain}/"
    if roll < 0.88:
        return f"https://{domain}/en-us/home?ref=crm"
    if roll < 0.91:
        return f"https://www.{domain}:443/"
    if roll < 0.94:
        return f"https://{pick(rng, ('shop', 'app', 'eu', 'go'))}.{domain}"
    return None


def hubspot_domain_variant(rng: random.Random, domain: str | None) -> str | None:
    """How a domain lands in HubSpot's ``domain`` property (usually bare, sometimes not)."""
    roll = rng.random()
    if domain is None:
        return None
    if roll < 0.80:
        return domain
    if roll < 0.90:
        return f"www.{domain}"
    if roll < 0.96:
        return domain.capitalize()
    return f"{domain}/"


def company_name_variant(rng: random.Random, base: str, suffix: str) -> str:
    """Another spelling of ``base`` + legal ``suffix``: suffix dropped or changed, case, punctuation, accents."""
    roll = rng.random()
    if roll < 0.30:
        return base
    if roll < 0.45:
        return f"{base}, {suffix}"
    if roll < 0.55:
        return f"{base} {suffix}".upper()
    if roll < 0.65:
        return fold_accents(f"{base} {suffix}")
    if roll < 0.72:
        return base.lower()
    if roll < 0.80:
        return base.replace(" ", "-")
    if roll < 0.88:
        return f"{base} {suffix.rstrip('.')}."
    if roll < 0.94:
        return f"The {base} {suffix}" if not base.startswith("The ") else base
    return fold_accents(base).replace(" ", "")


def email_case_variant(rng: random.Random, email: str) -> str:
    """``email`` with different capitalisation (``John.Smith@Acme.com``)."""
    local, _, domain = email.partition("@")
    if rng.random() < 0.5:
        return f"{'.'.join(part.capitalize() for part in local.split('.'))}@{domain.capitalize()}"
    return email.upper() if rng.random() < 0.3 else f"{local}@{domain.upper()}"


def gmail_variant(rng: random.Random, email: str) -> str:
    """A Gmail address spelled differently but delivering to the same inbox (dots, +tag, googlemail)."""
    local, _, domain = email.partition("@")
    roll = rng.random()
    if roll < 0.35:
        return f"{local.replace('.', '')}@{domain}" if "." in local else f"{local[:1]}.{local[1:]}@{domain}"
    if roll < 0.75:
        return f"{local}+{pick(rng, ('news', 'work', 'crm', 'hubspot', 'events'))}@{domain}"
    return f"{local}@googlemail.com"


def is_free_mail(email: str) -> bool:
    """True for addresses at a personal mail provider."""
    return email.rpartition("@")[2].lower() in FREE_MAIL_DOMAINS or email.lower().endswith("@googlemail.com")
