/**
 * The HTML waterfall's script, inlined in the page (allowed by its hash in the page's CSP). It
 * reads the embedded data (viewer-model.ts) and builds the rows once; hover and the arrow keys
 * show a task's details. Text goes in through `textContent` only, so a task name is never markup.
 * Plain ES2017, no template literals (it lives in one).
 */
export const VIEWER_SCRIPT = `
(function () {
  'use strict';
  var t0 = performance.now();
  var data = JSON.parse(document.getElementById('fanout-trace').textContent);
  var span = data.span > 0 ? data.span : 1;
  var LETTERS = { retry: 'R', hedge: 'H', won: 'W', timeout: 'T', budget: 'B', circuit: 'C' };
  var KINDS = { gate: 'gate', after: 'after', read: 'read' };
  var chart = document.getElementById('chart');
  var rows = document.getElementById('rows');
  var grid = document.getElementById('grid');
  var ticks = document.getElementById('ticks');
  var tip = document.getElementById('tip');

  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined && text !== null) e.textContent = String(text);
    return e;
  }
  function ms(v) {
    return v >= 10 || Math.round(v) === v ? String(Math.round(v)) : v.toFixed(1);
  }
  function pct(v) {
    return (Math.max(0, Math.min(span, v)) / span) * 100;
  }
  function place(e, from, to) {
    e.style.left = pct(from) + '%';
    e.style.width = Math.max(0, pct(to) - pct(from)) + '%';
  }
  function plural(n, one, many) {
    return n + ' ' + (n === 1 ? one : many);
  }

  function summary() {
    var s = document.getElementById('summary');
    var path = data.criticalPath;
    var names = path.length > 12 ? path.slice(0, 12).concat(['… ' + (path.length - 12) + ' more']) : path;
    s.append(el('b', null, data.flow), ' · ' + data.status + ' · ' + ms(data.duration) + ' ms total · critical path ' +
      (path.length ? ms(data.criticalMs) + ' ms: ' + names.join(' → ') : 'none'));
    var counts = {}, marks = {};
    data.tasks.forEach(function (t) {
      counts[t.status] = (counts[t.status] || 0) + 1;
      t.marks.forEach(function (m) { marks[m[1]] = (marks[m[1]] || 0) + 1; });
    });
    var parts = ['fulfilled', 'fallback', 'rejected', 'aborted', 'skipped'].filter(function (k) { return counts[k]; })
      .map(function (k) { return counts[k] + ' ' + k; });
    var events = [['retry', 'retry', 'retries'], ['hedge', 'hedge fired', 'hedges fired'], ['timeout', 'timeout', 'timeouts'],
      ['budget', 'retry refused by the budget', 'retries refused by the budget'], ['circuit', 'circuit change', 'circuit changes']]
      .filter(function (e) { return marks[e[0]]; }).map(function (e) { return plural(marks[e[0]], e[1], e[2]); });
    var text = plural(data.tasks.length, 'task', 'tasks') + (parts.length ? ': ' + parts.join(', ') : '');
    if (events.length) text += ' · ' + events.join(', ');
    if (data.unplaced) text += ' · ' + plural(data.unplaced, 'event', 'events') + ' of calls outside these tasks not shown';
    document.getElementById('counts').textContent = text;
  }

  function row(t, i) {
    var r = el('div', 'row ' + t.status + (t.critical ? ' critical' : ''));
    r.setAttribute('data-i', String(i));
    r.setAttribute('role', 'row');
    var name = el('div', 'name', t.name);
    name.setAttribute('role', 'rowheader');
    if (t.gate) name.append(el('span', 'gate-tag', 'gate'));
    var track = el('div', 'track');
    track.setAttribute('role', 'cell');
    t.segments.forEach(function (s) {
      var seg = el('div', 'seg ' + (s[2] ? 'work' : 'wait'));
      place(seg, s[0], s[1]);
      track.appendChild(seg);
    });
    t.subs.forEach(function (s) {
      var sub = el('div', 'sub l' + s[2] + ' ' + s[3]);
      place(sub, s[0], s[1]);
      track.appendChild(sub);
    });
    t.marks.forEach(function (m) {
      var mark = el('div', 'mark ' + m[1], LETTERS[m[1]] || '?');
      mark.style.left = pct(m[0]) + '%';
      track.appendChild(mark);
    });
    var started = t.start !== null;
    r.append(name, track, el('div', 'status ' + t.status, t.status),
      el('div', 'num ran', started ? ms(t.ran) + ' ms' : ''), el('div', 'num waited', started ? ms(t.waited) + ' ms' : ''));
    Array.prototype.slice.call(r.children, 2).forEach(function (c) { c.setAttribute('role', 'cell'); });
    return r;
  }

  function drawAxis() {
    var width = ticks.clientWidth || 600;
    var raw = span / Math.max(2, Math.floor(width / 90));
    var pow = Math.pow(10, Math.floor(Math.log10(raw)));
    var step = [1, 2, 5, 10].map(function (b) { return b * pow; }).filter(function (s) { return s >= raw; })[0] || 10 * pow;
    var decimals = step < 1 ? Math.min(6, Math.ceil(-Math.log10(step))) : 0;
    ticks.replaceChildren();
    grid.replaceChildren();
    for (var k = 0; k * step <= span + 1e-9; k++) {
      var x = pct(k * step) + '%';
      // A label near the axis' end ends at its tick rather than run into the next column.
      var label = el('span', pct(k * step) > 94 ? 'tick end' : 'tick', (k * step).toFixed(decimals) + (k === 0 ? ' ms' : ''));
      label.style.left = x;
      ticks.appendChild(label);
      var line = el('div', 'gridline');
      line.style.left = x;
      grid.appendChild(line);
    }
  }

  function add(dl, key, label, value) {
    var dd = el('dd', null, value);
    dd.setAttribute('data-k', key);
    dl.append(el('dt', null, label), dd);
  }

  function fill(t) {
    tip.replaceChildren(el('h2', null, t.name));
    var dl = el('dl');
    add(dl, 'status', 'status', t.status + (t.gate ? ' · gate' : '') + (t.critical ? ' · critical path' : ''));
    if (t.start !== null) {
      add(dl, 'start', 'start', ms(t.start) + ' ms');
      add(dl, 'end', 'end', ms(t.end) + ' ms');
      add(dl, 'ran', 'ran', ms(t.ran) + ' ms');
      add(dl, 'waited', 'waited', ms(t.waited) + ' ms');
    } else add(dl, 'start', 'start', 'never started');
    if (t.waits.length) {
      add(dl, 'waits', 'waits on', t.waits.slice(0, 10).map(function (w) {
        return w.on + ' (' + (KINDS[w.kind] || '?') + ', ' + ms(w.from) + '–' + ms(w.to) + ' ms)';
      }).join(', ') + (t.waits.length > 10 ? ', … ' + (t.waits.length - 10) + ' more' : ''));
    }
    if (t.error) {
      var e = [t.error.name];
      if (t.error.code !== undefined) e.push('code ' + t.error.code);
      if (t.error.status !== undefined) e.push('status ' + t.error.status);
      add(dl, 'error', 'error', e.join(' · '));
    }
    tip.appendChild(dl);
    if (t.notes.length) {
      var ul = el('ul');
      t.notes.forEach(function (n) {
        ul.appendChild(el('li', null, ms(n[0]) + ' ms  ' + n[1] + (n[2] > 1 ? ' (× ' + n[2] + ')' : '')));
      });
      if (t.more) ul.appendChild(el('li', null, '… ' + plural(t.more, 'more event', 'more events')));
      tip.appendChild(ul);
    }
  }

  var rowEls = [];
  var current = -1;
  function select(i, x, y) {
    if (i !== current) {
      var old = rowEls[current];
      if (old) old.classList.remove('hover');
      current = i;
      rowEls[i].classList.add('hover');
      fill(data.tasks[i]);
    }
    tip.hidden = false;
    position(x, y);
  }
  function position(x, y) {
    var w = tip.offsetWidth, h = tip.offsetHeight;
    var left = x + 14 + w > window.innerWidth ? Math.max(4, x - 14 - w) : x + 14;
    var top = y + 14 + h > window.innerHeight ? Math.max(4, y - 14 - h) : y + 14;
    tip.style.left = left + 'px';
    tip.style.top = top + 'px';
  }
  function hide() {
    var old = rowEls[current];
    if (old) old.classList.remove('hover');
    current = -1;
    tip.hidden = true;
  }
  function fromEvent(ev) {
    var r = ev.target && ev.target.closest ? ev.target.closest('.row') : null;
    return r ? Number(r.getAttribute('data-i')) : -1;
  }

  function move(by) {
    var i = current;
    do i += by; while (i >= 0 && i < rowEls.length && rowEls[i].hidden);
    if (i < 0 || i >= rowEls.length) return;
    var r = rowEls[i];
    r.scrollIntoView({ block: 'nearest' });
    var box = r.getBoundingClientRect();
    select(i, box.left + Math.min(box.width / 2, 320), box.bottom - 10);
  }

  function filter() {
    var q = document.getElementById('filter').value.trim().toLowerCase();
    var only = document.getElementById('only-critical').checked;
    data.tasks.forEach(function (t, i) {
      rowEls[i].hidden = (q !== '' && t.name.toLowerCase().indexOf(q) < 0) || (only && !t.critical);
    });
    hide();
  }

  summary();
  var fragment = document.createDocumentFragment();
  data.tasks.forEach(function (t, i) { rowEls.push(fragment.appendChild(row(t, i))); });
  rows.appendChild(fragment);
  if (!data.tasks.length) chart.appendChild(el('p', 'empty', 'This run has no tasks.'));
  drawAxis();
  rows.addEventListener('mouseover', function (ev) { var i = fromEvent(ev); if (i >= 0) select(i, ev.clientX, ev.clientY); });
  rows.addEventListener('mousemove', function (ev) { if (current >= 0) position(ev.clientX, ev.clientY); });
  rows.addEventListener('mouseleave', hide);
  chart.addEventListener('keydown', function (ev) {
    if (ev.key === 'ArrowDown' || ev.key === 'ArrowUp') { ev.preventDefault(); move(ev.key === 'ArrowDown' ? 1 : -1); }
    else if (ev.key === 'Escape') hide();
  });
  chart.addEventListener('blur', hide);
  document.getElementById('filter').addEventListener('input', filter);
  document.getElementById('only-critical').addEventListener('change', filter);
  var pending = false;
  window.addEventListener('resize', function () {
    if (pending) return;
    pending = true;
    requestAnimationFrame(function () { pending = false; drawAxis(); });
  });
  document.body.setAttribute('data-render-ms', String(Math.round(performance.now() - t0)));
})();
`
