"""Gym-style client of `lab env serve` (Durable Lab). Standard library only.

    env = LabEnv("http://127.0.0.1:8765")
    obs = env.reset("cancer-diagnosis")
    obs, reward, done, info = env.step({"action": "request_info", "topic": "metric"})

Each session is a Temporal workflow: it survives a restart of the server or of the workers, and
`LabEnv(url, session_id=...)` continues one. A step whose reply is lost (connection dropped,
server restarting, HTTP 502/503/504) is sent again with the same step id, so it never runs twice;
any other refusal (a 4xx: a bad action, a body over the server's limit) raises LabEnvError at once.
Steps sent at once (threads, several LabEnv on one session) run one at a time, in arrival order.
API: docs/gym.md.
"""
from __future__ import annotations

import json
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from typing import Any, Dict, List, Optional, Tuple

__all__ = ["LabEnv", "LabEnvError"]

Observation = Dict[str, Any]


class LabEnvError(Exception):
    """The server refused a request (HTTP 4xx/5xx); `status` and the server's `message`."""

    def __init__(self, status: int, message: str, body: Optional[dict] = None):
        super().__init__(f"HTTP {status}: {message}")
        self.status = status
        self.message = message
        self.body = body or {}


class LabEnv:
    def __init__(self, base_url: str = "http://127.0.0.1:8765", session_id: Optional[str] = None,
                 timeout: float = 3600.0, retry_seconds: float = 120.0):
        self.base_url = base_url.rstrip("/")
        self.session_id = session_id
        self.timeout = timeout
        # How long a step keeps re-sending while the server or Temporal is unreachable.
        self.retry_seconds = retry_seconds
        self.info: Dict[str, Any] = {}

    # Gym API -------------------------------------------------------------------------------

    def reset(self, task: str, session_id: Optional[str] = None, limits: Optional[dict] = None) -> Observation:
        """Starts a new session (a new workflow) on a competition task; returns its first observation."""
        body: Dict[str, Any] = {"task": task}
        if session_id:
            body["sessionId"] = session_id
        if limits:
            body["limits"] = limits
        out = self._request("POST", "/reset", body)
        self.session_id = out["sessionId"]
        self.info = out.get("info", {})
        return out["observation"]

    def step(self, action: Dict[str, Any]) -> Tuple[Observation, float, bool, Dict[str, Any]]:
        """One action; returns (observation, reward, done, info)."""
        if not self.session_id:
            raise RuntimeError("no session: call reset(task) first, or pass session_id")
        body = {"sessionId": self.session_id, "action": action, "stepId": uuid.uuid4().hex}
        out = self._request("POST", "/step", body, resend=True)
        self.info = out["info"]
        return out["observation"], float(out["reward"]), bool(out["done"]), out["info"]

    # Extras --------------------------------------------------------------------------------

    def session(self, session_id: Optional[str] = None) -> Dict[str, Any]:
        """The session's state (step, rewards, best dev score, final score)."""
        sid = session_id or self.session_id
        if not sid:
            raise RuntimeError("no session")
        return self._request("GET", f"/sessions/{urllib.parse.quote(sid, safe='')}")

    def tasks(self) -> List[Dict[str, Any]]:
        return self._request("GET", "/tasks")["tasks"]

    # HTTP ----------------------------------------------------------------------------------

    def _request(self, method: str, path: str, body: Optional[dict] = None, resend: bool = False) -> Any:
        data = json.dumps(body).encode("utf-8") if body is not None else None
        # Counted from the first failure in a row: a long step that ends in a socket timeout is still re-sent.
        failing_since: Optional[float] = None
        delay = 0.5
        while True:
            req = urllib.request.Request(self.base_url + path, data=data, method=method,
                                         headers={"content-type": "application/json"})
            try:
                with urllib.request.urlopen(req, timeout=self.timeout) as resp:
                    return json.loads(resp.read().decode("utf-8"))
            except urllib.error.HTTPError as err:
                payload = _json_or_none(err.read())
                message = (payload or {}).get("error", err.reason)
                failing_since = failing_since or time.monotonic()
                # Only "not now" answers are re-sent; a 4xx would be refused again.
                if not (resend and err.code in (502, 503, 504) and time.monotonic() - failing_since <= self.retry_seconds):
                    raise LabEnvError(err.code, str(message), payload) from None
            except (urllib.error.URLError, ConnectionError, TimeoutError, OSError) as err:
                # The same stepId is sent again: the workflow runs a step once, whoever asks.
                failing_since = failing_since or time.monotonic()
                if not (resend and time.monotonic() - failing_since <= self.retry_seconds):
                    raise
            time.sleep(delay)
            delay = min(delay * 2, 5.0)


def _json_or_none(raw: bytes) -> Optional[dict]:
    try:
        value = json.loads(raw.decode("utf-8"))
        return value if isinstance(value, dict) else None
    except ValueError:
        return None


def _demo(argv: List[str]) -> int:
    """A scripted episode: look around, run the baseline on the dev split, submit."""
    import argparse

    parser = argparse.ArgumentParser(description="Drive one Durable Lab environment session.")
    parser.add_argument("--url", default="http://127.0.0.1:8765")
    parser.add_argument("--task", help="competition task (default: the first of GET /tasks)")
    args = parser.parse_args(argv)

    env = LabEnv(args.url)
    task = args.task or env.tasks()[0]["name"]
    obs = env.reset(task)
    print(f"session {env.session_id} on {task}\n{obs['text'][:800]}\n")
    episode = [
        {"action": "request_info", "topic": "metric"},
        {"action": "list_files", "path": "methods"},
        {"action": "validate_code"},
        {"action": "execute_code"},
        {"action": "submit", "summary": "the baseline, unchanged"},
    ]
    total = 0.0
    for action in episode:
        obs, reward, done, info = env.step(action)
        total += reward
        print(f"[{info['step']}] {action['action']}: reward {reward:.4f} done {done}")
        print("    " + obs["text"][:400].replace("\n", "\n    "))
        if done:
            break
    print(f"total reward {total:.4f}; session: {json.dumps(env.session(), indent=2)}")
    return 0


if __name__ == "__main__":
    sys.exit(_demo(sys.argv[1:]))
