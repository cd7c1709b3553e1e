"""What an operation may cost, computed from its document before any resolver runs.

The depth, alias and token limits bound a document's text, not its work: a few lines can ask for
a thousand customers' thousand-node ecosystems. The cost is an upper bound on the objects an
operation can produce: each list multiplies what is selected under it by its size (a `first`
argument, or the list's documented bound), down through fragments and with variables and
defaults resolved; a graph walk counts once per hop. A field on a single object costs one per
parent; scalars cost nothing, except a table's page (its rows, columns or Arrow stream).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    GraphQLSchema,
    InlineFragmentNode,
    OperationDefinitionNode,
    SelectionSetNode,
    get_named_type,
    get_nullable_type,
    is_composite_type,
    is_list_type,
)
from graphql.execution.values import get_argument_values, get_variable_values

__all__ = ["DEFAULT_LIST", "LIST_BOUNDS", "operation_cost"]

# A list without a `first` argument: its documented bound where it has one, else a customer's
# share of a small set (tags per dimension, product families, household members).
DEFAULT_LIST = 10
LIST_BOUNDS: Mapping[tuple[str, str], int] = {
    ("Customer", "alerts"): 50,
    ("Customer", "feedback"): 50,
    ("Enterprise", "people"): 200,
}
# The list a connection's `first` sizes: its edges, or a table's page in any of its encodings
# (rows, the same cells column by column, the same page as Arrow).
_PAGES = frozenset({"edges", "rows", "columnValues", "arrow"})


def _operation(document: DocumentNode, name: str | None) -> OperationDefinitionNode | None:
    ops = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    if name is None:
        return ops[0] if len(ops) == 1 else None
    return next((o for o in ops if o.name and o.name.value == name), None)


class _Walk:
    def __init__(self, schema: GraphQLSchema, document: DocumentNode, variables: dict[str, Any]) -> None:
        self.schema, self.variables = schema, variables
        self.fragments = {d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)}

    def _args(self, field_def, node: FieldNode) -> dict[str, Any]:
        try:
            return get_argument_values(field_def, node, self.variables)
        except GraphQLError:  # execution refuses the field itself; count its defaults meanwhile
            return {k: a.default_value for k, a in field_def.args.items() if isinstance(a.default_value, int)}

    def cost(self, selections: SelectionSetNode, parent, parents: int, page: int | None, spreads=()) -> int:
        total = 0
        for sel in selections.selections:
            if isinstance(sel, FieldNode):
                total += self._field(sel, parent, parents, page)
            elif isinstance(sel, InlineFragmentNode):
                on = self.schema.get_type(sel.type_condition.name.value) if sel.type_condition else parent
                total += self.cost(sel.selection_set, on or parent, parents, page, spreads)
            elif isinstance(sel, FragmentSpreadNode):
                frag = self.fragments.get(sel.name.value)
                if frag is None or frag.name.value in spreads:  # validation refuses both; never loop
                    continue
                on = self.schema.get_type(frag.type_condition.name.value) or parent
                total += self.cost(frag.selection_set, on, parents, page, (*spreads, frag.name.value))
        return total

    def _field(self, node: FieldNode, parent, parents: int, page: int | None) -> int:
        fields = getattr(parent, "fields", None) or {}
        field_def = fields.get(node.name.value)
        if field_def is None:  # __typename, or a field of another member of a union
            return 0
        args = self._args(field_def, node)
        first = args.get("first") if isinstance(args.get("first"), int) else None
        is_list = is_list_type(get_nullable_type(field_def.type))
        is_page = node.name.value in _PAGES and page is not None  # a table's rows are one JSON value
        if is_page:
            width = page
        elif not is_list:
            width = 1
        elif first is not None:
            width = first
        else:
            width = LIST_BOUNDS.get((parent.name, node.name.value), DEFAULT_LIST)
        items = parents * max(width, 0)
        named = get_named_type(field_def.type)
        if not is_composite_type(named):
            return items if is_page else 0
        hops = args.get("hops")
        own = items * (hops if isinstance(hops, int) and hops > 1 else 1)
        if node.selection_set is None:
            return own
        # a connection's `first` sizes its page (edges, rows) one level down, not the connection
        return own + self.cost(node.selection_set, named, items, None if is_list else first)


def operation_cost(
    schema: GraphQLSchema,
    document: DocumentNode,
    operation_name: str | None = None,
    variables: Mapping[str, Any] | None = None,
) -> int:
    """The operation's cost (see the module's docstring); 0 for an operation that cannot run
    (none selected, variables that do not coerce): execution refuses it before any resolver."""
    op = _operation(document, operation_name)
    if op is None:
        return 0
    coerced = get_variable_values(schema, op.variable_definitions or (), dict(variables or {}))
    if isinstance(coerced, list):  # errors: execution reports them
        return 0
    root = schema.get_root_type(op.operation)
    if root is None:
        return 0
    return _Walk(schema, document, coerced).cost(op.selection_set, root, 1, None)
