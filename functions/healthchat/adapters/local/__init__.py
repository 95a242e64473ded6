"""Local adapters: folder blobs, SQLite records, tesseract OCR and the local engines."""
