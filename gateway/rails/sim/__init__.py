"""Pieces both rail simulators share: the loopback server, fault settings and notification delivery."""
