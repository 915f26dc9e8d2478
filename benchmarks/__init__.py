"""Benchmarks: quality against labelled public sets and speed, painpoints vs BERTopic in one run."""
