"""Privacy core: consent, pseudonyms, the vault, erasure, audit and the release guard."""
