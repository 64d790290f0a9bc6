"""Sharing between replicas: Redis, its codec, the push fan-in, the lease, shared state."""
