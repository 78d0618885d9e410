"""``feeder run`` and ``feeder trigger``: keep the feed fresh, serve it, rebuild on demand.

The daemon is one process with a few threads around a main thread that only
waits for signals:

* an APScheduler job polls every ``interval`` seconds (first run at start);
  each poll is an incremental :func:`feeder.build.pipeline.build`, which parses and
  writes nothing when no seed changed;
* uvicorn serves the output directory (:mod:`feeder.service.server`);
* a Unix socket in the state directory accepts ``feeder trigger``
  (:mod:`feeder.service.control`), whose rebuild runs at once and is answered when done.

Builds never overlap: polls and triggers share one in-process lock, and the
pipeline's inter-process lock keeps out a concurrent ``feeder build``. A failed
build is one log line and the next poll tries again. SIGHUP reloads the
configuration and rebuilds; SIGTERM/SIGINT stop within a few seconds.
"""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import threading
import time
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.schedulers.background import BackgroundScheduler

from feeder.build.changes import DEFERRED
from feeder.build.lock import OutputClaim
from feeder.config import Settings
from feeder.errors import AlreadyRunning, FeederError
from feeder.model import BuildResult
from feeder.service.control import ControlServer, PidLock, summary, trigger
from feeder.service.logsetup import configure_logging
from feeder.service.procutil import SignalInbox, sd_notify
from feeder.service.server import FeedServer

log = logging.getLogger(__name__)

__all__ = ["configure_logging", "run", "trigger"]

JOB_ID = "poll"
#: A one-off poll for seeds that were still being written at the last one.
SETTLE_JOB_ID = "settled"
#: How long a stop waits for a running build before abandoning it. Abandoning
#: is safe: every published file is replaced atomically, and the kernel drops
#: the build lock with the process.
STOP_GRACE_S = 2.5
#: Failed builds in a row after which the daemon reports itself unhealthy.
UNHEALTHY_AFTER = 3
#: Skipped seeds named one by one in the start-up line (the rest: `feeder check`).
START_LISTED = 10
_SIGNALS = {signal.SIGTERM, signal.SIGINT, signal.SIGHUP}


def _iso(timestamp: float) -> str:
    return datetime.fromtimestamp(timestamp, UTC).isoformat(timespec="seconds")


class _Stopping(Exception):
    """A build was requested while the daemon is shutting down."""


