"""Outcome events going out: which changes become events, publishing them, webhook endpoints and deliveries."""
