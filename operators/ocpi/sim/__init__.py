"""The OCPI 2.2.1 simulator: a real CPO speaking the protocol on 127.0.0.1."""
