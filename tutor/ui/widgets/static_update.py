"""Update a Static without laying out the whole screen when its height stays the same.

``Static.update`` asks for a layout of the entire screen: 25-90 ms on the lesson screen, with
its tables, log and tabs. While a build streams, the cache pane and the exercise panel change
several times a second and almost never change height; laying the screen out for each of those
updates is what left key presses waiting (benchmarks/NOTES.md).
"""

from __future__ import annotations

from textual.visual import VisualType
from textual.widgets import Static


def update_in_place(widget: Static, content: VisualType) -> None:
    """``widget.update(content)``, with a layout only if the new content needs another height."""
    widget.update(content, layout=False)
    width = widget.content_size.width
    if not widget.is_mounted or width <= 0:
        widget.refresh(layout=True)  # not laid out yet: nothing to compare with
        return
    if widget.get_content_height(widget.size, widget.app.size, width) != widget.content_size.height:
        widget.refresh(layout=True)
