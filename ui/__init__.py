"""The Gradio chat page over the public ``rag`` API (``rag ui`` or ``python -m ui``)."""
