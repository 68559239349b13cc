"""Notice and document bodies: Markdown shown as safe HTML. The renderer is the kernel's shared
one (``campus.kernel.richtext``), so that every module escapes people's HTML the same way."""

from campus.kernel.richtext import SAFE_SCHEMES, excerpt, render

__all__ = ["SAFE_SCHEMES", "excerpt", "render"]
