"""What kinto-push holds for one channel, read over HTTP (loopback: no admin secret needed).

    channel = PushChannel(push_server, "/buckets/b/collections/c")
    channel.summary()          # GET /v1/channels/{channel}: {"events", "last_offset", ...} or None
    channel.record_ids(since)  # ids of the record events after offset ``since`` (/v1/history)
"""

import json
import urllib.parse


class PushChannel:
    def __init__(self, push, name):
        self.push = push
        self.name = name

    def summary(self):
        """The channel as ``GET /v1/channels/{channel}`` answers it; None before its first
        event (404) or while kinto-push does not answer."""
        try:
            status, body = self.push.request("GET", "/v1/channels/" + urllib.parse.quote(
                self.name, safe=""))
        except OSError:
            return None
        return body if status == 200 else None

    def events(self):
        summary = self.summary()
        return summary.get("events", 0) if summary else 0

    def last_offset(self):
        summary = self.summary()
        return summary.get("last_offset", 0) if summary else 0

    def record_ids(self, since=0, max_pages=1000):
        """The ids of the records created or updated by the channel's events after offset
        ``since``, in channel order (an id twice if delivered twice)."""
        ids = []
        for _ in range(max_pages):
            query = urllib.parse.urlencode({"channel": self.name, "since": since, "limit": 1000})
            status, body = self.push.request("GET", f"/v1/history?{query}")
            if status != 200:
                raise RuntimeError(f"GET /v1/history: {status} {json.dumps(body)[:300]}")
            for event in body["events"]:
                if event["payload"].get("resource_name") == "record":
                    ids.extend(o["new"]["id"] for o in event.get("impacted_objects", []))
            if not body["more"] or not body["events"]:
                return ids
            since = body["events"][-1]["offset"]
        raise RuntimeError(f"history of {self.name}: more than {max_pages} pages")
