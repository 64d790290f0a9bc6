"""Drivers: the account, sign-in, authentication and admin fields."""
