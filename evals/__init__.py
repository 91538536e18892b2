"""Evaluation question sets, metrics and the ``rag eval`` runner."""
