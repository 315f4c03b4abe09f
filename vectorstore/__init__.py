"""Embeddings, the Chroma store, the keyword index and retrieval."""

import os

# OpenMP threads that spin while idle fight Chroma's own threads and turn a 30 ms query embedding into
# a 1 s one on 2 cores. Must be set before torch is first imported.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
