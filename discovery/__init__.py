"""Discovery: normalise, redact, embed, cluster, name, score and rank customer feedback."""

__version__ = "0.1.0"
