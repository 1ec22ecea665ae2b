"""DEX/EVA-DTS vending audits: parsing, writing, and the ``dex`` ingest decoder (see docs/vending-dex.md)."""

from tradeoff.vending.dex.errors import DexError
from tradeoff.vending.dex.model import Column, DexAudit
from tradeoff.vending.dex.parser import parse_dex
from tradeoff.vending.dex.writer import AuditInput, ColumnInput, write_dex

__all__ = ["AuditInput", "Column", "ColumnInput", "DexAudit", "DexError", "parse_dex", "write_dex"]