class Daemon:
    """The state of one running daemon; :func:`run` drives it."""

    def __init__(
        self, load: Callable[[], Settings], settings: Settings, claim: OutputClaim
    ) -> None:
        self._load = load
        self.settings = settings
        #: The claim of the output directory (one daemon per output).
        self.claim = claim
        self.state_dir = settings.resolved_state_dir
        self._build_lock = threading.Lock()
        self._stopping = threading.Event()
        self._failures = 0
        self._polled = False  # the first poll is logged as "start", at INFO
        #: path → reason of the seeds skipped at the last build (None before the first).
        self._skipped: dict[str, str] | None = None
        self._started = (time.time(), time.monotonic())
        #: What ``feeder status`` and the health check say of the last build.
        self.last_poll: dict[str, Any] | None = None
        self.last_result: BuildResult | None = None
        self.server: FeedServer | None = None
        self.scheduler = BackgroundScheduler(
            executors={"default": ThreadPoolExecutor(1)}, timezone=UTC
        )

    # -- building ---------------------------------------------------------

    def build(self, *, settle_seconds: float, reason: str) -> BuildResult:
        """Run one build under the daemon's lock and log what it did."""
        from feeder.build.pipeline import build  # the pipeline imports the heavy parsing stack

        with self._build_lock:
            if self._stopping.is_set():
                raise _Stopping
            settings = self.settings
            began = time.time()
            try:
                result = build(settings, settle_seconds=settle_seconds)
            except Exception as e:
                self._record(reason, began, error=f"{type(e).__name__}: {e}")
                raise
            self.last_result = result
            self._record(reason, began, result="updated" if result.changed else "unchanged")
        if self._failures:
            log.info("build recovered after %d failed attempt(s)", self._failures)
            self._failures = 0
        if reason != "trigger" and result.duration_s > settings.interval:
            log.warning(
                "the build took %.1f s, longer than the %g s interval: polls were skipped",
                result.duration_s,
                settings.interval,
            )
        level = logging.INFO if result.changed or reason != "poll" else logging.DEBUG
        data = result.to_json()
        # JSON log lines carry the whole result as fields (``build``, ``cause``).
        log.log(level, "%s (%s)", summary(data), reason, extra={"build": data, "cause": reason})
        self._name_skipped(result)
        return result

    def _record(
        self, cause: str, began: float, *, result: str = "failed", error: str | None = None
    ) -> None:
        self.last_poll = {
            "time": _iso(began),
            "cause": cause,
            "duration_s": round(time.time() - began, 3),
            "result": result,
            "error": error,
        }

    @property
    def healthy(self) -> bool:
        """False after :data:`UNHEALTHY_AFTER` failed builds in a row."""
        return self._failures < UNHEALTHY_AFTER

    def status(self) -> dict[str, Any]:
        """What ``feeder status`` shows (JSON-ready)."""
        settings, result = self.settings, self.last_result
        job = self.scheduler.get_job(JOB_ID) if self.scheduler.running else None
        nxt = getattr(job, "next_run_time", None)
        feeds: list[dict[str, Any]] = []
        if result is not None:
            feeds.append(
                {
                    "name": settings.output.stem,
                    "entries": result.entries,
                    "output": str(result.output),
                }
            )
            feeds += [
                {"name": f.name, "entries": f.entries, "output": f.outputs[0] if f.outputs else ""}
                for f in result.feeds
            ]
        return {
            "pid": os.getpid(),
            "started": _iso(self._started[0]),
            "uptime_s": round(time.monotonic() - self._started[1], 1),
            "healthy": self.healthy,
            "consecutive_failures": self._failures,
            "seeds_dir": str(settings.seeds),
            "output": str(settings.output),
            "state_dir": str(self.state_dir),
            "serving": self.server.url if self.server else None,
            "interval_s": settings.interval,
            "last_poll": self.last_poll,
            "seeds": result.seeds if result else 0,
            "entries": result.entries if result else 0,
            "skipped": len(self._skipped or {}),
            "feeds": feeds,
            "next_poll": nxt.astimezone(UTC).isoformat(timespec="seconds") if nxt else None,
        }

    def _name_skipped(self, result: BuildResult) -> None:
        """Log each newly skipped seed with its reason; at start-up, those skipped now.

        Seeds still being written are not skipped (they are read once they
        settle) and are left out.
        """
        now = {s.path: s.reason for s in result.skipped if not s.reason.startswith(DEFERRED)}
        if self._skipped is None:
            if now:
                shown = [f"{path} ({why})" for path, why in sorted(now.items())[:START_LISTED]]
                more = len(now) - len(shown)
                tail = f"; and {more} more: feeder check lists them all" if more else ""
                log.warning(
                    "%d %s skipped: %s%s",
                    len(now),
                    "seed is" if len(now) == 1 else "seeds are",
                    "; ".join(shown),
                    tail,
                )
        else:
            for path, why in sorted(now.items()):
                if self._skipped.get(path) != why:
                    log.warning("%s: skipped: %s", path, why, extra={"seed": path})
        self._skipped = now

    def poll(self) -> None:
        """The scheduled job: build, and turn every failure into one log line."""
        try:
            reason = "poll" if self._polled else "start"
            self._polled = True
            result = self.build(settle_seconds=self.settings.settle_seconds, reason=reason)
            if result.deferred:
                self._recheck_settled()
        except _Stopping:
            pass
        except FeederError as e:
            self._failed(str(e))
        except Exception as e:  # a bug: logged with its traceback; the daemon outlives it
            log.error("internal error in the build (the state is untouched)", exc_info=True)
            self._failed(f"internal error: {type(e).__name__}: {e}")

    def _recheck_settled(self) -> None:
        """Poll again once seeds still being written have settled, not a whole interval later.

        A seed dropped just before a poll would otherwise wait for the next one:
        with this, a new seed is in the feed within ``interval + settle_seconds``.
        """
        delay = self.settings.settle_seconds + 0.1
        if delay >= self.settings.interval:
            return  # the next regular poll comes first
        with contextlib.suppress(Exception):  # a stopping scheduler refuses new jobs
            self.scheduler.add_job(
                self.poll,
                "date",
                id=SETTLE_JOB_ID,
                replace_existing=True,
                run_date=datetime.now(UTC) + timedelta(seconds=delay),
                misfire_grace_time=None,
            )

    def _failed(self, message: str) -> None:
        self._failures += 1
        log.error("build failed: %s; retrying in %g s", message, self.settings.interval)

    def handle(self, req: dict[str, Any]) -> dict[str, Any]:
        """Answer one control request (called in a thread of the control server)."""
        cmd = req.get("cmd")
        if cmd == "ping":
            return {"ok": True, "pid": os.getpid(), "url": self.server.url if self.server else None}
        if cmd == "status":
            return {"ok": True, "status": self.status()}
        if cmd != "rebuild":
            return {"ok": False, "error": f"unknown command {cmd!r}"}
        # A trigger means "the seeds are complete now": do not wait for them to settle.
        try:
            result = self.build(settle_seconds=0.0, reason="trigger")
        except _Stopping:
            return {"ok": False, "error": "the daemon is stopping"}
        except FeederError as e:
            log.error("triggered build failed: %s", e)
            return {"ok": False, "error": str(e)}
        except Exception as e:  # a bug: logged with its traceback; the daemon outlives it
            log.error(
                "internal error in the triggered build (the state is untouched)", exc_info=True
            )
            return {"ok": False, "error": f"internal error: {type(e).__name__}: {e}"}
        return {"ok": True, "result": result.to_json()}

    # -- serving and scheduling --------------------------------------------

    def start_server(self) -> None:
        """Serve the output directory if ``serve`` is set (raises ``ServeError``)."""
        if self.settings.serve is None:
            return
        directory = self.settings.output.parent
        with contextlib.suppress(OSError):
            directory.mkdir(parents=True, exist_ok=True)
        # /-/health: 200 while healthy, 503 after UNHEALTHY_AFTER failed builds.
        server = FeedServer(
            directory, self.settings.serve, health=lambda: (self.healthy, self.status())
        )
        server.start()
        self.server = server
        log.info("serving %s%s", server.url, self.settings.output.name)

    def schedule(self) -> None:
        """Start polling at once and then every ``interval`` seconds."""
        self.scheduler.add_job(
            self.poll,
            "interval",
            id=JOB_ID,
            seconds=self.settings.interval,
            next_run_time=datetime.now(UTC),
            max_instances=1,
            coalesce=True,
            misfire_grace_time=None,
        )
        self.scheduler.start()

    def reload(self) -> None:
        """SIGHUP: read the configuration again, apply it, rebuild now."""
        old = self.settings
        try:
            new = self._load()
        except FeederError as e:
            log.error("reload failed, keeping the current configuration: %s", e)
            return
        if new.resolved_state_dir != self.state_dir:
            log.warning("a new state directory takes effect on restart; keeping %s", self.state_dir)
            new = replace(new, state_dir=self.state_dir)
        if new.output.parent != old.output.parent:
            claim = OutputClaim(new.output.parent, self.state_dir, role="daemon")
            try:
                claim.acquire()
            except FeederError as e:
                log.error("reload failed, keeping the current configuration: %s", e)
                return
            self.claim.release()
            self.claim = claim
        if (new.log_level, new.log_json) != (old.log_level, old.log_json):
            configure_logging(new.log_level, new.log_json)
        with self._build_lock:
            self.settings = new
        if (new.serve, new.output.parent) != (old.serve, old.output.parent):
            if self.server is not None:
                self.server.stop()
                self.server = None
            try:
                self.start_server()
            except FeederError as e:
                log.error("not serving after the reload: %s", e)
        self.scheduler.reschedule_job(JOB_ID, trigger="interval", seconds=new.interval)
        self.scheduler.modify_job(JOB_ID, next_run_time=datetime.now(UTC))
        log.info("configuration reloaded; rebuilding now")

    def stop(self) -> bool:
        """Stop everything within about :data:`STOP_GRACE_S`; True when no build is left."""
        self._stopping.set()
        deadline = time.monotonic() + STOP_GRACE_S
        with contextlib.suppress(Exception):
            self.scheduler.shutdown(wait=False)
        if self.server is not None:
            self.server.request_stop()  # finishes its responses while we wait for the build
        idle = self._build_lock.acquire(timeout=STOP_GRACE_S)
        if self.server is not None:
            self.server.stop(timeout=max(0.2, deadline - time.monotonic()))
        return idle


