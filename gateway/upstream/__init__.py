"""Calls to operators: timeouts, the breaker, metrics, caching, single-flight, fan-out and health."""
