"""Fetches the Mastodon.py source distribution from PyPI and extracts the
HTTP exchanges recorded from real Mastodon servers in it (vcrpy cassettes
under tests/cassettes*) for the endpoints the connector speaks, as JSON for
the replay test.

Usage: extract.py NAME==VERSION DOWNLOAD_DIR OUT.json
"""
import json
import os
import re
import subprocess
import sys
import tarfile
import time
import urllib.request

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


def fetch(requirement, directory):
    """The sdist's path, downloaded through PyPI's simple index (three tries)."""
    name, version = requirement.split("==")
    project = re.sub(r"[-_.]+", "-", name).lower()
    filename = f"{project.replace('-', '_')}-{version}.tar.gz"
    path = os.path.join(directory, filename)
    if os.path.exists(path):
        return path
    for attempt in range(3):
        try:
            with urllib.request.urlopen(f"https://pypi.org/simple/{project}/", timeout=60) as answer:
                index = answer.read().decode("utf-8")
            link = re.search(r'href="([^"#]*/' + re.escape(filename) + r')(#[^"]*)?"', index)
            if link is None:
                raise RuntimeError(f"{filename} is not on PyPI's index")
            with urllib.request.urlopen(link.group(1), timeout=120) as answer:
                data = answer.read()
            break
        except OSError:
            if attempt == 2:
                # Last resort: pip, with whatever index configuration it has.
                subprocess.run([sys.executable, "-m", "pip", "download", "--quiet", "--no-deps",
                                "--no-binary", ":all:", requirement, "-d", directory], check=True)
                return path
            time.sleep(2)
    partial = path + ".part"
    with open(partial, "wb") as handle:
        handle.write(data)
    os.replace(partial, path)
    return path


def main(requirement, directory, out):
    sdist = fetch(requirement, directory)
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
    # Written whole, then renamed: a reader never sees half a file.
    with open(out + ".part", "w") as handle:
        json.dump(exchanges, handle)
    os.replace(out + ".part", out)
    print(f"{len(exchanges)} exchanges extracted")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], sys.argv[3])
