"""The call flow as a diagram, laid out and drawn to SVG on the server (no script, no library).

A small layered layout: columns are breadth-first steps from the start, so every drawn arrow goes
one column to the right. A key that leads back (to a menu already drawn, as "back to the main
menu" does) is written inside its box as "key → target" instead of a long arrow across the page.
Nodes nothing leads to start columns of their own at the right. Dead ends and unreachable nodes are
marked as `ivr validate` finds them (ivr.checks): in words, not only in colour.
"""
from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from typing import Callable, Iterable, Mapping

from markupsafe import Markup, escape

from ..checks import DEAD_END, UNREACHABLE
from ..model import LANGUAGE, TRANSFER, Flow, Node
from ..problems import Problem

NODE_WIDTH, LINE_HEIGHT, PADDING = 250, 18, 8
COLUMN_GAP, ROW_GAP, MARGIN = 80, 16, 16
CHARACTERS = 32  # what fits on a line of a box at the console's font size


@dataclass(frozen=True)
class Edge:
    source: str
    target: str
    label: str  # the key, or "" for "then"


@dataclass
class Box:
    node: Node
    column: int
    lines: list[tuple[str, str]]  # (style, text)
    problems: list[Problem]
    back_edges: list[Edge] = field(default_factory=list)
    arrows: int = 0  # arrows leaving its right side, each with room for its key
    y: float = 0.0

    @property
    def dead_end(self) -> bool:
        return any(p.message == DEAD_END for p in self.problems)

    @property
    def unreachable(self) -> bool:
        return any(p.message == UNREACHABLE for p in self.problems)

    @property
    def height(self) -> float:
        return 2 * PADDING + max(LINE_HEIGHT * (len(self.lines) + len(self.back_edges)), 22 * self.arrows)

    @property
    def x(self) -> float:
        return MARGIN + self.column * (NODE_WIDTH + COLUMN_GAP)

    def summary(self) -> str:
        """The box in words, for screen readers and the list beside the diagram."""
        marks = [m for m, on in (("dead end", self.dead_end), ("nothing leads here", self.unreachable)) if on]
        return ", ".join([f"{self.node.id}, {self.node.kind}", *marks])


@dataclass
class Diagram:
    boxes: dict[str, Box]
    outgoing: dict[str, list[Edge]]  # by source, in key order: drawn as arrows, one column to the right
    width: float
    height: float


def short(text: str, limit: int = CHARACTERS) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[:limit - 1].rstrip() + "…"


def edges_of(flow: Flow) -> list[Edge]:
    """Where each node's own keys lead (a language menu's keys all lead to its next node)."""
    found = []
    for node in flow.nodes.values():
        for key, option in node.options.items():
            found.append(Edge(node.id, option.goto, key))
        if node.next:
            keys = sorted(lang.key for lang in flow.languages.values()) if node.kind == LANGUAGE else []
            found.append(Edge(node.id, node.next, f"{keys[0]}–{keys[-1]}" if len(keys) > 1 else "".join(keys)))
    return [e for e in found if e.target in flow.nodes]


def lines_of(flow: Flow, node: Node) -> list[tuple[str, str]]:
    """What a box says: the node's id and kind, its title or first words, where a transfer dials."""
    lines = [("name", short(f"{node.id} · {node.kind}"))]
    words = node.title or (node.say[0].source if node.say else "")
    if words:
        lines.append(("words", short(words)))
    if node.kind == TRANSFER and node.to:
        for position, dest in enumerate(flow.chain(node.to)):
            lines.append(("dials", short(f"{'then' if position else 'dials'} {dest.name.source}")))
        lines.append(("dials", "then the numbers, read out"))
    if node.service_codes:
        lines.append(("dials", short("finds " + ", ".join(node.service_codes))))
    return lines


def problems_by_node(flow: Flow, problems: Iterable[Problem]) -> dict[str, list[Problem]]:
    found: dict[str, list[Problem]] = {nid: [] for nid in flow.nodes}
    paths = {node.where.path: nid for nid, node in flow.nodes.items()}
    for problem in problems:
        parts = problem.path.split(".")
        for end in range(len(parts), 0, -1):
            nid = paths.get(".".join(parts[:end]))
            if nid is not None and problem.file == flow.nodes[nid].where.file:
                found[nid].append(problem)
                break
    return found


def columns(flow: Flow, edges: list[Edge]) -> dict[str, int]:
    """Each node's column: breadth-first from the start, then from the person and goodbye nodes
    (which the keys of every menu and the end of a call reach), then from each node left over."""
    leads: dict[str, list[str]] = {nid: [] for nid in flow.nodes}
    for edge in edges:
        leads[edge.source].append(edge.target)
    found: dict[str, int] = {}
    roots = [[flow.start], [n for n in (flow.person, flow.goodbye) if n], *([n] for n in flow.nodes)]
    for group in roots:
        group = [n for n in group if n in flow.nodes and n not in found]
        if not group:
            continue
        first = max(found.values(), default=-1) + 1
        queue = deque((n, first) for n in group)
        while queue:
            nid, column = queue.popleft()
            if nid in found:
                continue
            found[nid] = column
            queue.extend((t, column + 1) for t in leads[nid] if t not in found)
    return found


