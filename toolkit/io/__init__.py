"""Files: reading and writing workbooks, archives, evidence and LibreOffice conversions.

Everything that touches the disk in a fixed format lives here; the rules it applies come from `rules`.
"""
