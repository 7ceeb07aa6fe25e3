"""URL canonicalisation and stable article ids."""
from __future__ import annotations

import hashlib
import re
from typing import Optional
from urllib.parse import parse_qsl, quote, urlencode, urlsplit, urlunsplit

__all__ = ["canonical_url", "article_id", "url_identity", "is_tracking_param", "is_url"]

_TRACKING_EXACT = {
    "fbclid", "gclid", "gclsrc", "dclid", "msclkid", "yclid", "igshid", "mc_cid", "mc_eid", "_ga", "_gl",
    "ref", "ref_src", "ref_url", "referer", "referrer", "cmpid", "cmp", "icid", "ito", "ncid", "ocid",
    "smid", "smtyp", "sr_share", "taid", "guccounter", "spm", "share", "at_medium", "at_campaign",
    "at_custom1", "at_custom2", "at_custom3", "at_custom4", "rss", "from", "feature", "src", "cid",
    "__twitter_impression", "s_cid", "wt.mc_id", "wt_mc", "mbid", "ns_mchannel", "ns_source",
    "ns_campaign", "ns_linkname", "ns_fee", "xtor", "partner", "campaign_id", "soc_src", "soc_trk",
}
_TRACKING_PREFIX = ("utm_", "pk_", "mtm_", "hsa_", "guce_", "oly_", "vero_", "__hs", "_hs")
_DEFAULT_PORTS = {"http": 80, "https": 443}


def is_url(text: str) -> bool:
    """True for an http(s) URL (the inputs that are fetched rather than opened with fsspec)."""
    return isinstance(text, str) and text[:8].lower().startswith(("http://", "https://"))


def is_tracking_param(name: str) -> bool:
    """True for query parameters that only track the click (utm_*, fbclid, ...)."""
    low = name.lower()
    return low in _TRACKING_EXACT or low.startswith(_TRACKING_PREFIX)


def canonical_url(url: Optional[str]) -> Optional[str]:
    """Canonical form of an http(s) URL, or None when ``url`` is not one.

    Lower-cases scheme and host, removes default ports, user info, the fragment and tracking
    parameters, sorts the remaining query parameters and gives an empty path as ``/``. The path's
    case is kept (paths are case-sensitive).
    """
    if not url or not isinstance(url, str):
        return None
    url = url.strip()
    if not re.match(r"(?i)^https?://", url):
        return None
    try:
        parts = urlsplit(url)
        host = (parts.hostname or "").rstrip(".").lower()
        port = parts.port
    except ValueError:
        return None
    if not host or any(c.isspace() for c in host):
        return None
    scheme = parts.scheme.lower()
    netloc = host if (port is None or port == _DEFAULT_PORTS.get(scheme)) else f"{host}:{port}"
    query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if not is_tracking_param(k)]
    query.sort()
    path = quote(parts.path or "/", safe="/%:@!$&'()*+,;=-._~")  # spaces and the like percent-encoded
    return urlunsplit((scheme, netloc, path, urlencode(query, doseq=True), ""))


def url_identity(canonical: str) -> str:
    """The part of a canonical URL that names the story: no scheme, no ``www.``.

    ``http://www.x.com/a`` and ``https://x.com/a`` are the same article.
    """
    rest = canonical.split("://", 1)[-1]
    return rest[4:] if rest.startswith("www.") else rest


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()[:32]


def article_id(url: Optional[str], title: Optional[str], text: str) -> str:
    """Stable article id: from the canonical URL when known, else from the normalised title and text.

    ``url`` must already be canonical (see :func:`canonical_url`).
    """
    if url:
        return _digest("url:" + url_identity(url))
    body = " ".join((title or "").split()).lower() + "\n" + " ".join(text.split()).lower()
    return _digest("text:" + body)
