"""Renderers: plain functions from result values to text. Only the CLI writes."""
