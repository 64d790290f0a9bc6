"""The credit-bureau simulator (``chargegate simulate credit``)."""
