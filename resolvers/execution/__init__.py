"""How queries run: compiled completion, batch loaders, error shaping, timing."""
