"""The T/CEC 102 simulator: a real HTTP server speaking the protocol on 127.0.0.1."""
