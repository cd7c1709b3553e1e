"""Bounds on a standard's YAML before anything walks it.

A draft comes from any user with `whatif`. YAML anchors let a few hundred bytes name a tree of
billions of nodes (each alias repeats a node that repeats others: the "billion laughs"), and an
anchor may even name itself; the parser shares such nodes, but locating lines and checking the
schema walk the tree as written out. So the text is bounded, and the tree is counted as
expanded, without expanding it, before it is read.
"""

from __future__ import annotations

import yaml

__all__ = ["MAX_STANDARD_BYTES", "MAX_NODES", "Unbounded", "check_size", "check_expansion"]

MAX_STANDARD_BYTES = 256 * 1024  # the default standard is ~20 KB
MAX_NODES = 100_000  # keys, values and items once every alias is written out; the default has ~3,000


class Unbounded(ValueError):
    """The text is too large to read; `line` (1-based) where it was found, if known."""

    def __init__(self, message: str, line: int | None = None) -> None:
        super().__init__(message)
        self.line = line


def check_size(text: str) -> None:
    size = len(text.encode("utf-8", "surrogatepass"))
    if size > MAX_STANDARD_BYTES:
        raise Unbounded(f"the standard is {size:,} bytes, over the limit of {MAX_STANDARD_BYTES:,}")


def _children(node: yaml.Node) -> list[yaml.Node]:
    if isinstance(node, yaml.MappingNode):
        return [n for pair in node.value for n in pair]
    if isinstance(node, yaml.SequenceNode):
        return list(node.value)
    return []


def check_expansion(root: yaml.Node | None, limit: int = MAX_NODES) -> None:
    """Refuses a composed tree with an alias inside itself or more than `limit` nodes once
    expanded. Each distinct node is visited once: its expanded size is one plus its children's,
    remembered."""
    if root is None:
        return
    sizes: dict[int, int] = {}
    open_: set[int] = set()  # the nodes on the path being walked: meeting one again is a cycle
    stack: list[tuple[yaml.Node, bool]] = [(root, False)]
    while stack:
        node, finished = stack.pop()
        key = id(node)
        if finished:
            open_.discard(key)
            sizes[key] = 1 + sum(sizes[id(c)] for c in _children(node))
            if sizes[key] > limit:
                raise Unbounded(f"its aliases expand to more than {limit:,} nodes", node.start_mark.line + 1)
            continue
        if key in sizes:
            continue
        if key in open_:
            raise Unbounded("an alias refers to the node that contains it", node.start_mark.line + 1)
        open_.add(key)
        stack.append((node, True))
        stack.extend((c, False) for c in _children(node) if id(c) not in sizes)
