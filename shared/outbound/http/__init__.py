"""Every HTTP adapter: API Gateway REST events in, ``{"detail": ...}`` answers out."""
