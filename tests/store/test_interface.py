"""Both backends implement the whole store interface: a method one of them lacks fails
only when a face or a command first calls it on that backend."""

import inspect

import pytest

from kpitui.store.api import StoreReader, StoreWriter, WriteBatch
from kpitui.store.postgres.reader import PgReader
from kpitui.store.postgres.writer import PgBatch, PgWriter
from kpitui.store.sqlite.reader import SqliteReader
from kpitui.store.sqlite.writer import Batch, Writer


def interface(protocol: type) -> set[str]:
    return {
        name
        for name, member in vars(protocol).items()
        if not name.startswith("_") and (callable(member) or isinstance(member, property))
    }


@pytest.mark.parametrize(
    "protocol, classes",
    [
        (StoreReader, (SqliteReader, PgReader)),
        (StoreWriter, (Writer, PgWriter)),
        (WriteBatch, (Batch, PgBatch)),
    ],
)
def test_every_backend_has_every_method_of_the_interface(protocol, classes):
    wanted = interface(protocol)
    assert wanted, protocol
    for cls in classes:
        missing = {name for name in wanted if not hasattr(cls, name)}
        assert not missing, f"{cls.__name__} lacks {sorted(missing)}"
        for name in wanted:
            member = getattr(cls, name)
            if callable(member) and callable(getattr(protocol, name)):
                want = list(inspect.signature(getattr(protocol, name)).parameters)
                assert list(inspect.signature(member).parameters) == want, (cls.__name__, name)
