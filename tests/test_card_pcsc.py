"""Reading virtual CNS cards through the real stack: pyscard → libpcsclite → pcscd → vpcd →
the card emulator over TCP. pcscd is started by the ``pcscd_vpcd`` fixture when not running."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from cardreader.errors import CardError, CardErrorCode
from cardreader.pcsc import CardEvent, CardEventKind, CardWatcher, list_readers, read_card
from tests.fixtures.pcsc import wait_card

pytestmark = pytest.mark.pcsc
ROOT = Path(__file__).resolve().parents[1]
OTHER = {
    "surname": "D'ANGELO",
    "given_names": "GIAN LUCA",
    "codice_fiscale": "DNGGLC79P30F205W",
    "birth_date": "1979-09-30",
    "sex": "M",
    "issue_date": "2019-02-01",
    "expiry_date": "2025-02-01",
}


def cli(
    *args: str, timeout: float = 60, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "console", "card", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**os.environ, **(env or {})},
    )


def test_readers_listed(pcscd_vpcd: tuple[str, ...]) -> None:
    readers = list_readers()
    assert all(r in readers for r in pcscd_vpcd)


def test_read_demo_card(virtual_card) -> None:  # type: ignore[no-untyped-def]
    em = virtual_card()
    data = read_card(em.reader_name)
    s = data.summary()
    assert s["surname"] == "ROSSI" and s["given_names"] == "MARIA"
    assert s["codice_fiscale"] == "RSSMRA85D52H501P" == s["certificate_cf"]
    assert s["birth_date"] == "1985-04-12" and s["sex"] == "F"
    assert s["has_certificate"] is True and s["expired"] is False
    assert data.atr_is_cns and data.atr == em.card.atr
    assert data.apdu_count == em.card.apdus  # every APDU we counted reached the card


def test_read_other_person_in_slot_1_first_reader_with_card(virtual_card) -> None:  # type: ignore[no-untyped-def]
    virtual_card(slot=0, insert=False)  # slot 0 stays empty
    virtual_card(OTHER, slot=1)
    data = read_card()  # the first reader holding a card
    assert data.reader == "Virtual PCD 00 01"
    assert data.personal.surname == "D'ANGELO" and data.personal.given_names == "GIAN LUCA"
    assert data.expired()  # expired in 2025


def test_cli_read_json(virtual_card) -> None:  # type: ignore[no-untyped-def]
    em = virtual_card(OTHER, certificate="tinit")
    proc = cli("read", "--json", "--reader", em.reader_name)
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout)
    assert set(out) == {
        "card_number",
        "surname",
        "given_names",
        "birth_date",
        "sex",
        "codice_fiscale",
        "issue_date",
        "expiry_date",
        "has_certificate",
        "certificate_cf",
        "expired",
    }
    assert out["codice_fiscale"] == out["certificate_cf"] == "DNGGLC79P30F205W"
    assert out["issue_date"] == "2019-02-01" and out["expiry_date"] == "2025-02-01"
    assert out["expired"] is True and out["card_number"] == "8038000012345678"


def test_cli_emulate_then_read(virtual_card, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    virtual_card(slot=1, insert=False)  # take the slot; the CLI emulator will use it
    data_file = tmp_path / "card.json"
    data_file.write_text(json.dumps(OTHER), encoding="utf-8")
    emu = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "console",
            "virtual-card",
            "--data",
            str(data_file),
            "--slot",
            "1",
            "--no-certificate",
            "--seconds",
            "60",
        ],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert emu.stdout is not None
        line = emu.stdout.readline()
        assert "Virtual PCD 00 01" in line, emu.stderr.read() if emu.stderr else ""
        wait_card("Virtual PCD 00 01", present=True)
        proc = cli("read", "--json", "--reader", "Virtual PCD 00 01")
        assert proc.returncode == 0, proc.stderr
        out = json.loads(proc.stdout)
        assert out["surname"] == "D'ANGELO"
        assert out["has_certificate"] is False and out["certificate_cf"] is None
    finally:
        emu.terminate()
        emu.wait(10)
    assert emu.returncode == 0
    wait_card("Virtual PCD 00 01", present=False)


def test_cli_no_card_and_unknown_reader(virtual_card) -> None:  # type: ignore[no-untyped-def]
    virtual_card(slot=0, insert=False)
    virtual_card(slot=1, insert=False)
    proc = cli("read", "--json")
    assert proc.returncode != 0 and proc.stdout == ""
    assert proc.stderr.strip() == "card: no card in the reader"
    proc = cli("read", "--json", "--reader", "No Such Reader 00 00")
    assert proc.returncode != 0 and "not connected" in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1


def test_cli_pcscd_not_running_says_how_to_start_it() -> None:
    # libpcsclite looks for pcscd's socket where PCSCLITE_CSOCK_NAME says: nobody listens there
    proc = cli("read", "--json", env={"PCSCLITE_CSOCK_NAME": "/nonexistent/pcscd.comm"})
    assert proc.returncode != 0
    assert "pcscd" in proc.stderr and "systemctl start pcscd" in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1


@pytest.mark.parametrize("after", [2, 5, 7])
def test_card_pulled_out_mid_read(virtual_card, after: int) -> None:  # type: ignore[no-untyped-def]
    em = virtual_card(remove_after_apdus=after)
    with pytest.raises(CardError) as err:
        read_card(em.reader_name)
    assert em.pulled_mid_read.is_set()
    assert err.value.code in (CardErrorCode.CARD_REMOVED, CardErrorCode.NO_CARD)
    wait_card(em.reader_name, present=False)
    # inserted again, the same card reads completely
    em.card.profile.remove_after_apdus = None
    em.insert()
    wait_card(em.reader_name, present=True)
    assert read_card(em.reader_name).personal.surname == "ROSSI"


def test_cli_pulled_out_mid_read(virtual_card) -> None:  # type: ignore[no-untyped-def]
    em = virtual_card(remove_after_apdus=4)
    proc = cli("read", "--json", "--reader", em.reader_name)
    assert proc.returncode != 0 and proc.stdout == ""
    assert "removed during the read" in proc.stderr


@pytest.mark.parametrize("style", ["none", "blank"])
def test_tessera_sanitaria_without_cns_certificate(virtual_card, style: str) -> None:  # type: ignore[no-untyped-def]
    em = virtual_card(certificate=style)
    data = read_card(em.reader_name)
    assert not data.has_certificate and data.summary()["certificate_cf"] is None
    proc = cli("read", "--reader", em.reader_name)
    assert proc.returncode == 0
    assert "no CNS authentication certificate" in proc.stdout


def test_atr_without_cns_marker_falls_back(virtual_card) -> None:  # type: ignore[no-untyped-def]
    em = virtual_card(atr_cns=False, select_by_path=False, t0_style=True)
    data = read_card(em.reader_name)
    assert not data.atr_is_cns
    assert data.personal.codice_fiscale == "RSSMRA85D52H501P"


def test_not_a_cns_card(virtual_card) -> None:  # type: ignore[no-untyped-def]
    em = virtual_card(atr_cns=False, insert=False)
    em.card.files = {}
    em.insert()
    wait_card(em.reader_name, present=True)
    with pytest.raises(CardError) as err:
        read_card(em.reader_name)
    assert err.value.code == CardErrorCode.NOT_CNS


@pytest.mark.parametrize(
    ("files", "code"),
    [
        ({"1100/1102": b"0000FF" + b"0A" + b"\x00" * 30}, CardErrorCode.MALFORMED_PERSONAL_DATA),
        ({"1100/1102": b"00 0FF"}, CardErrorCode.MALFORMED_PERSONAL_DATA),
        ({"1000/1003": b"12345"}, CardErrorCode.MALFORMED_CARD_NUMBER),
        ({"1100/1101": b"\x30\x82\x04\x00" + b"\x02" * 300}, CardErrorCode.MALFORMED_CERTIFICATE),
    ],
)
def test_malformed_files_through_pcscd(
    virtual_card, files: dict[str, bytes], code: CardErrorCode
) -> None:  # type: ignore[no-untyped-def]
    em = virtual_card(raw_files=files)
    with pytest.raises(CardError) as err:
        read_card(em.reader_name)
    assert err.value.code == code
    proc = cli("read", "--json", "--reader", em.reader_name)
    assert proc.returncode != 0 and proc.stdout == ""
    assert "Traceback" not in proc.stderr and "ROSSI" not in proc.stderr


def test_watcher_sees_insertion_and_removal(virtual_card) -> None:  # type: ignore[no-untyped-def]
    em = virtual_card(insert=False)
    events: list[CardEvent] = []
    seen = threading.Condition()

    def on_event(ev: CardEvent) -> None:
        with seen:
            events.append(ev)
            seen.notify_all()

    def wait_for(kind: CardEventKind) -> CardEvent:
        with seen:
            assert seen.wait_for(
                lambda: any(e.kind == kind and e.reader == em.reader_name for e in events), 10
            ), events
            return next(e for e in events if e.kind == kind and e.reader == em.reader_name)

    watcher = CardWatcher(on_event)
    watcher.start()
    try:
        with seen:
            assert seen.wait_for(
                lambda: any(e.kind == CardEventKind.READERS_CHANGED for e in events), 10
            )
        assert (
            em.reader_name
            in next(e for e in events if e.kind == CardEventKind.READERS_CHANGED).readers
        )
        em.insert()
        inserted = wait_for(CardEventKind.INSERTED)
        assert inserted.atr == em.card.atr
        em.remove()
        wait_for(CardEventKind.REMOVED)
    finally:
        t0 = time.monotonic()
        watcher.stop()
        assert time.monotonic() - t0 < 3
