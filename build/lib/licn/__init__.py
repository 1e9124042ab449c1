"""LICN-KG: a linked-data knowledge graph of the research on leadership in integrated care networks."""
__version__ = "0.1.0"
