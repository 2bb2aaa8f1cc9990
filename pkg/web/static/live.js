// Lockbox live view: watches a running session through the CA (same
// origin, the session cookie) and writes its output into an xterm.js
// terminal, as the replay does. Output only ever reaches the page through
// term.write, never as HTML; the CA sanitises it first.
(function () {
  "use strict";

  var root = document.getElementById("live");
  if (!root || typeof Terminal === "undefined") {
    return;
  }

  // The page's Content-Security-Policy allows <style> elements only with
  // its nonce, and no style attributes: as in player.js.
  var nonce = root.getAttribute("data-style-nonce") || "";
  var createElement = document.createElement;
  document.createElement = function (name, options) {
    var el = createElement.call(document, name, options);
    if (String(name).toLowerCase() === "style" && nonce) {
      el.setAttribute("nonce", nonce);
    }
    return el;
  };
  var setAttribute = Element.prototype.setAttribute;
  Element.prototype.setAttribute = function (name, value) {
    if (String(name).toLowerCase() === "style" && this instanceof HTMLElement) {
      this.style.cssText = String(value);
      return;
    }
    return setAttribute.call(this, name, value);
  };

  var session = root.getAttribute("data-session");
  var csrf = root.getAttribute("data-csrf");
  var base = "/ui/sessions/" + encodeURIComponent(session);
  var status = document.getElementById("live-status");
  var watchersLine = document.getElementById("live-watchers");
  var watch = "";
  var after = -1;
  var received = 0;
  var stopped = false;

  var term = new Terminal({
    cols: 80, rows: 24, disableStdin: true, cursorBlink: false, scrollback: 2000,
    // Without a terminal the output holds bare line feeds.
    convertEol: root.getAttribute("data-terminal") !== "1", fontSize: 14, allowTransparency: false,
    fontFamily: 'ui-monospace, SFMono-Regular, Menlo, Consolas, "Liberation Mono", monospace'
  });
  term.open(document.getElementById("live-terminal"));

  function setState(s, text) {
    root.setAttribute("data-state", s);
    if (text !== undefined) {
      status.textContent = text;
    }
  }

  function bytesOf(b64) {
    var bin = atob(b64 || "");
    var out = new Uint8Array(bin.length);
    for (var i = 0; i < bin.length; i++) {
      out[i] = bin.charCodeAt(i);
    }
    return out;
  }

  function post(path) {
    return fetch(path, {
      method: "POST", credentials: "same-origin", cache: "no-store", keepalive: true,
      headers: { "Content-Type": "application/x-www-form-urlencoded" },
      body: "csrf=" + encodeURIComponent(csrf)
    });
  }

  function failed(resp) {
    return resp.json().then(function (e) { return e.error; }, function () { return "The live view failed (" + resp.status + ")."; });
  }

  function read() {
    if (stopped) {
      return;
    }
    fetch(base + "/live?watch=" + encodeURIComponent(watch) + "&after=" + after, { credentials: "same-origin", cache: "no-store" })
      .then(function (resp) {
        if (!resp.ok) {
          return failed(resp).then(function (msg) {
            stopped = true;
            setState("failed", msg);
          });
        }
        return resp.json().then(function (out) {
          if (out.skipped > 0) {
            term.write("\r\n\x1b[7m[skipped " + out.skipped + " bytes: this view fell behind the session]\x1b[0m\r\n");
          }
          var data = bytesOf(out.data);
          if (data.length > 0) {
            term.write(data);
            received += data.length;
          }
          after = out.next;
          watchersLine.textContent = out.watchers && out.watchers.length ? "Watching now: " + out.watchers.join(", ") : "";
          if (out.ended) {
            stopped = true;
            setState("ended", "The session ended: " + (out.end_reason || "no reason given"));
            return;
          }
          setState("live", "Live: " + received + " bytes received.");
          read();
        });
      })
      .catch(function () {
        // The network or the CA went away: try again shortly.
        setState("retrying", "Reconnecting…");
        setTimeout(read, 1000);
      });
  }

  post(base + "/watch").then(function (resp) {
    if (!resp.ok) {
      return failed(resp).then(function (msg) { setState("failed", msg); });
    }
    return resp.json().then(function (w) {
      watch = w.watch;
      setState("live", "Live: waiting for output.");
      read();
    });
  }, function () {
    setState("failed", "Could not reach the CA; reload the page.");
  });

  window.addEventListener("pagehide", function () {
    stopped = true;
    if (watch) {
      post(base + "/watch/" + encodeURIComponent(watch) + "/stop");
    }
  });
})();
