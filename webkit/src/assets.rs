//! The web surfaces' only assets, in the binary: the style sheet (large type,
//! 1366x768 and up, printable) and the one small script that refreshes the
//! live parts of a page when the server sends an event. Nothing is fetched
//! from the internet.

/// `/assets/dashboard.css`.
pub const CSS: &str = r#"
body { font-family: "Noto Sans CJK SC", "Microsoft YaHei", "PingFang SC", "WenQuanYi Micro Hei", sans-serif; font-size: 18px; margin: 0; color: #1d2327; background: #f6f7f7; }
header { display: flex; align-items: center; gap: 1.2em; background: #0f5132; color: #fff; padding: .5em 1em; }
header a, header button { color: #fff; }
.brand { font-weight: bold; font-size: 1.2em; white-space: nowrap; }
nav { display: flex; flex-wrap: wrap; column-gap: .9em; }
nav a { text-decoration: none; white-space: nowrap; }
header .who, header .lang { white-space: nowrap; }
nav a.here { text-decoration: underline; font-weight: bold; }
.who { margin-left: auto; }
.inline { display: inline; margin: 0; }
button { font-size: 1em; padding: .3em .9em; cursor: pointer; }
header button { background: transparent; border: 1px solid #fff; }
main { padding: 1em 1.5em; max-width: 1300px; }
h1 { font-size: 1.5em; margin: .3em 0 .6em; }
h2 { font-size: 1.2em; margin: 1.2em 0 .4em; }
.big { font-size: 3em; font-weight: bold; color: #0f5132; margin: 0; line-height: 1.1; }
.grid { display: flex; flex-wrap: wrap; gap: 1.5em; align-items: flex-start; }
table { border-collapse: collapse; background: #fff; }
th, td { border: 1px solid #c3c4c7; padding: .25em .6em; text-align: left; }
td.n, th.n { text-align: right; }
.offline, .alarm { color: #b32d2e; font-weight: bold; }
.ok { color: #0f5132; }
.error { color: #b32d2e; font-weight: bold; }
.chart .bar { fill: #2271b1; }
.chart .axis { stroke: #50575e; }
.chart .tick { font-size: 11px; fill: #50575e; }
form.sign-in { background: #fff; padding: 1.2em; max-width: 26em; border: 1px solid #c3c4c7; }
form.sign-in label { display: block; margin: .6em 0 .2em; }
form.sign-in input { font-size: 1.2em; width: 100%; box-sizing: border-box; }
@page { size: A4; margin: 15mm; }
@media print { header, form, button, script { display: none; } body { background: #fff; font-size: 12pt; } main { padding: 0; } .report h2 { break-after: avoid; } }
"#;

/// `/assets/live.js`: on a server-sent event, fetch the page's live part
/// (`data-live` on an element names its URL) and put it in place.
pub const LIVE_JS: &str = r#"
(function () {
  var part = document.querySelector("[data-live]");
  if (!part || !window.EventSource) { return; }
  var busy = false;
  function refresh() {
    if (busy) { return; }
    busy = true;
    var x = new XMLHttpRequest();
    x.open("GET", part.getAttribute("data-live"));
    x.onload = function () { if (x.status === 200) { part.innerHTML = x.responseText; } busy = false; };
    x.onerror = function () { busy = false; };
    x.send();
  }
  var events = new EventSource("/events");
  events.addEventListener("change", refresh);
})();
"#;
