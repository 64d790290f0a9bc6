"""Charging sessions' types, the live subscription and money errors."""
