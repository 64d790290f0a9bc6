"""Stations across operators: the catalogue, its radius index, prices now, ranking, QR codes."""
