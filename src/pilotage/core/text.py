"""Text normalisation shared by search, imports and column matching."""

import re
import unicodedata

_SPACES = re.compile(r"\s+")


_NON_ASCII = re.compile(r"[^\x00-\x7f]+")
# The combining marks of Latin scripts (accents after NFKD), deleted by one `str.translate`; any other non-ASCII
# character is then checked one by one.
_LATIN_MARKS = {code: None for code in range(0x300, 0x370) if unicodedata.combining(chr(code))}


def _without_combining_marks(match: re.Match) -> str:
    return "".join(c for c in match.group() if not unicodedata.combining(c))


def fold(value: str | None) -> str:
    """Lower-case, accent-free, single-spaced: 'Écologie  Industrielle' → 'ecologie industrielle'."""
    if not value:
        return ""
    decomposed = unicodedata.normalize("NFKD", str(value))
    # Fast paths: imports fold tens of thousands of texts.
    stripped = decomposed if decomposed.isascii() else decomposed.translate(_LATIN_MARKS)
    if not stripped.isascii():
        stripped = _NON_ASCII.sub(_without_combining_marks, stripped)
    return _SPACES.sub(" ", stripped.replace("œ", "oe").replace("æ", "ae").lower()).strip()


def search_terms(query: str | None) -> list[str]:
    """The folded words of a search query, in order, without duplicates."""
    seen: list[str] = []
    for word in re.split(r"[^\w]+", fold(query)):
        if word and word not in seen:
            seen.append(word)
    return seen
