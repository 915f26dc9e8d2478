"""Connectors turn sources (files, transcripts, APIs) into :class:`FeedbackRecord` streams."""

from painpoints.connectors.base import Connector, FeedbackRecord, Rejected

__all__ = ["Connector", "FeedbackRecord", "Rejected"]
