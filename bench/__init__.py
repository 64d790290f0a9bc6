"""Benchmarks: the gateway against floors measured in the same run (``make bench``)."""
