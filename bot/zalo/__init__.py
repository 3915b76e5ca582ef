"""The Zalo channel (issue #8): Zalo Bot Platform API, webhook and long polling. See docs/zalo.md."""
from .channel import ZaloChannel, ZaloConfig

__all__ = ["ZaloChannel", "ZaloConfig"]
