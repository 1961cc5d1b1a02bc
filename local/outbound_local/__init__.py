"""The local stack: dev-only code (server, emulators, CLI, benchmarks). Never deployed."""
