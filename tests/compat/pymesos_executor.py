#!/usr/bin/env python3
"""A custom Mesos executor written with pymesos 0.3.15's MesosExecutorDriver
(the unmodified third-party v1 executor library, speaking the agent's
/api/v1/executor), for corral's executor tests. It reads MESOS_AGENT_ENDPOINT,
MESOS_FRAMEWORK_ID, MESOS_EXECUTOR_ID and MESOS_CHECKPOINT as every Mesos
executor does.

usage: pymesos_executor.py            (run by the agent as the executor)

Each task's `data` (base64 of text, as TaskInfo.data) says what to do once
it has sent TASK_RUNNING:
    finish     send TASK_FINISHED
    wait       nothing more, until a framework message or a kill
    exit N     the executor exits with status N (its task still running)
A framework message "finish TASK_ID" is answered with the message
"finishing TASK_ID", then TASK_FINISHED of that task; a kill with
TASK_KILLED.

It prints one line per thing it sees, to stdout (the sandbox's stdout file):
    REGISTERED <executor_id> | REREGISTERED | DISCONNECTED
    LAUNCH <task_id> <what> | KILL <task_id> | MESSAGE <text>
    ACKNOWLEDGED <task_id> | SHUTDOWN
"""
import os
import threading

from pymesos import Executor, MesosExecutorDriver, decode_data, encode_data


def say(*words):
    print(" ".join(str(w) for w in words), flush=True)


def update(driver, task_id, state):
    driver.sendStatusUpdate({"task_id": {"value": task_id}, "state": state})


class Driver(MesosExecutorDriver):
    """pymesos' driver, telling what the agent acknowledges."""

    def on_acknowledged(self, event):
        say("ACKNOWLEDGED", event["task_id"]["value"])
        super().on_acknowledged(event)


class TestExecutor(Executor):
    def registered(self, driver, executor_info, framework_info, agent_info):
        say("REGISTERED", executor_info["executor_id"]["value"])

    def reregistered(self, driver, agent_info):
        say("REREGISTERED")

    def disconnected(self, driver):
        say("DISCONNECTED")

    def launchTask(self, driver, task):
        task_id = task["task_id"]["value"]
        data = task.get("data")
        what = decode_data(data).decode() if data else "finish"
        say("LAUNCH", task_id, what)
        thread = threading.Thread(target=self.run, args=(driver, task_id, what))
        thread.daemon = True
        thread.start()

    def run(self, driver, task_id, what):
        update(driver, task_id, "TASK_RUNNING")
        if what == "finish":
            update(driver, task_id, "TASK_FINISHED")
        elif what.startswith("exit "):
            os._exit(int(what.split()[1]))

    def killTask(self, driver, task_id):
        say("KILL", task_id["value"])
        update(driver, task_id["value"], "TASK_KILLED")

    def frameworkMessage(self, driver, message):
        text = decode_data(message).decode()
        say("MESSAGE", text)
        verb, _, task_id = text.partition(" ")
        if verb == "finish":
            reply = "finishing " + task_id
            driver.sendFrameworkMessage(encode_data(reply.encode()))
            update(driver, task_id, "TASK_FINISHED")

    def shutdown(self, driver):
        say("SHUTDOWN")


if __name__ == "__main__":
    Driver(TestExecutor()).run()
