"""Speed benchmark: ingest, queries, re-sync and cold start (``rag bench``, ``python -m bench``)."""
