"""The parse cache: one document object per text, hashed and compared by identity."""

from gateway.security.documents import document_cache


def test_parsed_documents_are_their_own_cache_keys():
    parse = document_cache(1000, 4)
    one, two = parse("{ tree { id } }"), parse("{ tree { id } }")
    assert one is two
    assert one.kind == "document"
    assert hash(one) == object.__hash__(one)
    assert one == two and one != parse("{ tree { label } }")
