"""Benchmark: the lab's ``bench`` corpus migrated by our engine and by mbsync, side by side.

One command (``uv run python bench/migrate.py``) starts a private lab on free ports, seeds
the ``bench`` profile, and runs, for each profile (``loopback``, and ``wan`` where a TCP
proxy adds 10 ms each way in front of both servers, 20 ms RTT):

- our engine (``onboarding.mailsync.sync_mailbox``, N mailboxes in parallel threads, in a
  child process so its peak RSS is its own), then an unchanged re-run of the whole corpus;
- mbsync (isync) configured IMAP-to-IMAP, PipelineDepth 50, N ``mbsync`` processes at once.

Each run goes into fresh destination accounts. Afterwards every destination message is
compared with the source byte for byte (per mailbox, as a multiset of SHA-256 digests, so a
renamed folder does not matter); for mbsync the comparison is repeated with its ``X-TUID``
header removed. Results (msg/s, MB/s, peak RSS, byte identity, re-run time, ours/mbsync
ratio) go to stdout and to the migration section of ``docs/benchmarks.md``.

``--oauth`` is the OAuth profile (issue 10): the engine twice in the same run, once logging in
to the source with the master ``LOGIN`` (``ours``) and once with ``AUTHENTICATE XOAUTH2`` and
app-only tokens from the lab identity provider (``ours-xoauth2``, one Microsoft-365-style app
per source domain); the XOAUTH2 / LOGIN ratio goes to its own section of the docs.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import itertools
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench._machine import describe_machine, write_section  # noqa: E402

SECTION = "## Mailbox migration (bench/migrate.py)"
OAUTH_SECTION = "## Source login, XOAUTH2 vs LOGIN (bench/migrate.py --oauth)"
_RUNS = itertools.count(1)  # each run gets its own accounts, state and work folder
_XTUID = re.compile(rb"^X-TUID: [^\r\n]*\r?\n", re.MULTILINE)


# -- what is measured ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Pair:
    """One mailbox pair as the bench drives it (lab passwords only, never a customer's)."""

    source_user: str
    source_login: str
    source_password: str
    dest_user: str
    dest_password: str
    folders: tuple[str, ...] = ()  # selectable source folders (mbsync Patterns)


@dataclass
class RunResult:
    tool: str
    profile: str
    seconds: float
    messages: int
    bytes: int
    peak_rss_mb: float  # largest single process
    total_peak_rss_mb: float  # sum over processes (mbsync runs N at once)
    identical: int = 0
    identical_without_xtuid: int = 0
    missing: int = 0
    extra: int = 0
    rerun_seconds: float | None = None
    rerun_copied: int | None = None
    baseline_rss_mb: float | None = None
    errors: list[str] = field(default_factory=list)

    @property
    def msg_per_s(self) -> float:
        return self.messages / self.seconds if self.seconds else 0.0

    @property
    def mb_per_s(self) -> float:
        return self.bytes / 1e6 / self.seconds if self.seconds else 0.0


@dataclass(frozen=True)
class Corpus:
    mailboxes: int
    messages: int
    bytes: int
    largest: int
    largest_folder: int
    digests: dict[str, Counter[str]]
    folders: dict[str, tuple[str, ...]]


# -- IMAP helpers (bench only; plain imapclient) -------------------------------------------------


def _client(host: str, port: int, login: str, password: str) -> Any:
    from imapclient import IMAPClient

    client = IMAPClient(host, port=port, ssl=False, timeout=120)
    # Folder names stay in modified UTF-7 (RFC 3501 5.1.3): mbsync 1.4 matches its Patterns
    # against the raw names, so decoded names would silently leave folders out.
    client.folder_encode = False
    client.login(login, password)
    return client


def _digests(
    host: str, port: int, login: str, password: str
) -> tuple[Counter[str], dict[str, Any]]:
    """SHA-256 of every message in every folder (BODY.PEEK, read-only), plus size facts."""
    digests: Counter[str] = Counter()
    stripped: Counter[str] = Counter()
    largest = biggest_folder = total = 0
    folders: list[str] = []
    client = _client(host, port, login, password)
    try:
        for _flags, _delim, name in client.list_folders():
            if b"\\Noselect" in _flags or b"\\NonExistent" in _flags:
                continue
            folders.append(name.decode("ascii") if isinstance(name, bytes) else str(name))
            info = client.select_folder(name, readonly=True)
            count = int(info.get(b"EXISTS", 0))
            biggest_folder = max(biggest_folder, count)
            if not count:
                continue
            uids = client.search("ALL")
            for i in range(0, len(uids), 500):
                batch = uids[i : i + 500]
                for data in client.fetch(batch, ["BODY.PEEK[]"]).values():
                    body = data[b"BODY[]"]
                    total += len(body)
                    largest = max(largest, len(body))
                    digests[hashlib.sha256(body).hexdigest()] += 1
                    stripped[hashlib.sha256(_XTUID.sub(b"", body, count=1)).hexdigest()] += 1
    finally:
        client.logout()
    return digests, {
        "stripped": stripped,
        "largest": largest,
        "largest_folder": biggest_folder,
        "bytes": total,
        "folders": tuple(folders),
    }


# -- tools ---------------------------------------------------------------------------------------


def _run_children(
    commands: Sequence[list[str]], parallel: int
) -> tuple[float, float, float, list[str]]:
    """Run commands ``parallel`` at a time; return (seconds, max RSS MB, sum RSS MB, errors).

    Peak RSS is each child's VmHWM, sampled every 20 ms: ``wait4``'s ru_maxrss would report
    this (large) parent's RSS, which Linux carries over into the child at exec.
    """
    pending = list(commands)
    running: dict[int, Path] = {}
    peaks: list[float] = []
    hwm: dict[int, float] = {}
    errors: list[str] = []
    logs = Path(tempfile.mkdtemp(prefix="bench-logs-"))
    start = time.monotonic()
    while pending or running:
        while pending and len(running) < parallel:
            cmd = pending.pop(0)
            log = logs / f"{len(peaks) + len(running)}.log"
            fd = os.open(log, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            try:
                pid = os.posix_spawnp(
                    cmd[0],
                    cmd,
                    dict(os.environ),
                    file_actions=[
                        (os.POSIX_SPAWN_DUP2, fd, 1),
                        (os.POSIX_SPAWN_DUP2, fd, 2),
                    ],
                )
            finally:
                os.close(fd)
            running[pid] = log
        pid, status = os.waitpid(-1, os.WNOHANG)
        if pid == 0:
            for child in running:
                hwm[child] = max(hwm.get(child, 0.0), _hwm_mb(child))
            time.sleep(0.02)
            continue
        if pid not in running:
            continue
        log = running.pop(pid)
        peaks.append(hwm.pop(pid, 0.0))
        code = os.waitstatus_to_exitcode(status)
        if code:
            tail = log.read_text(errors="replace").strip().splitlines()[-3:]
            errors.append(f"exit {code}: {' | '.join(tail)}")
    seconds = time.monotonic() - start
    shutil.rmtree(logs, ignore_errors=True)
    return seconds, max(peaks, default=0.0), sum(sorted(peaks)[-parallel:]), errors


def _hwm_mb(pid: int) -> float:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def _mbsyncrc(
    pairs: Sequence[Pair], src: tuple[str, int], dst: tuple[str, int], state: Path
) -> str:
    """One far (source) and near (destination) IMAP store and one Pull channel per pair."""
    blocks = [
        "# generated by bench/migrate.py: IMAP to IMAP, pull only, nothing deleted\n"
        "Sync Pull\nCreate Near\nRemove None\nExpunge None\nCopyArrivalDate yes\n"
    ]
    for i, p in enumerate(pairs):
        for side, (host, port), user, password in (
            ("src", src, p.source_login, p.source_password),
            ("dst", dst, p.dest_user, p.dest_password),
        ):
            blocks.append(
                f"IMAPAccount {side}{i}\nHost {host}\nPort {port}\nUser {user}\n"
                f'Pass "{password}"\nSSLType None\nAuthMechs LOGIN\nPipelineDepth 50\n'
                f"\nIMAPStore {side}{i}\nAccount {side}{i}\n"
            )
        (state / f"ch{i}").mkdir(parents=True, exist_ok=True)
        blocks.append(
            f"Channel ch{i}\nFar :src{i}:\nNear :dst{i}:\n"
            f"Patterns {' '.join(_quote(f) for f in p.folders) or '*'}\n"
            f"SyncState {state / f'ch{i}'}/\n"
        )
    return "\n".join(blocks)


def _quote(name: str) -> str:
    return '"' + name.replace("\\", "\\\\").replace('"', '\\"') + '"'


def run_mbsync(
    pairs: Sequence[Pair], src: tuple[str, int], dst: tuple[str, int], parallel: int, work: Path
) -> tuple[float, float, float, list[str], Path]:
    """Sync every pair with one ``mbsync chN`` process each, ``parallel`` at a time."""
    work.mkdir(parents=True, exist_ok=True)
    rc = work / "mbsyncrc"
    rc.write_text(_mbsyncrc(pairs, src, dst, work / "state"))
    rc.chmod(0o600)
    cmds = [["mbsync", "-q", "-c", str(rc), f"ch{i}"] for i in range(len(pairs))]
    seconds, peak, total, errors = _run_children(cmds, parallel)
    return seconds, peak, total, errors, rc


def run_ours(
    pairs: Sequence[Pair],
    src: tuple[str, int],
    dst: tuple[str, int],
    parallel: int,
    work: Path,
    oauth: dict[str, Any] | None = None,
) -> tuple[float, float, dict[str, Any]]:
    """Run the engine in a child process (this file with ``--worker``); return its figures.

    ``oauth`` (``{"authority": url, "apps": {domain: {tenant_id, client_id, client_secret}}}``)
    logs in to the source with XOAUTH2 instead of the master LOGIN."""
    work.mkdir(parents=True, exist_ok=True)
    job = work / "job.json"
    job.write_text(
        json.dumps(
            {
                "pairs": [asdict(p) for p in pairs],
                "source": list(src),
                "destination": list(dst),
                "parallel": parallel,
                "state_url": f"sqlite:///{work / 'state.db'}",
                "oauth": oauth,
            }
        )
    )
    job.chmod(0o600)
    out = work / "result.json"
    cmd = [sys.executable, str(Path(__file__).resolve()), "--worker", str(job), str(out)]
    seconds, peak, _total, errors = _run_children([cmd], 1)
    if errors:
        raise RuntimeError(f"engine worker failed: {errors}")
    return seconds, peak, json.loads(out.read_text())


def worker(job_path: Path, out_path: Path) -> None:
    """Child process: sync every pair with the engine; write counts, times and RSS as JSON."""
    from onboarding.mailsync import Endpoint, MailboxPair, StateStore, SyncOptions, sync_mailbox

    job = json.loads(job_path.read_text())
    baseline = _rss_mb()
    state = StateStore(job["state_url"])
    shost, sport = job["source"]
    dhost, dport = job["destination"]

    oauth = job.get("oauth")
    tokens: dict[str, Any] = {}
    if oauth:
        from onboarding.mailsync.oauth import MicrosoftTokens

        tokens = {
            domain: MicrosoftTokens(**app, secret_name="bench-m365", authority=oauth["authority"])
            for domain, app in oauth["apps"].items()
        }

    def one(p: dict[str, str]) -> Any:
        source = Endpoint(shost, sport, "none", p["source_login"], p["source_password"])
        if oauth:
            user = p["source_user"]
            source = Endpoint(
                shost, sport, "none", user, "", token_source=tokens[user.rsplit("@", 1)[1]]
            )
        pair = MailboxPair(
            mailbox=p["dest_user"],
            source=source,
            destination=Endpoint(dhost, dport, "none", p["dest_user"], p["dest_password"]),
        )
        return sync_mailbox(pair, SyncOptions(pass_kind="initial"), state)

    result: dict[str, Any] = {"baseline_rss_mb": baseline}
    for label in ("first", "rerun"):
        start = time.monotonic()
        with ThreadPoolExecutor(job["parallel"]) as pool:
            outcomes = list(pool.map(one, job["pairs"]))
        result[label] = {
            "seconds": time.monotonic() - start,
            "copied": sum(o.copied for o in outcomes),
            "bytes": sum(o.bytes_copied for o in outcomes),
            "failed": sum(o.failed for o in outcomes),
            "skipped": sum(o.skipped for o in outcomes),
            "reconciles": all(o.reconciles for o in outcomes),
            "problems": [
                f"{o.mailbox} {p.folder} uid {p.uid}: {p.outcome} {p.error_class}"
                for o in outcomes
                for p in o.problems
            ][:20],
        }
        if label == "first":
            result["first"]["peak_rss_mb"] = _peak_rss_mb()
    out_path.write_text(json.dumps(result))


def _rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def _peak_rss_mb() -> float:
    """VmHWM: this process image's peak RSS (getrusage would include the pre-exec image)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return 0.0


# -- the lab, accounts, proxies --------------------------------------------------------------


@contextmanager
def _proxies(
    targets: Sequence[tuple[str, int]], delay_ms: float
) -> Iterator[list[tuple[str, int]]]:
    """One fault-proxy process per target, adding ``delay_ms`` each way (own CPU, own RSS)."""
    procs: list[subprocess.Popen[str]] = []
    try:
        addrs = []
        for host, port in targets:
            proc = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "support.faultproxy",
                    "--target",
                    f"{host}:{port}",
                    "--delay-ms",
                    str(delay_ms),
                ],
                stdout=subprocess.PIPE,
                text=True,
                cwd=ROOT / "tests",
            )
            procs.append(proc)
            assert proc.stdout is not None
            addrs.append((host, int(proc.stdout.readline())))
        yield addrs
    finally:
        for proc in procs:
            proc.terminate()
            proc.wait(10)


@contextmanager
def _fresh_pairs(lab: Any, corpus: Corpus, tag: str) -> Iterator[list[Pair]]:
    """New destination accounts (``<tag>-<n>@bench-dest.test``) for every source user, for
    the block; dropped afterwards (accounts and mail) so runs do not fill the disk."""
    pairs: list[Pair] = []
    master = lab.source
    for n, email in enumerate(sorted(corpus.digests)):
        dest = f"{tag}-{n:03d}@bench-dest.test"
        password = "bench-" + hashlib.sha256(f"{tag}{n}".encode()).hexdigest()[:16]
        lab.destination.set_account(dest, password)
        pairs.append(
            Pair(
                source_user=email,
                source_login=master.master_login(email),
                source_password=master.master_password,
                dest_user=dest,
                dest_password=password,
                folders=corpus.folders[email],
            )
        )
    try:
        yield pairs
    finally:
        for p in pairs:
            lab.destination.remove_account(p.dest_user)
            lab.destination.wipe_mail(p.dest_user)


def _verify(result: RunResult, pairs: Sequence[Pair], corpus: Corpus, dst: tuple[str, int]) -> None:
    """Compare every destination mailbox with its source, byte for byte."""

    def one(p: Pair) -> tuple[int, int, int, int]:
        want = corpus.digests[p.source_user]
        got, extra = _digests(dst[0], dst[1], p.dest_user, p.dest_password)
        same = sum((want & got).values())
        same_stripped = sum((want & extra["stripped"]).values())
        missing = sum((want - extra["stripped"]).values())
        surplus = sum((extra["stripped"] - want).values())
        return same, same_stripped, missing, surplus

    with ThreadPoolExecutor(4) as pool:
        for same, stripped, missing, surplus in pool.map(one, pairs):
            result.identical += same
            result.identical_without_xtuid += stripped
            result.missing += missing
            result.extra += surplus


def _count_dest(pairs: Sequence[Pair], dst: tuple[str, int]) -> tuple[int, int]:
    def one(p: Pair) -> tuple[int, int]:
        digests, extra = _digests(dst[0], dst[1], p.dest_user, p.dest_password)
        return sum(digests.values()), int(extra["bytes"])

    with ThreadPoolExecutor(4) as pool:
        counts = list(pool.map(one, pairs))
    return sum(c[0] for c in counts), sum(c[1] for c in counts)


def _read_corpus(lab: Any, sources: dict[str, str], src: tuple[str, int]) -> Corpus:
    def one(email: str) -> tuple[str, Counter[str], dict[str, Any]]:
        d, extra = _digests(
            src[0], src[1], lab.source.master_login(email), lab.source.master_password
        )
        return email, d, extra

    with ThreadPoolExecutor(4) as pool:
        rows = list(pool.map(one, sorted(sources)))
    return Corpus(
        mailboxes=len(rows),
        messages=sum(sum(d.values()) for _e, d, _x in rows),
        bytes=sum(int(x["bytes"]) for _e, _d, x in rows),
        largest=max(int(x["largest"]) for _e, _d, x in rows),
        largest_folder=max(int(x["largest_folder"]) for _e, _d, x in rows),
        digests={e: d for e, d, _x in rows},
        folders={e: x["folders"] for e, _d, x in rows},
    )


def _seed(lab: Any) -> dict[str, str]:
    """Seed the lab's ``bench`` profile; return the source users (email -> password)."""
    lab.seed(profile="bench")
    users: dict[str, str] = lab.source.users()
    return users


# -- report --------------------------------------------------------------------------------------


def _machine() -> str:
    mbsync = subprocess.run(["mbsync", "--version"], capture_output=True, text=True).stdout.strip()
    dovecot = subprocess.run(["dovecot", "--version"], capture_output=True, text=True)
    version = dovecot.stdout.split()[0] if dovecot.stdout else "?"
    return f"{describe_machine()}, {mbsync}, Dovecot {version}"


def _markdown(
    corpus: Corpus,
    results: Sequence[RunResult],
    parallel: int,
    when: str,
    load: float,
    section: str = SECTION,
) -> str:
    # Issue 6's rule, taken strictly for the whole run (all ``parallel`` syncs in one process):
    # what the engine adds over the bare interpreter stays under 2 × largest + 1 KB/message.
    mem_target = (2 * corpus.largest + 1024 * corpus.messages) / 1e6
    lines = [
        section,
        "",
        f"Run {when} on: {_machine()}.",
        "",
        f"Corpus (the lab's `bench` profile): {corpus.mailboxes} mailboxes, {corpus.messages:,} "
        f"messages, {corpus.bytes / 1e6:,.0f} MB, largest message {corpus.largest / 1e6:.1f} MB, "
        f"largest folder {corpus.largest_folder:,} messages. {parallel} mailboxes in parallel "
        "for every tool; every run into fresh destination accounts. `wan` = the fault proxy "
        "adding 10 ms each way in front of both servers (20 ms RTT).",
        "",
        "| profile | tool | msg/s | MB/s | seconds | copied | byte-identical | identical "
        "without X-TUID | missing | peak RSS MB | unchanged re-run s |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in results:
        rss = f"{r.peak_rss_mb:.0f}"
        if r.tool == "mbsync":
            rss += f" per process ({r.total_peak_rss_mb:.0f} for {parallel})"
        elif r.baseline_rss_mb is not None:
            rss += f" ({r.baseline_rss_mb:.0f} before syncing)"
        rerun = f"{r.rerun_seconds:.2f}" if r.rerun_seconds is not None else "-"
        lines.append(
            f"| {r.profile} | {r.tool} | {r.msg_per_s:,.0f} | {r.mb_per_s:.1f} | "
            f"{r.seconds:.1f} | {r.messages:,} | {r.identical:,} | "
            f"{r.identical_without_xtuid:,} | {r.missing:,} | {rss} | {rerun} |"
        )
    best: dict[tuple[str, str], RunResult] = {}
    for r in results:
        key = (r.profile, r.tool)
        if key not in best or r.msg_per_s > best[key].msg_per_s:
            best[key] = r
    profiles = list(dict.fromkeys(r.profile for r in results))
    if any(r.tool == "mbsync" for r in results):
        lines += ["", "Ratio ours / mbsync (msg/s, best run of each):"]
        for profile in profiles:
            ours, theirs = best.get((profile, "ours")), best.get((profile, "mbsync"))
            if ours and theirs and theirs.msg_per_s:
                lines.append(f"- {profile}: {ours.msg_per_s / theirs.msg_per_s:.2f}")
    if any(r.tool == "ours-xoauth2" for r in results):
        lines += [
            "",
            "Ratio XOAUTH2 / LOGIN (ours, msg/s, best run of each; issue 10: within 10%):",
        ]
        for profile in profiles:
            login, xoauth2 = best.get((profile, "ours")), best.get((profile, "ours-xoauth2"))
            if login and xoauth2 and login.msg_per_s:
                ratio = xoauth2.msg_per_s / login.msg_per_s
                lines.append(f"- {profile}: {ratio:.2f} ({'met' if ratio >= 0.9 else 'NOT met'})")
    lines += ["", "Targets (issue 6), best run of each tool; every run is in the table:"]
    for (profile, tool), r in best.items():
        if tool != "ours":
            continue
        theirs = best.get((profile, "mbsync"))
        runs = [x for x in results if x.profile == profile and x.tool == "ours"]
        above = r.peak_rss_mb - (r.baseline_rss_mb or 0.0)
        checks = [
            (
                "throughput ≥ mbsync",
                theirs is None or r.msg_per_s >= theirs.msg_per_s,
                f"{r.msg_per_s:,.0f} vs {theirs.msg_per_s:,.0f} msg/s" if theirs else "",
            ),
            (
                "every message byte-identical, in every run",
                all(x.identical == corpus.messages and x.missing == 0 for x in runs),
                ", ".join(f"{x.identical:,}/{corpus.messages:,}" for x in runs),
            ),
            (
                "unchanged re-run < 2 s, in every run",
                all(
                    x.rerun_seconds is not None and x.rerun_seconds < 2 and x.rerun_copied == 0
                    for x in runs
                ),
                ", ".join(f"{x.rerun_seconds:.2f} s copying {x.rerun_copied}" for x in runs),
            ),
            (
                "peak memory < 2 × largest message + 1 KB/message (all syncs together)",
                above < mem_target,
                f"{above:.0f} MB above the interpreter's {r.baseline_rss_mb:.0f} MB "
                f"(target {mem_target:.0f} MB; {r.peak_rss_mb:.0f} MB in all)",
            ),
        ]
        for name, ok, detail in checks:
            if not detail:  # nothing to compare with in this run
                continue
            lines.append(f"- {profile}: {name}: {'met' if ok else 'NOT met'} ({detail})")
    lines += [
        "",
        "Notes: msg/s and MB/s count the messages and bytes each tool put in the destination, "
        "over the wall time of all mailboxes. Our re-run time is measured inside the engine "
        "process (no interpreter start-up); mbsync's includes starting its processes. mbsync "
        "adds an `X-TUID:` header to every message it copies, so none of its copies is "
        "byte-identical; 'identical without X-TUID' removes that header first. Peak RSS: our "
        "engine is one process; mbsync runs one process per mailbox ({parallel} at once). "
        f"Machine load average when the run started: {load:.1f} (other work "
        "shares the 2 cores, so figures vary by ±30% between runs).".replace(
            "{parallel}", str(parallel)
        ),
    ]
    for r in results:
        for e in r.errors[:5]:
            lines.append(f"- {r.profile}/{r.tool} error: {e}")
    return "\n".join(lines) + "\n"


# -- main ----------------------------------------------------------------------------------------


def _measure(
    tool: str,
    profile: str,
    lab: Any,
    corpus: Corpus,
    src: tuple[str, int],
    dst: tuple[str, int],
    parallel: int,
    work: Path,
    log: Callable[[str], None],
    real_dst: tuple[str, int],
    oauth: dict[str, Any] | None = None,
) -> RunResult:
    """Run one tool in one profile into fresh accounts, verify, then drop the accounts."""
    tag = f"{tool}-{profile}-{next(_RUNS)}"
    with _fresh_pairs(lab, corpus, tag) as pairs:
        result = _run_tool(
            tool, profile, pairs, src, dst, parallel, work / tag, real_dst, oauth=oauth
        )
        _verify(result, pairs, corpus, real_dst)
    log(
        f"{profile:8} {tool:6} {result.msg_per_s:8,.0f} msg/s {result.mb_per_s:6.1f} MB/s "
        f"{result.seconds:6.1f} s identical {result.identical}/{corpus.messages} "
        f"missing {result.missing} rss {result.peak_rss_mb:.0f} MB re-run {result.rerun_seconds}"
    )
    return result


def _run_tool(
    tool: str,
    profile: str,
    pairs: Sequence[Pair],
    src: tuple[str, int],
    dst: tuple[str, int],
    parallel: int,
    work: Path,
    real_dst: tuple[str, int],
    *,
    oauth: dict[str, Any] | None = None,
) -> RunResult:
    """Copy ``pairs`` with one tool (ours, ours-xoauth2 or mbsync) and measure it; no
    verification."""
    if tool.startswith("ours"):
        xoauth2 = oauth if tool == "ours-xoauth2" else None
        _wall, peak, data = run_ours(pairs, src, dst, parallel, work, xoauth2)
        first = data["first"]
        result = RunResult(
            tool,
            profile,
            seconds=first["seconds"],
            messages=first["copied"],
            bytes=first["bytes"],
            peak_rss_mb=max(peak, first["peak_rss_mb"]),
            total_peak_rss_mb=max(peak, first["peak_rss_mb"]),
            rerun_seconds=data["rerun"]["seconds"],
            rerun_copied=data["rerun"]["copied"],
            baseline_rss_mb=data["baseline_rss_mb"],
            errors=first["problems"],
        )
    else:
        seconds, peak, total, errors, rc = run_mbsync(pairs, src, dst, parallel, work)
        messages, nbytes = _count_dest(pairs, real_dst)
        rerun, _p, _t, _e = _run_children(
            [["mbsync", "-q", "-c", str(rc), f"ch{i}"] for i in range(len(pairs))], parallel
        )
        result = RunResult(
            tool,
            profile,
            seconds=seconds,
            messages=messages,
            bytes=nbytes,
            peak_rss_mb=peak,
            total_peak_rss_mb=total,
            rerun_seconds=rerun,
            errors=errors,
        )
    return result


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--worker", nargs=2, type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--parallel", type=int, default=4, help="mailboxes at once (both tools)")
    parser.add_argument("--profiles", default="loopback,wan")
    parser.add_argument("--repeat", type=int, default=2, help="alternating runs per tool")
    parser.add_argument("--tools", default="ours,mbsync")
    parser.add_argument("--lab-dir", type=Path, help="reuse a seeded lab state folder")
    parser.add_argument("--no-docs", action="store_true", help="do not write docs/benchmarks.md")
    parser.add_argument(
        "--oauth", action="store_true", help="the OAuth profile: ours with LOGIN vs XOAUTH2"
    )
    args = parser.parse_args(argv)
    if args.oauth:
        args.tools = "ours,ours-xoauth2"
    if args.worker:
        worker(*args.worker)
        return

    from lab import Lab, LabPorts

    def log(msg: str) -> None:
        print(f"[{time.strftime('%H:%M:%S')}] {msg}", flush=True)

    work = Path(tempfile.mkdtemp(prefix="bench-migrate-"))
    lab_dir = args.lab_dir or work / "lab"
    lab = Lab(lab_dir, None if args.lab_dir else LabPorts.free())
    when = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    load = os.getloadavg()[0]
    try:
        lab.up()
        src = (lab.host, lab.ports.source_imap)
        dst = (lab.host, lab.ports.destination_imap)
        sources = lab.source.users()
        if not sources:
            log("seeding the lab's bench corpus ...")
            sources = _seed(lab)
        log("fingerprinting the source ...")
        corpus = _read_corpus(lab, sources, src)
        log(
            f"corpus: {corpus.mailboxes} mailboxes, {corpus.messages:,} messages, "
            f"{corpus.bytes / 1e6:,.0f} MB, largest {corpus.largest / 1e6:.1f} MB"
        )
        results: list[RunResult] = []
        tools = args.tools.split(",")
        oauth: dict[str, Any] | None = None
        if "ours-xoauth2" in tools:
            apps = {d: lab.idp.add_microsoft_app(d) for d in {e.rsplit("@", 1)[1] for e in sources}}
            oauth = {
                "authority": lab.idp.authority,
                "apps": {
                    d: {
                        "tenant_id": a.tenant_id,
                        "client_id": a.client_id,
                        "client_secret": a.client_secret,
                    }
                    for d, a in apps.items()
                },
            }
        for profile in args.profiles.split(","):
            with contextlib.ExitStack() as stack:
                psrc, pdst = src, dst
                if profile == "wan":
                    psrc, pdst = stack.enter_context(_proxies([src, dst], 10.0))
                for rnd in range(args.repeat):
                    # Alternate the order so neither tool always runs on a cooler machine.
                    for tool in tools if rnd % 2 == 0 else tools[::-1]:
                        results.append(
                            _measure(
                                tool,
                                profile,
                                lab,
                                corpus,
                                psrc,
                                pdst,
                                args.parallel,
                                work,
                                log,
                                dst,
                                oauth,
                            )
                        )
        section = OAUTH_SECTION if args.oauth else SECTION
        text = _markdown(corpus, results, args.parallel, when, load, section)
        print(text)
        if not args.no_docs:
            write_section(section, text)
    finally:
        if not args.lab_dir:
            lab.down()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
