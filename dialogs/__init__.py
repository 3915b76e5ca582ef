"""The conversation core: procedure definitions as data, field kinds, the dialog engine.

This package knows no channel and no database. See docs/architecture.md.
"""
