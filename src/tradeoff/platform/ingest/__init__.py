"""Ingestion: transports hand raw messages to decoders; the pipeline validates, gates, dedups and commits."""
