"""Extracts the HTTP exchanges recorded from real Mastodon servers in the
Mastodon.py source distribution (vcrpy cassettes under tests/cassettes*) for
the endpoints the connector speaks, as JSON for the replay test.

Usage: extract.py SDIST.tar.gz OUT.json
"""
import json
import re
import sys
import tarfile

import yaml

ENDPOINTS = re.compile(
    r"^/api/v1/(accounts/verify_credentials|accounts/lookup|accounts/[^/]+(/(statuses|followers|following))?"
    r"|statuses|timelines/(home|public|tag/[^/]+|list/[^/]+))$|^/api/v2/search$"
)


def text(value):
    """A request or response body as text, or None when it is not text."""
    if value is None:
        return ""
    if isinstance(value, bytes):
        try:
            return value.decode("utf-8")
        except UnicodeDecodeError:
            return None
    return value if isinstance(value, str) else None


def main(sdist, out):
    exchanges = []
    with tarfile.open(sdist) as archive:
        for member in archive.getmembers():
            name = member.name
            if "/tests/cassettes" not in name or not name.endswith(".yaml"):
                continue
            cassette = yaml.safe_load(archive.extractfile(member)) or {}
            for interaction in cassette.get("interactions", []):
                request, response = interaction["request"], interaction["response"]
                uri = request["uri"]
                path_query = re.sub(r"^https?://[^/]+", "", uri)
                path, _, query = path_query.partition("?")
                if request["method"] not in ("GET", "POST") or not ENDPOINTS.match(path):
                    continue
                if request["method"] == "POST" and path != "/api/v1/statuses":
                    continue
                request_body = text(request.get("body"))
                response_body = text(response.get("body", {}).get("string"))
                if request_body is None or response_body is None:
                    continue
                headers = [
                    [key, value]
                    for key, values in (response.get("headers") or {}).items()
                    for value in (values if isinstance(values, list) else [values])
                ]
                request_headers = {key.lower(): (values[0] if isinstance(values, list) else values)
                                   for key, values in (request.get("headers") or {}).items()}
                exchanges.append({
                    "cassette": name.split("/tests/", 1)[1],
                    "method": request["method"],
                    "path": path,
                    "query": query,
                    "request_content_type": request_headers.get("content-type", ""),
                    "request_body": request_body,
                    "status": response["status"]["code"],
                    "headers": headers,
                    "body": response_body,
                })
    with open(out, "w") as handle:
        json.dump(exchanges, handle)
    print(f"{len(exchanges)} exchanges extracted")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
