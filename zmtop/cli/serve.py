"""`zmtop serve`: the monitor in web browsers, through textual-serve.

textual-serve answers each browser's connection with a monitor of its own: `python -m zmtop`
with the same source options, run in a subprocess whose screen goes to the page. (This
module is imported for `zmtop serve` only: it loads textual-serve and aiohttp.)
"""

from __future__ import annotations

import argparse
import shlex
import socket
import sys

import aiohttp_jinja2
import jinja2
from aiohttp import web
from textual_serve.server import Server

from zmtop.cli.options import host_port
from zmtop.errors import CliError

SHUTDOWN_SECONDS = 5  # for the pages' monitors to quit once the server is told to stop
# The options that name the source and the monitor's look, passed on to each page's monitor.
PASSED_ON = (("--scenario", "scenario"), ("--seed", "seed"), ("--ticks", "ticks"),
             ("--tick", "tick"), ("--from", "from_file"), ("--at", "at"),
             ("--poll", "poll"), ("--window", "window"), ("--theme", "theme"))


def monitor_command(args: argparse.Namespace) -> str:
    """The shell line that starts the monitor the options describe."""
    words = [sys.executable, "-m", "zmtop"]
    for option, name in PASSED_ON:
        value = getattr(args, name, None)
        if value is not None:
            words += [option, str(value)]
    return shlex.join(words)


def listening_socket(host: str, port: int) -> socket.socket:
    """A socket bound to HOST:PORT and listening; a CliError that names the address if the
    port is taken or the address is not this machine's."""
    try:
        family, kind, proto, _, address = socket.getaddrinfo(
            host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)[0]
        sock = socket.socket(family, kind, proto)
    except OSError as error:
        raise CliError(f"{host}:{port}: cannot listen: {error.strerror or error}") from None
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(address)
        sock.listen(128)
    except OSError as error:
        sock.close()
        raise CliError(f"{host}:{port}: cannot listen: {error.strerror or error}") from None
    return sock


def run_serve(args: argparse.Namespace) -> str:
    """Serve the monitor until interrupted (Ctrl-C, SIGTERM)."""
    from zmtop.cli.sources import open_source

    open_source(args)  # a source that cannot open is one line here, not a blank page
    host, port = args.listen
    sock = listening_socket(host, port)
    bound = sock.getsockname()[1]
    url = f"http://{host_port(host, bound)}"
    server = MonitorServer(monitor_command(args), host, bound, title="zmtop", public_url=url)
    print(f"serving {url}/", flush=True)
    try:
        web.run_app(server.web_app(), sock=sock, print=None, handle_signals=True,
                    shutdown_timeout=SHUTDOWN_SECONDS)
    finally:
        sock.close()
    return ""


# Keys go to the monitor as soon as the page shows it, with no click first: the terminal's
# input (a textarea xterm.js adds to #terminal) takes the focus as soon as it is there.
FOCUS_ON_LOAD = """<script>
new MutationObserver((changes, watcher) => {
  const input = document.querySelector("#terminal textarea");
  if (input) {
    input.focus();
    watcher.disconnect();
  }
}).observe(document.body, {childList: true, subtree: true});
</script>
"""


class MonitorServer(Server):
    """textual-serve's Server with its web app built from its public handlers (its `serve`
    binds the address itself, and says more than `serving URL`), and a page whose terminal
    has the keys from the start."""

    def web_app(self) -> web.Application:
        app = web.Application()
        aiohttp_jinja2.setup(app, loader=jinja2.FileSystemLoader(self.templates_path))
        app.add_routes([
            web.get("/", self.handle_index, name="index"),
            web.get("/ws", self.handle_websocket, name="websocket"),
            web.get("/download/{key}", self.handle_download, name="download"),
            web.static("/static", self.statics_path, name="static"),
        ])
        app.on_shutdown.append(self.on_shutdown)
        return app

    async def handle_index(self, request: web.Request) -> web.StreamResponse:
        page = await super().handle_index(request)
        if isinstance(page, web.Response) and page.text is not None:
            page.text = page.text.replace("</body>", FOCUS_ON_LOAD + "</body>", 1)
        return page
