"""Charging sessions: start and stop through the operator port, live progress, bills."""
