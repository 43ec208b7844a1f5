"""`recognition-console card ...` failure paths that need no pcscd, and the PC/SC error map."""

from __future__ import annotations

import argparse
import json
import socket
from pathlib import Path

import pytest
from smartcard import scard

from cardreader import cli, pcsc
from cardreader.errors import CardErrorCode
from demo import virtual_card_cli as vcli


def parse(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    cli.add_arguments(parser)
    return parser.parse_args(list(argv))


def vparse(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    vcli.add_arguments(parser)
    return parser.parse_args(list(argv))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_no_reader_is_one_line_and_non_zero(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(pcsc.PcscContext, "__init__", lambda self: setattr(self, "handle", None))
    monkeypatch.setattr(pcsc.PcscContext, "readers", lambda self: [])
    assert cli.run(parse("read", "--json")) == 1
    out, err = capsys.readouterr()
    assert out == "" and err == "card: no smart-card reader is connected\n"
    assert cli.run(parse("readers")) == 1
    assert "no smart-card reader" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("hresult", "in_use", "code"),
    [
        (scard.SCARD_E_NO_SERVICE, False, CardErrorCode.NO_SERVICE),
        (scard.SCARD_E_SERVICE_STOPPED, True, CardErrorCode.NO_SERVICE),
        (scard.SCARD_E_READER_UNAVAILABLE, True, CardErrorCode.READER_REMOVED),
        (scard.SCARD_E_UNKNOWN_READER, False, CardErrorCode.READER_REMOVED),
        (scard.SCARD_W_REMOVED_CARD, True, CardErrorCode.CARD_REMOVED),
        (scard.SCARD_E_NO_SMARTCARD, False, CardErrorCode.NO_CARD),
        (scard.SCARD_E_NO_SMARTCARD, True, CardErrorCode.CARD_REMOVED),
        (scard.SCARD_W_UNRESPONSIVE_CARD, False, CardErrorCode.CARD_UNRESPONSIVE),
        (0x80100099, False, CardErrorCode.PCSC_ERROR),
    ],
)
def test_pcsc_error_map(hresult: int, in_use: bool, code: CardErrorCode) -> None:
    err = pcsc.pcsc_error(hresult, "transmit", card_in_use=in_use)
    assert err.code == code
    assert "\n" not in err.reason and err.reason


def test_emulate_without_vpcd_says_why(capsys: pytest.CaptureFixture[str]) -> None:
    rc = vcli.run(vparse("--port", str(free_port()), "--seconds", "1"))
    assert rc == 1
    err = capsys.readouterr().err.strip()
    assert err.startswith("card: cannot reach the vpcd reader") and "pcscd" in err
    assert len(err.splitlines()) == 1


@pytest.mark.parametrize(
    "content",
    [
        "not json",
        "[1, 2]",
        json.dumps({"surname": "ROSSI"}),
        json.dumps(
            {"surname": "A", "given_names": "B", "codice_fiscale": "X", "birth_date": "1985-13-01"}
        ),
    ],
)
def test_emulate_bad_data_file(
    tmp_path: Path, content: str, capsys: pytest.CaptureFixture[str]
) -> None:
    f = tmp_path / "card.json"
    f.write_text(content, encoding="utf-8")
    assert vcli.run(vparse("--data", str(f), "--port", str(free_port()))) == 1
    err = capsys.readouterr().err
    assert err.startswith("card: cannot use the card data file") and "Traceback" not in err
