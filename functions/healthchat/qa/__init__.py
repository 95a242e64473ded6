"""Grounded question answering over a user's own documents and the MedQuAD knowledge base."""
