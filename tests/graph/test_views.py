"""`ecosystem_view`: a relationship manager's walk widens to fill the page with their own people,
never past its window, however many strangers stand in the way."""

import sqlalchemy as sa

from clientstrata.graph.record.models import Individual, RelationshipManager
from clientstrata.graph.views import ECOSYSTEM_WINDOW, ecosystem_view


class _Watched:
    """The real store, with the window of every walk asked of it written down."""

    def __init__(self, store) -> None:
        self.store, self.windows = store, []

    def walk(self, customer_id, hops, first=None, **options):
        self.windows.append(first)
        return self.store.walk(customer_id, hops, first=first, **options)


def _widest(engine, graph):
    """The customer (among the first hundred) with the most nodes within four hops, and those nodes."""
    with engine.connect() as conn:
        ids = conn.execute(sa.select(Individual.customer_id).order_by(Individual.customer_id).limit(100)).scalars()
        return max(((cid, graph.ecosystem(cid, 4)) for cid in ids), key=lambda found: len(found[1]))


def test_a_book_full_of_strangers_stops_the_walk_at_its_window(loaded):
    engine, graph = loaded
    customer, everyone = _widest(engine, graph)
    assert len(everyone) >= 20 and (everyone["label"] == "Individual").sum() >= 10
    with engine.begin() as conn:  # a book of one: every other person in the walk is a stranger
        branch = conn.execute(sa.select(RelationshipManager.branch_id).limit(1)).scalar_one()
        conn.execute(sa.insert(RelationshipManager).values(rm_id="RM-SOLO", name="Solo", branch_id=branch))
        conn.execute(sa.update(Individual).where(Individual.customer_id == customer).values(rm_id="RM-SOLO"))
    others = int((everyone["label"] != "Individual").sum())
    window = len(everyone) // 2
    watched = _Watched(graph)
    with engine.connect() as conn:
        # asks for more than could ever be shown: the page can never fill
        shown = ecosystem_view(conn, watched, customer, 4, "RM-SOLO", first=others + 1, window=window)
    assert max(watched.windows) == window and len(watched.windows) <= 3
    nearest = everyone.head(window)
    assert [r[1] for r in shown] == list(nearest.loc[nearest["label"] != "Individual", "id"])


def test_the_window_is_bounded_by_default_and_others_walk_once(loaded):
    engine, graph = loaded
    customer, everyone = _widest(engine, graph)
    watched = _Watched(graph)
    with engine.connect() as conn:
        rm = conn.execute(sa.select(Individual.rm_id).where(Individual.customer_id == customer)).scalar_one()
        ecosystem_view(conn, watched, customer, 4, rm, first=1)
        assert max(watched.windows) <= ECOSYSTEM_WINDOW
        watched.windows.clear()
        assert len(ecosystem_view(conn, watched, customer, 4, None, first=5)) == min(5, len(everyone))
    assert watched.windows == [5]  # no book: no stranger, one walk
