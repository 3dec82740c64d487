"""Writes and audited reads for app transfers, one module per topic: exports, imports, copies (and Retool
clone), bundles, uploads and cleanup; ``common`` holds the naming helpers they share.

Every function here receives ``actor`` explicitly and writes its own audit row (STYLE §4, §7).
"""

from __future__ import annotations
