"""Ingest: find documents, read and clean them, split them into cited passages.

discover(paths) -> [(file_path, doc_id)]
load_document(path, doc_id, max_bytes=250 MiB) -> Document   (IngestError for any bad file)
split_document(doc, size=250, overlap=50) -> [Passage]
"""

from ingest.discover import discover
from ingest.load import load_document
from ingest.model import Document, IngestError, Passage
from ingest.split import split_document

__all__ = ["Document", "IngestError", "Passage", "discover", "load_document", "split_document"]
