"""Phase two of loading a line: link the pieces and check the whole graph.

Every reference resolves, every node is reached and can reach a person or a goodbye, keys do
not clash, fallback chains do not loop, placeholders name destinations. Each problem is appended
to the builder's list, located by file, line and key path.
"""
from __future__ import annotations

from collections import deque
from typing import ClassVar, Iterable, Mapping, Protocol

from .build import CONNECT, Builder
from .model import BACK, TRANSFER, Flow, Node, Text, Where
from .problems import Problem

#: What the graph checks say of a node no call can reach, and of one from which no call can end
#: well (the console's diagram marks the nodes these problems are about).
UNREACHABLE = "nothing leads to this node"
DEAD_END = "dead end: no path from here reaches a person or a goodbye"

#: Phrases with a value filled in at call time, not a destination's number.
DYNAMIC_PLACEHOLDERS = {"opens": frozenset({"day", "time"}), "dir_open_until": frozenset({"time"}),
                        "dir_closed_opens": frozenset({"day", "time"}), "dir_extension": frozenset({"extension"})}


class GraphRole(Protocol):
    """What the graph checks ask of a node kind."""

    is_menu: ClassVar[bool]  # the back key returns to it
    ends: ClassVar[bool]  # reaching it ends a caller's search


def back_targets_and_problems(builder: Builder, flow: Flow, kinds: Mapping[str, GraphRole]) -> dict[str, str]:
    """Phase two: every reference resolves, every node is reached and can reach a person or goodbye.

    Returns the back-key target of every menu and message.
    """
    nodes = flow.nodes
    src = builder.line_section[0]
    problems = builder.problems
    problems_before = len(problems)

    def unknown(where: Where, what: str, ref: str, suffix: str = "") -> None:
        problems.append(Problem.at(where, f"{what} unknown node '{ref}'", suffix=suffix))

    for field_name in ("start", "person", "goodbye"):
        ref = getattr(flow, field_name)
        if ref is not None and ref not in nodes:
            builder.fail(src, ("line", field_name), f"is an unknown node '{ref}'")
    person = nodes.get(flow.person or "")
    if person and person.kind != TRANSFER:
        builder.fail(src, ("line", "person"), f"'{person.id}' must be a transfer node")
    check = flow.language_check
    for option in check.options.values() if check else ():
        if option.goto != CONNECT and option.goto not in nodes:
            unknown(option.where, "goes to", option.goto, ".goto")
    for node in nodes.values():
        for option in node.options.values():
            if option.goto not in nodes:
                unknown(option.where, "goes to", option.goto, ".goto")
        if node.next and node.next not in nodes:
            unknown(node.where, "next is", node.next)
        if node.back and node.back not in nodes:
            unknown(node.where, "back is", node.back)
        if node.kind == TRANSFER and node.to and node.to not in builder.destinations:
            problems.append(Problem.at(node.where, f"connects to unknown destination '{node.to}'", suffix=".to"))
        for code in node.languages:
            if code not in flow.languages:
                problems.append(Problem.at(node.where, f"'{code}' is not one of the line's languages",
                                           suffix=".languages"))
    # Reachable: from the start by the flow's own keys, plus what the keys of every menu reach.
    always = [n for n in (flow.person, flow.goodbye) if n in nodes]
    parents: dict[str, str] = {}
    seen = set()
    queue = deque(n for n in [flow.start, *always] if n in nodes)
    while queue:
        current = queue.popleft()
        if current in seen:
            continue
        seen.add(current)
        for target in nodes[current].targets:
            if target in nodes and target not in seen:
                parents.setdefault(target, current)
                queue.append(target)
    for node in nodes.values():
        if node.id not in seen:
            problems.append(Problem.at(node.where, UNREACHABLE))
    back = _back_targets(nodes, parents, kinds)
    if len(problems) > problems_before:
        return back  # with references broken, dead ends would only echo them
    # Dead ends: follow the flow's own keys (and the back key, if the line has one) backwards
    # from every person and goodbye. The person key is left out on purpose: a caller should be
    # able to find their way without it.
    has_back = any(k.action == BACK for k in flow.keys.values())
    leads_to: dict[str, set[str]] = {n: set() for n in nodes}
    for node in nodes.values():
        for target in node.targets + ((back[node.id],) if has_back else ()):
            if target in leads_to:
                leads_to[target].add(node.id)
    # A directory search ends with places to call, and offers a person when it finds none.
    ending = deque(n.id for n in nodes.values() if kinds[n.kind].ends)
    can_end = set()
    while ending:
        current = ending.popleft()
        if current not in can_end:
            can_end.add(current)
            ending.extend(leads_to[current])
    for node in nodes.values():
        if node.id not in can_end:
            problems.append(Problem.at(node.where, DEAD_END))
    return back


def _back_targets(nodes: Mapping[str, Node], parents: dict[str, str],
                  kinds: Mapping[str, GraphRole]) -> dict[str, str]:
    """Back goes to the nearest menu above, as the caller first came down the tree."""
    back: dict[str, str] = {}
    for node in nodes.values():
        if node.back:
            back[node.id] = node.back if node.back in nodes else node.id
            continue
        up = parents.get(node.id)
        while up and not kinds[nodes[up].kind].is_menu:
            up = parents.get(up)
        back[node.id] = up or node.id
    return back


def check_chains(builder: Builder, codes: Iterable[str]) -> None:
    """Each destination's `next` exists, and no chain comes back to a destination it has tried;
    the languages its helpers speak are the line's."""
    dests = builder.destinations
    for dest in dests.values():
        for code in dest.languages:
            if code not in codes:
                builder.problems.append(Problem.at(dest.where, f"'{code}' is not one of the line's languages",
                                                   suffix=".languages"))
        seen, current = [dest.id], dest
        while current.next:
            if current.next not in dests:
                builder.problems.append(Problem.at(current.where, f"is an unknown destination '{current.next}'",
                                                   suffix=".next"))
                break
            if current.next in seen:
                builder.problems.append(Problem.at(dest.where, "the fallback chain loops: " +
                                                   " -> ".join(seen + [current.next]), suffix=".next"))
                break
            seen.append(current.next)
            current = dests[current.next]


def check_placeholders(builder: Builder, texts: Iterable[Text]) -> None:
    for text in texts:
        allowed = set(builder.destinations) | DYNAMIC_PLACEHOLDERS.get(text.where.path.split(".")[-1], set())
        for name in sorted(text.placeholders - allowed):
            builder.problems.append(Problem.at(text.where, f"{{{name}}} is not a destination"))


def check_keys(builder: Builder, flow: Flow) -> None:
    """No menu (the language check's included) gives a key that every menu already gives."""
    check = flow.language_check
    options = [option for node in flow.nodes.values() for option in node.options.values()]
    for option in (*options, *(check.options.values() if check else ())):
        if option.key in flow.keys:
            builder.problems.append(Problem.at(option.where, f"key {option.key} is already the "
                                                             f"'{flow.keys[option.key].action}' key in every menu"))
