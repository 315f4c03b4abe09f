"""Embeddings, the Chroma store, the keyword index and retrieval."""
