"""The report service's token files and bearer check, as properties: every valid token
file reads back as its tokens; a short or blank-bearing token is refused naming its line;
a request is authorized exactly when it presents one of the tokens."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from compliance.errors import UsageError
from compliance.promote.serve import MIN_TOKEN_LENGTH, ServiceOptions, _authorized, read_tokens

TOKEN = st.text(st.characters(min_codepoint=0x21, max_codepoint=0x7E), min_size=MIN_TOKEN_LENGTH, max_size=64).filter(
    lambda t: not t.startswith("#"))


@settings(deadline=None, max_examples=60)
@given(tokens=st.lists(TOKEN, min_size=1, max_size=5), noise=st.lists(st.sampled_from(["", "   ", "# a comment"]), max_size=3))
def test_a_token_file_reads_back_as_its_tokens(tmp_path_factory: pytest.TempPathFactory, tokens: list[str], noise: list[str]) -> None:
    path = tmp_path_factory.mktemp("tokens") / "t"
    path.write_text("\n".join([*noise, *(f"  {t}  " for t in tokens), *noise]) + "\n")
    assert read_tokens(str(path), "--token-file") == tuple(t.encode() for t in tokens)


@settings(deadline=None, max_examples=60)
@given(bad=st.one_of(st.text(st.characters(min_codepoint=0x21, max_codepoint=0x7E), min_size=1, max_size=MIN_TOKEN_LENGTH - 1)
                     .filter(lambda t: not t.startswith("#")),
                     st.tuples(TOKEN, TOKEN).map(lambda p: f"{p[0]} {p[1]}")))
def test_a_short_or_split_token_is_refused_naming_its_line(tmp_path_factory: pytest.TempPathFactory, bad: str) -> None:
    path = tmp_path_factory.mktemp("tokens") / "t"
    path.write_text(f"# readers\n{bad}\n")
    with pytest.raises(UsageError, match=f"line 2: a token is at least {MIN_TOKEN_LENGTH} printable characters"):
        read_tokens(str(path), "--token-file")


def test_an_empty_token_file_is_refused(tmp_path: Path) -> None:
    (tmp_path / "t").write_text("# nobody yet\n\n")
    with pytest.raises(UsageError, match="no token in the file"):
        read_tokens(str(tmp_path / "t"), "--token-file")


@settings(deadline=None, max_examples=100)
@given(tokens=st.lists(TOKEN, min_size=1, max_size=4), presented=st.one_of(st.none(), TOKEN),
       scheme=st.sampled_from([b"Bearer", b"bearer", b"Basic"]))
def test_a_request_is_authorized_exactly_with_one_of_the_tokens(tokens: list[str], presented: str | None, scheme: bytes) -> None:
    headers = [] if presented is None else [(b"authorization", scheme + b" " + presented.encode())]
    expected = presented is not None and scheme.lower() == b"bearer" and presented in tokens
    assert _authorized({"headers": headers}, tuple(t.encode() for t in tokens)) is expected
    assert _authorized({"headers": headers}, ()) is True  # no token file: the endpoint is open (loopback only)


@pytest.mark.parametrize(("address", "tls", "tokens", "ok"), [
    (("127.0.0.1", 0), False, False, True),
    (("::1", 0), False, False, True),
    (("0.0.0.0", 0), False, True, False),
    (("0.0.0.0", 0), True, False, False),
    (("0.0.0.0", 0), True, True, True),
    (("gate.example", 0), True, True, True),
    (("gate.example", 0), False, True, False),
])
def test_beyond_loopback_tls_and_authentication_are_required(address: tuple[str, int], tls: bool, tokens: bool, ok: bool) -> None:
    options = ServiceOptions(address=address, tls_cert="c" if tls else None, tls_key="k" if tls else None,
                             read_tokens=(b"x" * 16,) if tokens else ())
    if ok:
        options.check()
    else:
        with pytest.raises(UsageError, match="beyond the loopback interface"):
            options.check()
