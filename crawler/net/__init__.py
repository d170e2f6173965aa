"""The network: the client pool, transports, the address guard, per-host pacing, credentials."""
