"""Rules: pure functions over the model (normalising cell values, roll-ups, deadlines, statistics, 销号).

No file is read or written here; every figure a document shows is computed by these functions.
"""
