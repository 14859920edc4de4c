"""The OKR tree: objectives and their key results with progress, status and owner.

A refresh relabels nodes in place, keyed by id; nodes are added or removed only when the
structure changed. The tree is never cleared, so expansion and cursor survive refreshes.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import ClassVar, Literal

from rich.style import Style
from rich.text import Text
from textual.actions import SkipAction
from textual.binding import Binding, BindingType
from textual.message import Message
from textual.widgets import Tree
from textual.widgets.tree import TreeNode

from kpitui.engine.board import BAR_CELLS, KrView, ObjectiveView, expected_words
from kpitui.tui.widgets.okr_labels import (
    TITLE_MIN,
    Columns,
    measure_columns,
    node_label,
)

NodeKind = Literal["objective", "kr"]
NodeKey = tuple[NodeKind, str]


class OkrTree(Tree[NodeKey]):
    """Objectives (expandable) and key results (leaves) with progress against the period.

    Node data is `("objective" | "kr", id)`.
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding(
            "up",
            "cursor_up",
            "Cursor up",
            show=False,
            id="okr_tree.cursor_up",
            tooltip="The node above; from the first node, the panel above",
        ),
        Binding(
            "down",
            "cursor_down",
            "Cursor down",
            show=False,
            id="okr_tree.cursor_down",
            tooltip="The node below; from the last node, the panel below",
        ),
        Binding("left", "collapse_or_parent", "Collapse", show=False, id="okr_tree.collapse"),
        Binding("right", "expand_or_child", "Expand", show=False, id="okr_tree.expand"),
        Binding(
            "enter",
            "drill_down",
            "Details",
            id="okr_tree.drill_down",
            tooltip="Open the progress history of this objective or key result",
        ),
    ]
    """
    | Key(s) | Description |
    | :- | :- |
    | up / down | Move the cursor; from the first (last) node, focus the panel above (below). |
    | left | Collapse the objective, or move to the parent when already collapsed. |
    | right | Expand the objective, or move to its first child when already expanded. |
    | space | Toggle the objective (Tree's own binding). |
    | enter | Open the detail screen (posts `OkrTree.DrillDown`). |
    """

    COMPONENT_CLASSES: ClassVar[set[str]] = {
        "okr-tree--objective",
        "okr-tree--bar-done",
        "okr-tree--bar-todo",
        "okr-tree--owner",
        "okr-tree--muted",
        "okr-tree--due",
        "okr-tree--error",
        "okr-tree--status-achieved",
        "okr-tree--status-on_track",
        "okr-tree--status-at_risk",
        "okr-tree--status-off_track",
        "okr-tree--status-missed",
        "okr-tree--status-not_started",
    }
    """
    | Class | Description |
    | :- | :- |
    | `okr-tree--objective` | An objective's title. |
    | `okr-tree--bar-done` | The filled part of a progress bar. |
    | `okr-tree--bar-todo` | The empty part of a progress bar and the expected-progress mark. |
    | `okr-tree--owner` | The owner. |
    | `okr-tree--muted` | Secondary words: the confidence of a check-in. |
    | `okr-tree--due` | The "⏰ due" mark: a manual key result's check-in is due. |
    | `okr-tree--error` | A key result's error reason. |
    | `okr-tree--status-<status>` | The status glyph and words, one class per status. |
    """

    DEFAULT_CSS = """
    OkrTree {
        border: round $foreground 25%;
        border-title-style: bold;
        border-title-color: $foreground;
        border-subtitle-align: right;
        border-subtitle-color: $foreground-muted;
        height: 1fr;
        min-height: 5;
        /* One cell, as the board's pages: the labels keep room for it. */
        scrollbar-size-vertical: 1;

        & > .okr-tree--objective { text-style: bold; }
        & > .okr-tree--bar-done { color: $primary; }
        & > .okr-tree--bar-todo { color: $foreground 30%; }
        & > .okr-tree--owner { color: $text-secondary; }
        & > .okr-tree--muted { color: $foreground-muted; }
        & > .okr-tree--due { color: $text-warning; text-style: bold; }
        & > .okr-tree--error { color: $text-error; }
        & > .okr-tree--status-achieved { color: $text-success; text-style: bold; }
        & > .okr-tree--status-on_track { color: $text-success; }
        & > .okr-tree--status-at_risk { color: $text-warning; }
        & > .okr-tree--status-off_track { color: $text-error; }
        & > .okr-tree--status-missed { color: $text-error; text-style: bold; }
        & > .okr-tree--status-not_started { color: $foreground-muted; }

        &:focus { border: round $accent; }
        &:focus:nocolor { border: double $foreground; }
    }
    """

    class DrillDown(Message):
        """Posted when Enter is pressed on a node: open its detail screen.

        Handle with `on_okr_tree_drill_down`.
        """

        def __init__(self, tree: OkrTree, kind: NodeKind, node_id: str) -> None:
            super().__init__()
            self.tree = tree
            """The tree the node belongs to."""
            self.kind = kind
            """`"objective"` or `"kr"`."""
            self.node_id = node_id
            """The objective's or key result's id."""

        @property
        def control(self) -> OkrTree:
            return self.tree

    def __init__(
        self,
        objectives: tuple[ObjectiveView, ...],
        *,
        expected: float,
        id: str | None = None,
        name: str | None = None,
        classes: str | None = None,
    ) -> None:
        super().__init__(Text("OKRs"), ("objective", ""), id=id, name=name, classes=classes)
        self.show_root = False
        self.auto_expand = False  # Enter drills down; Space and ←/→ expand.
        self.guide_depth = 3
        self.objectives = objectives
        """The objectives shown (change them with `update_objectives`)."""
        self.expected = expected
        """Share of the OKR period elapsed: the mark in every progress bar."""
        self._okr_nodes: dict[NodeKey, TreeNode[NodeKey]] = {}
        self._views: dict[NodeKey, ObjectiveView | KrView] = {}
        self._depths: dict[NodeKey, int] = {}
        self._columns = Columns(TITLE_MIN, 0, False, BAR_CELLS, 0)  # what labels were built for
        self._built = False
        self._pending_reveal: NodeKey | None = None

    def on_mount(self) -> None:
        # Labels use the component classes' styles, known once the tree is mounted.
        self._index(self.objectives)
        self._columns = self._measure_columns()
        self._sync(self.root, self._top_items(self.objectives), set())
        self._show_expected()
        if self._tree_lines:
            self.cursor_line = 0
        self._built = True
        if self._pending_reveal is not None:
            self.reveal(*self._pending_reveal)
        # Component-class colours are baked into the labels: rebuild them on a theme
        # change (the signal comes after the restyle), not on every restyle (focus, hover).
        self.app.theme_changed_signal.subscribe(self, lambda _theme: self._relabel_all())

    def on_resize(self) -> None:
        # The title column and the bar follow the width; Tree's own resize handler runs too.
        if self._measure_columns() != self._columns:
            self._relabel_all()

    # -- public API --------------------------------------------------------------------

    def update_objectives(self, objectives: tuple[ObjectiveView, ...], expected: float) -> None:
        """Show new objectives in place: relabel by id, add/remove only what changed.

        Expansion and the cursor are kept; the tree is never cleared.
        """
        if objectives == self.objectives and expected == self.expected:
            return
        self.objectives = objectives
        self.expected = expected
        if not self.is_mounted:
            return
        cursor = self.cursor_node
        cursor_key = cursor.data if cursor is not None else None
        cursor_parent = cursor.parent.data if cursor is not None and cursor.parent else None
        expanded = self.expanded_ids()
        known = set(self._okr_nodes)
        # Objectives that had nothing under them open like new ones when they get children.
        childless = {
            key[1]
            for key, node in self._okr_nodes.items()
            if key[0] == "objective" and not node.allow_expand
        }
        self._index(objectives)
        self._columns = self._measure_columns()
        seen: set[NodeKey] = set()
        self._sync(self.root, self._top_items(objectives), seen)
        for key in [key for key in self._okr_nodes if key not in seen]:
            del self._okr_nodes[key]
        added = {key[1] for key in seen - known if key[0] == "objective"}
        self.restore_expanded(expanded | added | childless)
        self._restore_cursor(cursor_key, cursor_parent)
        self._show_expected()

    def expanded_ids(self) -> set[str]:
        """Ids of the expanded objectives (those with something to expand)."""
        return {
            key[1]
            for key, node in self._okr_nodes.items()
            if key[0] == "objective" and node.allow_expand and node.is_expanded
        }

    def restore_expanded(self, ids: Iterable[str]) -> None:
        """Expand exactly the objectives in `ids`, collapse the others."""
        wanted = set(ids)
        for key, node in self._okr_nodes.items():
            if key[0] != "objective" or not node.allow_expand:
                continue
            if key[1] in wanted and not node.is_expanded:
                node.expand()
            elif key[1] not in wanted and node.is_expanded:
                node.collapse()

    def node_for(self, kind: NodeKind, node_id: str) -> TreeNode[NodeKey] | None:
        """The node showing that objective or key result."""
        return self._okr_nodes.get((kind, node_id))

    def reveal(self, kind: NodeKind, node_id: str) -> None:
        """Open the tree down to that node and put the cursor on it.

        A tree on a page built just now has no nodes until it mounts: the reveal is kept
        and done there, so no caller has to guess how long mounting takes.
        """
        if not self._built:
            self._pending_reveal = (kind, node_id)
            return
        self._pending_reveal = None
        node = self.node_for(kind, node_id)
        if node is None:
            return
        ancestor = node.parent
        while ancestor is not None and not ancestor.is_root:
            ancestor.expand()
            ancestor = ancestor.parent
        self._tree_lines  # noqa: B018 - rebuild the lines so the node's line is current
        self.move_cursor(node)
        # Scrolling to the line needs the tree's layout, which a new page gets later.
        self.call_after_refresh(self.scroll_to_node, node, animate=False)

    # -- building ------------------------------------------------------------------------

    @staticmethod
    def _top_items(
        objectives: Iterable[ObjectiveView],
    ) -> list[tuple[NodeKey, ObjectiveView | KrView]]:
        return [(("objective", o.id), o) for o in objectives]

    @staticmethod
    def _children_of(objective: ObjectiveView) -> list[tuple[NodeKey, ObjectiveView | KrView]]:
        # Key results first, then the child objectives, as a review reads them.
        items: list[tuple[NodeKey, ObjectiveView | KrView]] = [
            (("kr", kr.id), kr) for kr in objective.key_results
        ]
        items += [(("objective", child.id), child) for child in objective.children]
        return items

    def _index(self, objectives: Iterable[ObjectiveView]) -> None:
        """Every node's view and depth, before any label is built."""
        self._views = {}
        self._depths = {}

        def walk(items: list[tuple[NodeKey, ObjectiveView | KrView]], depth: int) -> None:
            for key, view in items:
                self._views[key] = view
                self._depths[key] = depth
                if isinstance(view, ObjectiveView):
                    walk(self._children_of(view), depth + 1)

        walk(self._top_items(objectives), 0)

    def _sync(
        self,
        parent: TreeNode[NodeKey],
        items: list[tuple[NodeKey, ObjectiveView | KrView]],
        seen: set[NodeKey],
    ) -> None:
        """Make `parent`'s children match `items`, recursively, touching only changes."""
        wanted = [key for key, _ in items]
        for child in list(parent.children):
            if child.data not in wanted:
                child.remove()
        kept = [child.data for child in parent.children]
        if kept != [key for key in wanted if key in kept]:
            # Reordered: re-add the children (their expansion is restored by id).
            for child in list(parent.children):
                child.remove()
        by_key = {child.data: child for child in parent.children}
        for index, (key, view) in enumerate(items):
            seen.add(key)
            label = self._label(key, view)
            node = by_key.get(key)
            if node is None:
                node = self._add(parent, key, label, index)
            elif node.label != label:
                node.set_label(label)
            self._okr_nodes[key] = node
            if isinstance(view, ObjectiveView):
                children = self._children_of(view)
                self._sync(node, children, seen)
                # An objective with nothing under it shows no ▼ it could not honour.
                node.allow_expand = bool(children)

    def _add(
        self, parent: TreeNode[NodeKey], key: NodeKey, label: Text, index: int
    ) -> TreeNode[NodeKey]:
        before = index if index < len(parent.children) else None
        if key[0] == "kr":
            return parent.add_leaf(label, key, before=before)
        return parent.add(label, key, before=before, expand=True)

    def _show_expected(self) -> None:
        """Explain the mark in the bars (where progress should be by now) and the arrow
        after the status (where the pace ends)."""
        subtitle = Text(f"{expected_words(self.expected)} · → forecast at period end", end="")
        if self.border_subtitle != subtitle.markup:
            self.border_subtitle = subtitle

    def _restore_cursor(self, cursor: NodeKey | None, parent: NodeKey | None) -> None:
        if cursor is None:
            return
        self._tree_lines  # noqa: B018 - rebuild the lines so node positions are current
        node = self._okr_nodes.get(cursor) or (self._okr_nodes.get(parent) if parent else None)
        if node is not None:
            self.move_cursor(node)
        elif self._tree_lines:
            self.cursor_line = min(max(0, self.cursor_line), self.last_line)

    # -- labels --------------------------------------------------------------------------

    def _label_room(self, key: NodeKey) -> int | None:
        """Cells a node's label may take without scrolling the tree sideways: the width
        less its guides and ▼, and less a vertical scrollbar (kept even when none shows,
        so labels need not be rebuilt when one appears). None before the first layout."""
        if not self.size.width:
            return None
        scrollbar = self.styles.scrollbar_size_vertical
        return max(1, self.size.width - scrollbar - self._prefix_width(key))

    def _measure_columns(self) -> Columns:
        return measure_columns(
            self._views, self._prefix_width, self.size.width, self.styles.scrollbar_size_vertical
        )

    def _prefix_width(self, key: NodeKey) -> int:
        """Cells before the label: guides for the depth, and ▼ for objectives with children."""
        depth = self._depths.get(key, 0)
        view = self._views.get(key)
        expandable = isinstance(view, ObjectiveView) and bool(view.key_results or view.children)
        return depth * self.guide_depth + (2 if expandable else 0)

    def _relabel_all(self) -> None:
        self._columns = self._measure_columns()
        for key, node in self._okr_nodes.items():
            view = self._views.get(key)
            if view is None:
                continue
            label = self._label(key, view)
            if node.label != label:
                node.set_label(label)

    def _style(self, component: str) -> Style:
        return self.get_component_rich_style(f"okr-tree--{component}", partial=True)

    def _label(self, key: NodeKey, view: ObjectiveView | KrView) -> Text:
        return node_label(
            view,
            self._columns,
            self.expected,
            title_width=max(4, self._columns.title - self._prefix_width(key)),
            room=self._label_room(key),
            style=self._style,
        )

    # -- actions -------------------------------------------------------------------------

    @property
    def on_first_node(self) -> bool:
        """The cursor is on the first line (or the tree is empty): ↑ leaves the tree."""
        return self.cursor_line <= 0

    @property
    def on_last_node(self) -> bool:
        """The cursor is on the last line (or the tree is empty): ↓ leaves the tree."""
        return self.cursor_line < 0 or self.cursor_line >= self.last_line

    def action_cursor_up(self) -> None:
        # Past the first node the key goes on (SkipAction) to the app's binding, which
        # focuses the panel above: the tree does not trap the arrows.
        if self.on_first_node:
            raise SkipAction()
        super().action_cursor_up()

    def action_cursor_down(self) -> None:
        if self.on_last_node:
            raise SkipAction()
        super().action_cursor_down()

    def action_collapse_or_parent(self) -> None:
        node = self.cursor_node
        if node is None:
            return
        if node.allow_expand and node.is_expanded:
            node.collapse()
        elif node.parent is not None and not node.parent.is_root:
            self.move_cursor(node.parent)

    def action_expand_or_child(self) -> None:
        node = self.cursor_node
        if node is None or not node.allow_expand:
            return
        if node.is_collapsed:
            node.expand()
        elif node.children:
            self.move_cursor(node.children[0])

    def action_drill_down(self) -> None:
        node = self.cursor_node
        if node is None or node.data is None or node.is_root:
            return
        kind, node_id = node.data
        self.post_message(self.DrillDown(self, kind, node_id))
