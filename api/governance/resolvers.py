"""Override and audit-log queries: one call each into the domain functions."""

from __future__ import annotations

from functools import partial

from strawberry.types import Info

from clientstrata.api.pagination import PageInfo, decode_cursor, encode_cursor
from clientstrata.graph.errors import NotFound
from clientstrata.graph.record.access import OutOfBook
from clientstrata.graph.record.audit import audit_page
from clientstrata.jobs.governance.overrides import get_override, overrides_page

from .filters import AuditFilter, OverrideFilter
from .types import AuditConnection, AuditEdge, AuditEntry, Override, OverrideConnection, OverrideEdge

__all__ = ["resolve_override", "resolve_overrides", "resolve_audit_log"]


async def resolve_override(info: Info, id: int) -> Override | None:
    try:
        return Override.from_record(await info.context.run(partial(get_override, book=info.context.principal.book), id))
    except OutOfBook as exc:  # not in a relationship manager's book: the same answer as none, audited
        await info.context.refused(exc.kind, exc.key, info.field_name)
        return None
    except NotFound:
        return None


async def resolve_overrides(
    info: Info, filter: OverrideFilter | None, first: int, after: str | None
) -> OverrideConnection:
    f = filter or OverrideFilter()
    rows, more = await info.context.run(
        partial(
            overrides_page,
            first=first,
            after=decode_cursor("override", after) or 0,
            customer_id=None if f.customer_id is None else str(f.customer_id),
            status=f.status,
            dimension=f.dimension,
            proposed_by=f.proposed_by,
            book=info.context.principal.book,
        )
    )
    edges = [OverrideEdge(cursor=encode_cursor("override", o.override_id), node=Override.from_record(o)) for o in rows]
    return OverrideConnection(edges=edges, page_info=PageInfo.of(edges, more))


async def resolve_audit_log(info: Info, filter: AuditFilter | None, first: int, after: str | None) -> AuditConnection:
    f = filter or AuditFilter()
    rows, more = await info.context.run(
        partial(
            audit_page,
            first=first,
            after=decode_cursor("audit", after) or 0,
            actor=f.actor,
            action=f.action,
            entity_type=f.entity_type,
            entity_id=f.entity_id,
            since=f.since,
        )
    )
    edges = [AuditEdge(cursor=encode_cursor("audit", r["audit_id"]), node=AuditEntry.from_row(r)) for r in rows]
    return AuditConnection(edges=edges, page_info=PageInfo.of(edges, more))
