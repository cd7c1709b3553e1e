"""The committed SDL is the schema: a change to the API's shape is a deliberate, reviewed diff."""

from pathlib import Path

import clientstrata.api
from clientstrata.api.schema import schema

SDL = Path(clientstrata.api.__file__).with_name("schema.graphql")


def test_committed_sdl_matches_the_code():
    assert SDL.read_text(encoding="utf-8") == schema.as_str() + "\n", (
        "the GraphQL schema changed: review it, then run `clientstrata schema > api/schema.graphql`"
    )
