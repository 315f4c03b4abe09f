"""Shared test helpers: servers, fakes, texts and builders, one module each."""
