"""Configuration: the typed sections and their loading from TOML and the environment."""
