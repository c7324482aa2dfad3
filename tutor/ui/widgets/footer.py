"""The key footer: the keys a learner needs everywhere (quit, help, back) first, and only keys that fit.

Textual's footer lists the focused widget's keys, then the screen's, then the app's: on an
80-column terminal the app's keys fall off the right edge, and a key cut in half shows under the
palette key. Here quit, help and the way back (esc) come first and a key that would not fit whole is left out; every
key is still listed by `?` and in the palette.
"""

from __future__ import annotations

from rich.cells import cell_len
from textual.app import ComposeResult
from textual.widgets import Footer
from textual.widgets._footer import FooterKey

PINNED_KEYS = ("ctrl+q", "question_mark", "escape")  # quit, help, and the way back
PALETTE_CELLS = 14  # "▏^p palette " and its padding, docked at the right


def key_cells(key: FooterKey, compact: bool) -> int:
    """How many cells the footer gives ``key`` (its text, padding and margin: see FooterKey's CSS)."""
    text = cell_len(key.key_display) + (1 + cell_len(key.description) if key.description else 0)
    return text + (1 if compact else 3)


class KeysFooter(Footer):
    _shown: tuple | None = None  # what the last compose showed (see recompose)

    def _keys_to_show(self) -> tuple:
        """Everything compose reads: the same answer means the same keys, drawn the same."""
        idle = getattr(self.screen, "footer_hides", lambda action: False)
        bindings = tuple(
            (key, b.key, b.key_display, b.action, b.description, b.show, b.group, enabled, tooltip, idle(b.action))
            for key, (_, b, enabled, tooltip) in self.screen.active_bindings.items()
            if b.show or key == self.app.COMMAND_PALETTE_BINDING  # the palette's shows regardless
        )
        width = self.size.width or self.app.size.width
        return (self._bindings_ready, self.compact, self.show_command_palette, width, bindings)

    async def recompose(self) -> None:
        # Each focus change asks for a recompose, which mounts every key again and lays out the
        # whole screen; switching a lesson's tabs seldom changes the keys.
        if self.is_attached and not self._pruning:
            shown = self._keys_to_show()
            if shown == self._shown:
                return
            self._shown = shown
        await super().recompose()

    def compose(self) -> ComposeResult:
        items = list(super().compose())
        keys = [item for item in items if isinstance(item, FooterKey) and not item.has_class("-command-palette")]
        rest = [item for item in items if item not in keys]
        # A screen may say which of its keys do nothing worth a place now (cancel with no build).
        idle = getattr(self.screen, "footer_hides", lambda action: False)
        pins = getattr(self.app, "FOOTER_PINS", PINNED_KEYS)  # an app may pin more: a kiosk, its docker prompt
        pinned = sorted((k for k in keys if k.key in pins and not idle(k.action)), key=lambda k: pins.index(k.key))
        room = (self.size.width or self.app.size.width) - (PALETTE_CELLS if rest else 0)
        for key in pinned + [k for k in keys if k not in pinned and not idle(k.action)]:
            room -= key_cells(key, self.compact)
            if room < 0:
                break
            yield key
        yield from rest  # the palette key (docked right)

    def on_resize(self) -> None:
        self.call_after_refresh(self.recompose)  # wider or narrower: more or fewer keys fit
