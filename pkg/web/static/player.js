// Lockbox session player: fetches a sanitised asciicast v2 recording from
// the CA (same origin, the session cookie) and plays its output into an
// xterm.js terminal with play/pause, speed and seek. Recorded data only
// ever reaches the page through term.write, never as HTML.
(function () {
  "use strict";

  var root = document.getElementById("player");
  if (!root || typeof Terminal === "undefined") {
    return;
  }

  // The Content-Security-Policy of this page allows <style> elements only
  // with this response's nonce. xterm.js sizes and colours cells with
  // <style> elements it creates, so give them the nonce; and it sets a few
  // style attributes (24-bit colours), which the policy refuses as
  // attributes, so apply those through the CSSOM instead.
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

  var playBtn = document.getElementById("play");
  var speedSel = document.getElementById("speed");
  var seek = document.getElementById("seek");
  var clock = document.getElementById("clock");
  var status = document.getElementById("player-status");

  var term = null;
  var events = [];   // [time, kind, data], output and resize only
  var duration = 0;
  var next = 0;      // index of the next event to write
  var pos = 0;       // playback position in seconds
  var playing = false;
  var speed = 1;
  var timer = null;
  var wallStart = 0, posStart = 0;
  var width = 80, height = 24;
  var bareLineFeeds = false; // the session had no terminal (see load)

  function setState(s, text) {
    root.setAttribute("data-state", s);
    if (text !== undefined) {
      status.textContent = text;
    }
  }

  // fmt shows a time as m:ss; a recording under a minute long shows
  // hundredths too (m:ss.cc), so that a short one does not read 0:00.
  function fmt(t) {
    var fine = duration < 60;
    var cs = Math.max(0, Math.floor(t * 100 + 1e-6));
    if (!fine) {
      cs -= cs % 100;
    }
    var m = Math.floor(cs / 6000), s = Math.floor(cs / 100) % 60, frac = cs % 100;
    return m + ":" + (s < 10 ? "0" : "") + s + (fine ? "." + (frac < 10 ? "0" : "") + frac : "");
  }

  function showClock() {
    clock.textContent = fmt(pos) + " / " + fmt(duration);
    seek.value = String(pos);
  }

  function parseSize(data) {
    var m = /^(\d+)x(\d+)$/.exec(data);
    if (!m) {
      return null;
    }
    var c = parseInt(m[1], 10), r = parseInt(m[2], 10);
    if (c < 1 || r < 1 || c > 1000 || r > 1000) {
      return null;
    }
    return [c, r];
  }

  // writeUpTo writes every event at or before t, in one write per run.
  function writeUpTo(t) {
    var out = "";
    while (next < events.length && events[next][0] <= t) {
      var ev = events[next];
      if (ev[1] === "o") {
        out += ev[2];
      } else if (ev[1] === "r") {
        var size = parseSize(ev[2]);
        if (size) {
          if (out) {
            term.write(out);
            out = "";
          }
          term.resize(size[0], size[1]);
        }
      }
      next++;
    }
    if (out) {
      term.write(out);
    }
  }

  function tick() {
    timer = null;
    if (!playing) {
      return;
    }
    pos = Math.min(duration, posStart + (performance.now() - wallStart) / 1000 * speed);
    writeUpTo(pos);
    showClock();
    if (next >= events.length || pos >= duration) {
      pause();
      setState("ended", "Ended.");
      playBtn.textContent = "Replay";
      return;
    }
    // Wake for the next event, but at least every 100 ms for the clock.
    var wait = (events[next][0] - pos) / speed * 1000;
    timer = setTimeout(tick, Math.max(0, Math.min(wait, 100)));
  }

  function play() {
    if (next >= events.length) {
      seekTo(0);
    }
    playing = true;
    wallStart = performance.now();
    posStart = pos;
    playBtn.textContent = "Pause";
    setState("playing", "Playing.");
    tick();
  }

  function pause() {
    playing = false;
    if (timer) {
      clearTimeout(timer);
      timer = null;
    }
    playBtn.textContent = "Play";
    setState("paused", "Paused.");
  }

  // seekTo redraws the terminal from the start up to t: a terminal's state
  // depends on everything written before.
  function seekTo(t) {
    var was = playing;
    if (playing) {
      pause();
    }
    term.reset();
    term.resize(width, height);
    term.options.convertEol = bareLineFeeds; // recorded data may have changed it (LNM)
    next = 0;
    pos = Math.max(0, Math.min(duration, t));
    writeUpTo(pos);
    showClock();
    if (was) {
      play();
    }
  }

  playBtn.addEventListener("click", function () {
    if (playing) {
      pause();
    } else {
      play();
    }
  });
  speedSel.addEventListener("change", function () {
    var s = parseFloat(speedSel.value);
    if (!(s >= 0.5 && s <= 16)) {
      return;
    }
    if (playing) {
      posStart = pos;
      wallStart = performance.now();
    }
    speed = s;
  });
  seek.addEventListener("input", function () {
    seekTo(parseFloat(seek.value) || 0);
  });

  function load(text) {
    var lines = text.split("\n");
    var header = JSON.parse(lines[0]);
    if (!header || header.version !== 2) {
      throw new Error("not an asciicast v2 recording");
    }
    width = header.width || 80;
    height = header.height || 24;
    bareLineFeeds = header.terminal === false;
    for (var i = 1; i < lines.length; i++) {
      if (!lines[i]) {
        continue;
      }
      var ev = JSON.parse(lines[i]);
      if (!Array.isArray(ev) || ev.length !== 3 || typeof ev[0] !== "number" || typeof ev[2] !== "string") {
        continue;
      }
      if (ev[1] === "o" || ev[1] === "r") {
        events.push(ev);
        duration = Math.max(duration, ev[0]);
      }
    }
    term = new Terminal({
      cols: width, rows: height, disableStdin: true, cursorBlink: false, scrollback: 2000,
      // A session without a terminal has no line discipline to turn
      // its line feeds into CR LF: let the player do it, as a terminal
      // would, instead of drawing a staircase.
      convertEol: bareLineFeeds, fontSize: 14, allowTransparency: false,
      fontFamily: 'ui-monospace, SFMono-Regular, Menlo, Consolas, "Liberation Mono", monospace'
    });
    term.open(document.getElementById("terminal"));
    seek.max = String(duration);
    seek.disabled = false;
    playBtn.disabled = false;
    showClock();
    setState("ready", events.length + " events, " + fmt(duration) + (header.truncated ? " (the recording ends early: the bastion stopped during the session)" : "") + ". Press Play.");
  }

  setState("loading");
  fetch(root.getAttribute("data-cast"), { credentials: "same-origin", cache: "no-store" })
    .then(function (res) {
      if (!res.ok) {
        throw new Error("the CA answered " + res.status);
      }
      return res.text();
    })
    .then(load)
    .catch(function (err) {
      setState("error", "The recording could not be loaded: " + err.message);
    });
}());
