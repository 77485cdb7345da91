"""Text normalisation shared by search, imports and column matching."""

import re
import unicodedata

_SPACES = re.compile(r"\s+")


def fold(value: str | None) -> str:
    """Lower-case, accent-free, single-spaced: 'Écologie  Industrielle' → 'ecologie industrielle'."""
    if not value:
        return ""
    decomposed = unicodedata.normalize("NFKD", str(value))
    stripped = "".join(c for c in decomposed if not unicodedata.combining(c))
    return _SPACES.sub(" ", stripped.replace("œ", "oe").replace("æ", "ae").lower()).strip()


def search_terms(query: str | None) -> list[str]:
    """The folded words of a search query, in order, without duplicates."""
    seen: list[str] = []
    for word in re.split(r"[^\w]+", fold(query)):
        if word and word not in seen:
            seen.append(word)
    return seen
