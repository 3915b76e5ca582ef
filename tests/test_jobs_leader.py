"""Several processes on one database. One leader for the scheduled jobs (bot/jobs.py): on PostgreSQL only the holder
of the advisory lock runs the daily jobs, reminders and retention; when its connection dies another process takes
over. On SQLite every notifier runs them, as before. Two job runners here are two engines on one database, as two
processes would have. And Telegram's send budget divided between the processes."""
from __future__ import annotations

import asyncio

from sqlalchemy import text

from bot.jobs import JobLeader, ScheduledJobs, standard_jobs
from storage.db import make_engine, sessionmaker


class Counter:
    def __init__(self) -> None:
        self.runs = 0

    async def __call__(self) -> dict[str, int]:
        self.runs += 1
        return {"runs": 1}


async def _runner(url: str):
    engine = make_engine(url)
    sm = sessionmaker(engine)
    count = Counter()
    jobs = ScheduledJobs([("count", count)], leader=JobLeader.for_sessionmaker(sm, every=0))
    return engine, sm, count, jobs


async def test_one_process_runs_the_scheduled_jobs_and_another_takes_over_when_it_dies(db_url):
    (ea, sm_a, a, jobs_a), (eb, _sm_b, b, jobs_b) = await _runner(db_url), await _runner(db_url)
    try:
        if not db_url.startswith("postgresql"):  # SQLite: nothing is elected, every notifier runs the jobs
            assert jobs_a.leader is None and standard_jobs(sm_a).leader is None
            await jobs_a()
            await jobs_b()
            assert (a.runs, b.runs) == (1, 1)
            return
        assert isinstance(standard_jobs(sm_a).leader, JobLeader)
        for _ in range(3):
            await jobs_a()
            await jobs_b()
        assert (a.runs, b.runs) == (3, 0)

        # the leader's connection dies (a server restart, a network cut, the process killed): its lock goes with it
        pid = jobs_a.leader.conn.get_server_pid()
        async with sm_a() as db:
            assert (await db.execute(text("SELECT application_name FROM pg_stat_activity WHERE pid = :pid"),
                                     {"pid": pid})).scalar() == "dvcbot scheduled jobs"  # keepalives set with it
            assert (await db.execute(text("SELECT pg_terminate_backend(:pid, 5000)"), {"pid": pid})).scalar()
        for _ in range(100):
            await jobs_b()
            if b.runs:
                break
            await asyncio.sleep(0.05)
        assert b.runs == 1
        for _ in range(3):  # the old leader notices, reconnects, and finds the lock taken
            await jobs_a()
            await jobs_b()
        assert (a.runs, b.runs) == (3, 4) and not jobs_a.leader.leader

        await jobs_b.aclose()  # the new leader stops: the first to ask next takes over
        await jobs_a()
        assert a.runs == 4
    finally:
        await jobs_a.aclose()
        await jobs_b.aclose()
        await ea.dispose()
        await eb.dispose()


def test_several_telegram_processes_share_the_bots_send_budget():
    """``dvcbot telegram --processes N``: each process keeps to 1/N of the bot's global budget, per-chat limits as
    before; ``--no-rate-limits`` (benchmarks against the fake Bot API) lifts them all."""
    from bot.cli import build_parser
    from bot.telegram.cli import rate_limits
    from bot.telegram.sending import default_limits

    def limits(*argv: str) -> dict:
        return rate_limits(build_parser().parse_args(["telegram", "--mode", "webhook", *argv]))

    full = default_limits()
    assert limits()["limits"] == full
    half = limits("--processes", "2")["limits"]
    assert half.global_rate == full.global_rate / 2 and half.per_chat_interval == full.per_chat_interval
    free = limits("--no-rate-limits")
    assert free["limits"].per_chat_interval == 0 and free["limits"].global_rate >= 1e6
    assert free["inbound"].chat_rate >= 1e6
