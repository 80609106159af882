"""Zone-file rendering: TXT values split into ≤255-byte strings (RFC 1035 §3.3.14)."""

from __future__ import annotations

import dns.rdata
import dns.rdataclass
import dns.rdatatype
import dns.rrset

from onboarding.dnscheck.zonefile import Record, render_zone, split_txt, txt_rdata


def test_split_keeps_every_chunk_within_255_bytes_and_rejoins_exactly() -> None:
    """A 600-byte value becomes 3 strings of ≤255 bytes whose concatenation is the value."""
    value = "v=DKIM1; k=rsa; p=" + "A" * 582
    chunks = split_txt(value)
    assert [len(c.encode()) for c in chunks] == [255, 255, 90]
    assert "".join(chunks) == value


def test_split_never_cuts_a_utf8_character() -> None:
    """Multi-byte characters stay whole, so each string is valid UTF-8."""
    value = "é" * 200  # 400 bytes
    chunks = split_txt(value)
    assert all(len(c.encode()) <= 255 for c in chunks)
    assert "".join(chunks) == value
    assert len(chunks[0].encode()) == 254


def test_short_and_empty_values_are_one_string() -> None:
    """A value of at most 255 bytes, even an empty one, is one TXT string."""
    assert split_txt("v=spf1 -all") == ("v=spf1 -all",)
    assert split_txt("") == ("",)


def test_txt_rdata_parses_back_to_the_same_strings_on_the_wire() -> None:
    """The rendered rdata, parsed by dnspython and sent as wire bytes, keeps the split."""
    value = 'say "hi" \\ ' + "x" * 300
    rrset = dns.rrset.from_text("a.example.test.", 300, "IN", "TXT", txt_rdata(value))
    wire = rrset[0].to_wire()
    assert wire[0] == 255  # first character-string: length octet 255
    assert wire[256] == len(value.encode()) - 255
    parsed = dns.rdata.from_wire(dns.rdataclass.IN, dns.rdatatype.TXT, wire, 0, len(wire))
    assert b"".join(parsed.strings).decode() == value  # type: ignore[attr-defined]


def test_zone_lines_are_absolute_and_parse() -> None:
    """Every rendered line is ``name. ttl IN type rdata`` and parses as a record."""
    records = [
        Record("acme.test", "MX", "10 mail.mailroute.test.", 3600),
        Record("acme.test", "TXT", "v=spf1 include:spf.mailroute.test ~all", 3600),
        Record("_imaps._tcp.acme.test", "SRV", "0 1 993 imap.mailroute.test.", 3600),
    ]
    text = render_zone(records, header="acme.test: records to publish")
    lines = text.splitlines()
    assert lines[0] == "; acme.test: records to publish"
    for line in lines[1:]:
        name, ttl, _in, rdtype, rdata = line.split(" ", 4)
        rrset = dns.rrset.from_text(name, int(ttl), dns.rdataclass.IN, rdtype, rdata)
        assert rrset.rdtype == dns.rdatatype.from_text(rdtype)
    assert lines[1] == "acme.test. 3600 IN MX 10 mail.mailroute.test."
    assert lines[2] == 'acme.test. 3600 IN TXT "v=spf1 include:spf.mailroute.test ~all"'
