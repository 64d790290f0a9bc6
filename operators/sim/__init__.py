"""What every simulator shares: demo data, command-line arguments, fault fields."""
