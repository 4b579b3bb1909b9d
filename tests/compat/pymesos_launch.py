#!/usr/bin/env python3
"""Runs one command task on a Mesos-compatible master through pymesos, the
unmodified third-party v1 HTTP scheduler client, using only its public API.

usage: pymesos_launch.py MASTER_HOST:PORT TIMEOUT_SECONDS

It subscribes, accepts the first offer with room for the task (declining
the others), launches `echo hi` with cpus 0.1 and mem 32, prints

    SUBSCRIBED <framework_id>
    LAUNCHED <task_id> on <hostname>
    STATUS <task_id> <state>          (one per update)

acknowledges every update that carries a uuid, sends TEARDOWN when done and
exits with
    0  the task reached TASK_FINISHED,
    1  another terminal state, or an ERROR event,
    2  no outcome within TIMEOUT_SECONDS,
    3  pymesos' driver died (an HTTP error from the master, a bad stream),
   64  bad usage.
Reasons and messages of updates go to stderr. Run with the venv that
tests/compat/setup builds.
"""
import logging
import os
import socket
import sys
import threading
import time

from pymesos import MesosSchedulerDriver, Scheduler

CPUS = 0.1
MEM = 32.0
COMMAND = "echo hi"
FINISHED = "TASK_FINISHED"
OTHER_TERMINAL = frozenset([
    "TASK_FAILED", "TASK_KILLED", "TASK_ERROR", "TASK_LOST", "TASK_DROPPED",
    "TASK_GONE", "TASK_GONE_BY_OPERATOR", "TASK_UNKNOWN",
])
REFUSE = {"refuse_seconds": 3600.0}


def say(*words):
    print(" ".join(str(w) for w in words), flush=True)


def scalar_entry(offer, name, amount):
    """The offer's first SCALAR entry for `name` holding at least `amount`,
    copied with its value set to `amount` (role, allocation and reservations
    stay exactly as offered), or None."""
    for resource in offer.get("resources", []):
        if resource.get("name") != name or resource.get("type", "SCALAR") != "SCALAR":
            continue
        if resource.get("scalar", {}).get("value", 0.0) + 1e-9 >= amount:
            entry = dict(resource)
            entry["scalar"] = {"value": amount}
            return entry
    return None


class LaunchOnce(Scheduler):
    def __init__(self, task_id):
        self.task_id = task_id
        self.launched = False
        self.outcome = None
        self.finished = threading.Event()

    def conclude(self, code):
        if self.outcome is None:
            self.outcome = code
        self.finished.set()

    def registered(self, driver, framework_id, master_info):
        say("SUBSCRIBED", framework_id["value"])

    def reregistered(self, driver, master_info):
        say("RESUBSCRIBED")

    def resourceOffers(self, driver, offers):
        for offer in offers:
            cpus = scalar_entry(offer, "cpus", CPUS)
            mem = scalar_entry(offer, "mem", MEM)
            if self.launched or cpus is None or mem is None:
                driver.declineOffer(offer["id"], filters=REFUSE)
                continue
            task = {
                "name": self.task_id,
                "task_id": {"value": self.task_id},
                "agent_id": offer["agent_id"],
                "command": {"shell": True, "value": COMMAND},
                "resources": [cpus, mem],
            }
            driver.launchTasks(offer["id"], [task], filters=REFUSE)
            self.launched = True
            say("LAUNCHED", self.task_id, "on", offer.get("hostname", "?"))

    def statusUpdate(self, driver, update):
        task_id = update["task_id"]["value"]
        state = update["state"]
        say("STATUS", task_id, state)
        if "reason" in update or "message" in update:
            print("  reason=%s message=%s" % (update.get("reason"), update.get("message")),
                  file=sys.stderr, flush=True)
        driver.acknowledgeStatusUpdate(update)  # pymesos skips updates without uuid
        if task_id != self.task_id:
            return
        if state == FINISHED:
            self.conclude(0)
        elif state in OTHER_TERMINAL:
            self.conclude(1)

    def error(self, driver, message):
        say("ERROR", message)
        self.conclude(1)


def main(argv):
    if len(argv) != 3:
        print(__doc__, file=sys.stderr)
        return 64
    master, timeout = argv[1], float(argv[2])
    logging.getLogger("pymesos").setLevel(logging.WARNING)
    sched = LaunchOnce("pymesos-echo-%d-%d" % (os.getpid(), int(time.time())))
    framework = {
        "user": os.environ.get("USER", "root"),
        "name": "corral-pymesos-compat",
        "hostname": socket.gethostname(),
        "failover_timeout": 0.0,
    }
    driver = MesosSchedulerDriver(
        sched, framework, master,
        use_addict=False,
        implicit_acknowledgements=False,
        timeout=timeout,
    )
    deadline = time.monotonic() + timeout
    try:
        driver.start()
        # Short waits, so that pymesos' interrupt_main() reaches this thread.
        while not sched.finished.wait(0.2):
            if time.monotonic() >= deadline:
                say("TIMEOUT after %gs" % timeout)
                sched.conclude(2)
    except BaseException as e:  # the driver re-raises its thread's error here
        say("DRIVER-ERROR %s: %s" % (type(e).__name__, e))
        return 3
    finally:
        try:
            driver.stop()  # failover=False: sends TEARDOWN
            driver.join()
        except BaseException:
            pass
    return sched.outcome


if __name__ == "__main__":
    sys.exit(main(sys.argv))
