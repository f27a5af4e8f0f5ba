"""De-identification: checking identifiers and replacing them with per-project pseudonyms.

A pure library: plain values in, plain values out, no Django, so ingress, extract building and
the in-job tools can all share one definition of a valid CHI and of a pseudonym.
"""
