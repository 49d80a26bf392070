"""Machine clients: the systems of responder organisations that ask for signals (mutual TLS)."""
