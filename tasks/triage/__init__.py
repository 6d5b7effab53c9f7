"""The document-triage steps: their output schemas, handlers and the document profile."""
