"""Loaders: pure functions from the curated files in data/ to RDF triples.

Each loader takes the rows of one kind of source file and returns triples; every problem is
reported as ``file:line: field: message`` and all problems of a run are collected together.
"""
