"""Station search, hydration and types, estimates and quotes."""
