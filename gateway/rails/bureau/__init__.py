"""The generic credit bureau as a credit rail: the bureau decides credit, the card collects."""