def layout(flow: Flow, problems: Iterable[Problem]) -> Diagram:
    edges = edges_of(flow)
    column_of = columns(flow, edges)
    troubles = problems_by_node(flow, problems)
    boxes = {nid: Box(node, column_of[nid], lines_of(flow, node), troubles[nid]) for nid, node in flow.nodes.items()}
    outgoing: dict[str, list[Edge]] = {}
    for edge in edges:
        if column_of[edge.target] == column_of[edge.source] + 1:
            outgoing.setdefault(edge.source, []).append(edge)
            boxes[edge.source].arrows += 1
        else:
            boxes[edge.source].back_edges.append(edge)
    for box in boxes.values():
        if box.dead_end:
            box.lines.append(("mark", "⚠ Dead end: no way on"))
        if box.unreachable:
            box.lines.append(("mark", "⚠ Nothing leads here"))
        errors = sum(1 for p in box.problems if not p.warning) - box.dead_end - box.unreachable
        warnings = sum(1 for p in box.problems if p.warning)
        for count, what in ((errors, "problem"), (warnings, "warning")):
            if count > 0:
                box.lines.append(("mark", f"⚠ {count} {what}{'s' if count > 1 else ''}"))
    # Top to bottom in each column, each box as near its parent's arrow as the boxes above allow.
    parent_port: dict[str, float] = {}
    bottom: dict[int, float] = {}
    order = _discovery_order(flow, column_of, outgoing)
    for nid in order:
        box = boxes[nid]
        wanted = parent_port.get(nid, MARGIN + box.height / 2) - box.height / 2
        box.y = max(wanted, bottom.get(box.column, MARGIN))
        bottom[box.column] = box.y + box.height + ROW_GAP
        arrows = outgoing.get(nid, [])
        for index, edge in enumerate(arrows):
            parent_port.setdefault(edge.target, port(box, index, len(arrows)))
    width = MARGIN * 2 + (max(column_of.values(), default=0) + 1) * (NODE_WIDTH + COLUMN_GAP) - COLUMN_GAP
    height = max(bottom.values(), default=MARGIN) + MARGIN
    return Diagram(boxes, outgoing, width, height)


def _discovery_order(flow: Flow, column_of: Mapping[str, int], outgoing: Mapping[str, list[Edge]]) -> list[str]:
    """Column by column; within a column, children in the order of their parents and keys."""
    rank: dict[str, int] = {}
    for nid in sorted(flow.nodes, key=lambda n: column_of[n]):
        if nid not in rank:
            rank[nid] = len(rank)
        for edge in outgoing.get(nid, ()):
            if edge.target not in rank:
                rank[edge.target] = len(rank)
    return sorted(flow.nodes, key=lambda n: (column_of[n], rank[n]))


def port(box: Box, index: int, count: int) -> float:
    """Where the `index`-th of `count` arrows leaves the right side of `box`."""
    return box.y + box.height * (index + 1) / (count + 1)


def render(diagram: Diagram, link: Callable[[str], str], title: str) -> Markup:
    """The diagram as inline SVG; each box links to `link(node_id)`."""
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" class="flow" viewBox="0 0 {diagram.width:.0f} '
           f'{diagram.height:.0f}" width="{diagram.width:.0f}" height="{diagram.height:.0f}" role="group" '
           f'aria-label="{escape(title)}">',
           '<defs><marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="7" markerHeight="7" '
           'orient="auto-start-reverse"><path d="M 0 0 L 10 5 L 0 10 z" class="arrowhead"/></marker></defs>']
    for source, edges in diagram.outgoing.items():
        box = diagram.boxes[source]
        for index, edge in enumerate(edges):
            target = diagram.boxes[edge.target]
            x1, y1 = box.x + NODE_WIDTH, port(box, index, len(edges))
            x2, y2 = target.x, target.y + target.height / 2
            bend = COLUMN_GAP / 2
            out.append(f'<path class="edge" d="M {x1:.0f} {y1:.0f} C {x1 + bend:.0f} {y1:.0f} {x2 - bend:.0f} '
                       f'{y2:.0f} {x2 - 2:.0f} {y2:.0f}" marker-end="url(#arrow)"/>')
            if edge.label:
                width = 8 + 8 * len(edge.label)
                out.append(f'<rect class="key" x="{x1 + 3:.0f}" y="{y1 - 9:.0f}" width="{width}" height="18" rx="9"/>'
                           f'<text class="key" x="{x1 + 3 + width / 2:.0f}" y="{y1 + 4:.0f}">{escape(edge.label)}</text>')
    for box in diagram.boxes.values():
        out.append(_box(box, link(box.node.id)))
    out.append("</svg>")
    return Markup("".join(out))


def _box(box: Box, href: str) -> str:
    classes = " ".join(["node", f"kind-{box.node.kind}", *(["dead-end"] if box.dead_end else []),
                        *(["unreachable"] if box.unreachable else []), *(["troubled"] if box.problems else [])])
    parts = [f'<a href="{escape(href)}" aria-label="{escape(box.summary())}" id="node-{escape(box.node.id)}">',
             f'<rect class="{classes}" x="{box.x:.0f}" y="{box.y:.0f}" width="{NODE_WIDTH}" '
             f'height="{box.height:.0f}" rx="6"/>']
    y = box.y + PADDING + LINE_HEIGHT - 5
    for style, text in box.lines:
        parts.append(f'<text class="{style}" x="{box.x + PADDING:.0f}" y="{y:.0f}">{escape(text)}</text>')
        y += LINE_HEIGHT
    for edge in box.back_edges:
        key = f"key {edge.label}" if edge.label else "then"
        parts.append(f'<text class="back" x="{box.x + PADDING:.0f}" y="{y:.0f}">'
                     f'{escape(short(f"{key} → {edge.target}"))}</text>')
        y += LINE_HEIGHT
    parts.append("</a>")
    return "".join(parts)
