"""The one error a bad setting raises, naming the setting."""


class ConfigError(ValueError):
    """A setting is missing or wrong; ``key`` is its dotted path (``operators[1].base_url``)."""

    def __init__(self, key: str, message: str) -> None:
        super().__init__(f"config error at {key}: {message}")
        self.key = key