def run(*, load: Callable[[], Settings]) -> int:
    """Run the daemon until SIGTERM/SIGINT; return the process exit code.

    ``load`` returns fresh settings (configuration file plus command-line
    overrides); it is called at start and again on every SIGHUP.
    """
    try:
        settings = load()
    except FeederError as e:
        log.error("%s", e)
        return 1
    pid_lock = PidLock(settings.resolved_state_dir)
    try:
        pid_lock.acquire()
    except AlreadyRunning as e:
        log.error("%s; use `feeder trigger` to make it rebuild", e)
        return 1
    except OSError as e:
        log.error("cannot create %s: %s", pid_lock.path, e.strerror or e)
        return 1
    claim = OutputClaim(settings.output.parent, settings.resolved_state_dir, role="daemon")
    try:
        claim.acquire(wait_for_same_state=True)
    except FeederError as e:
        log.error("%s", e)
        pid_lock.release()
        return 1
    daemon = Daemon(load, settings, claim)
    control = ControlServer(daemon.state_dir, daemon.handle)
    idle = True
    with SignalInbox(_SIGNALS) as inbox:
        try:
            daemon.start_server()
            control.start()
        except (FeederError, OSError) as e:
            log.error("cannot start: %s", e)
            control.stop()
            if daemon.server is not None:
                daemon.server.stop()
            daemon.claim.release()
            pid_lock.release()
            return 1
        daemon.schedule()
        log.info(
            "daemon started (pid %d): polling %s every %g s; state in %s",
            os.getpid(),
            settings.seeds,
            settings.interval,
            daemon.state_dir,
        )
        sd_notify("READY=1")
        try:
            stop_signal = 0
            while not stop_signal:
                for signum in inbox.wait(1.0):
                    if signum != signal.SIGHUP:
                        stop_signal = signum
                        break
                    sd_notify("RELOADING=1")
                    try:
                        daemon.reload()
                    except Exception as e:  # a reload must never take the daemon down
                        log.error("reload failed: %s: %s", type(e).__name__, e)
                        log.debug("traceback of the failed reload", exc_info=True)
                    sd_notify("READY=1")
            log.info("stopping on %s", signal.Signals(stop_signal).name)
        finally:
            sd_notify("STOPPING=1")
            control.stop()
            idle = daemon.stop()
            daemon.claim.release()
            pid_lock.release()
    if not idle:
        log.warning("abandoned the build in progress; the published feed is unchanged")
        logging.shutdown()
        os._exit(0)  # the build thread cannot be interrupted; its writes are atomic
    log.info("daemon stopped")
    return 0
