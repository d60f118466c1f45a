/* global document, fetch, setTimeout, clearTimeout, AbortController */
// infergate's dashboard: polls api/state every second and redraws. Every value from the gateway (model,
// pod and pool names, messages) goes into the page as text nodes or attribute values, never as markup.
'use strict';

(function () {
  const POLL_MS = 1000;
  const DECISIONS = 6;
  const SVG = 'http://www.w3.org/2000/svg';
  let windowS = 300;

  /** Builds an element: attrs (class, title, data-*), children as nodes or strings (text). */
  function h(tag, attrs, ...children) {
    const el = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (v === undefined || v === null || v === false) continue;
      if (k === 'class') el.className = v;
      else el.setAttribute(k, String(v));
    }
    append(el, children);
    return el;
  }

  function append(el, children) {
    for (const c of children.flat()) {
      if (c === undefined || c === null || c === false) continue;
      el.append(typeof c === 'string' || typeof c === 'number' ? document.createTextNode(String(c)) : c);
    }
  }

  function s(tag, attrs) {
    const el = document.createElementNS(SVG, tag);
    for (const [k, v] of Object.entries(attrs || {})) el.setAttribute(k, String(v));
    return el;
  }

  function byId(id) {
    return document.getElementById(id);
  }

  function fmt(n, digits) {
    if (n === null || n === undefined) return '–';
    if (typeof digits === 'number') return n.toFixed(digits);
    return Math.abs(n) >= 100 ? String(Math.round(n)) : String(Math.round(n * 10) / 10);
  }

  function ago(ms) {
    if (ms === null || ms === undefined) return 'never';
    if (ms < 1000) return `${Math.round(ms)} ms`;
    if (ms < 120000) return `${(ms / 1000).toFixed(1)} s`;
    return `${Math.round(ms / 60000)} min`;
  }

  function table(headers, rows, opts) {
    const head = h('tr', {}, headers.map((c) => h('th', { class: c.num ? 'num' : undefined }, c.label || c)));
    const t = h('table', { 'data-testid': opts && opts.testid }, h('thead', {}, head), h('tbody', {}, rows));
    return t;
  }

  function empty(text) {
    return h('p', { class: 'muted' }, text);
  }

  // ---- charts: a few lines of SVG, drawn afresh each poll ----

  function niceMax(v) {
    if (!(v > 0)) return 1;
    const p = Math.pow(10, Math.floor(Math.log10(v)));
    for (const m of [1, 2, 2.5, 5, 10]) if (v <= m * p) return m * p;
    return 10 * p;
  }

  /** series: [{values, cls, area}]; t: point starts (s); stepS: seconds per point. */
  function chart(container, t, stepS, series, unit) {
    const W = 600;
    const H = 150;
    const L = 40;
    const R = 8;
    const T = 8;
    const B = 18;
    let max = 0;
    for (const sr of series) for (const v of sr.values) if (v !== null && v > max) max = v;
    max = niceMax(max);
    const n = Math.max(1, t.length);
    const x = (i) => L + ((W - L - R) * i) / Math.max(1, n - 1);
    const y = (v) => T + (H - T - B) * (1 - v / max);
    // Named by its figure's caption: an unnamed role=img is read out as just "image".
    const svg = s('svg', { viewBox: `0 0 ${W} ${H}`, preserveAspectRatio: 'none', role: 'img', 'aria-labelledby': container.dataset.caption });
    for (let g = 0; g <= 4; g++) {
      const v = (max * g) / 4;
      svg.append(s('line', { x1: L, x2: W - R, y1: y(v), y2: y(v), class: 'grid' }));
      const label = s('text', { x: L - 4, y: y(v) + 3, 'text-anchor': 'end', class: 'axis' });
      label.textContent = `${fmt(v)}${g === 4 && unit ? ` ${unit}` : ''}`;
      svg.append(label);
    }
    const spanS = n * stepS;
    for (let k = 0; k <= 4; k++) {
      const i = Math.round(((n - 1) * k) / 4);
      const label = s('text', { x: x(i), y: H - 4, 'text-anchor': k === 0 ? 'start' : k === 4 ? 'end' : 'middle', class: 'axis' });
      const back = Math.round(spanS * (1 - k / 4));
      label.textContent = k === 4 ? 'now' : back >= 60 ? `-${Math.floor(back / 60)}m${back % 60 ? `${back % 60}s` : ''}` : `-${back}s`;
      svg.append(label);
    }
    series.forEach((sr, idx) => {
      // A null value (no data) breaks the line.
      let d = '';
      let pen = false;
      sr.values.forEach((v, i) => {
        if (v === null) {
          pen = false;
          return;
        }
        d += `${pen ? 'L' : 'M'}${x(i).toFixed(1)},${y(v).toFixed(1)}`;
        pen = true;
      });
      if (sr.area && sr.values.length > 0) {
        const area = `M${x(0)},${y(0)}` + sr.values.map((v, i) => `L${x(i).toFixed(1)},${y(v || 0).toFixed(1)}`).join('') + `L${x(n - 1)},${y(0)}Z`;
        svg.append(s('path', { d: area, class: `area${idx} ${sr.cls || ''}` }));
      }
      if (d) svg.append(s('path', { d, class: `s${idx} ${sr.cls || ''}` }));
    });
    const legend = h('div', { class: 'legend' }, series.map((sr, idx) => (sr.label ? h('span', { class: `k${idx}` }, `■ ${sr.label}  `) : null)));
    container.replaceChildren(svg, legend);
  }

  // ---- sections ----

  function renderHeader(st) {
    byId('mode').textContent = st.mode;
    byId('version').textContent = st.version || '';
    const ready = byId('ready');
    ready.textContent = st.shuttingDown ? 'shutting down' : st.ready ? 'ready' : 'not ready';
    ready.className = `badge ${st.shuttingDown ? 'warn' : st.ready ? 'ok' : 'bad'}`;
    byId('config-version').textContent = st.configVersion === null ? 'no configuration yet' : `config v${st.configVersion}`;
    byId('updated').textContent = `updated ${new Date(st.generatedAt).toLocaleTimeString()}`;
  }

  function tile(key, value, testid) {
    return h('div', { class: 'tile' }, h('div', { class: 'v', 'data-testid': testid }, value), h('div', { class: 'k' }, key));
  }

  // The request thread saturates first: near 100% busy, requests wait for it (add replicas).
  function processTiles(p) {
    if (!p) return [];
    const over = p.overSeconds < 120 ? `last ${fmt(p.overSeconds, 0)} s` : 'since start';
    return [
      tile(`request thread busy (${over})`, `${fmt(p.threadBusy * 100, 0)}%`, 'thread-busy'),
      tile(`CPU, all threads (${over})`, `${fmt(p.cpuCores, 2)} cores`, 'cpu-cores'),
      tile('memory (resident)', `${fmt(p.rssBytes / 1048576, 0)} MiB`, 'rss'),
    ];
  }

  function renderTraffic(st) {
    const tr = st.traffic;
    const m = tr.lastMinute;
    byId('summary').replaceChildren(
      tile('requests/s (last minute)', fmt(m.requests / 60, 2), 'rate'),
      tile('requests (last minute)', String(m.requests), 'requests-minute'),
      tile('errors (last minute)', String(m.errors), 'errors-minute'),
      tile('TTFT p50 (last minute)', m.ttftP50Ms === null ? '–' : `${fmt(m.ttftP50Ms)} ms`, 'ttft-p50'),
      tile('TTFT p95 (last minute)', m.ttftP95Ms === null ? '–' : `${fmt(m.ttftP95Ms)} ms`, 'ttft-p95'),
      tile('requests since start', String(tr.total), 'total-requests'),
      ...processTiles(st.process),
    );
    const se = tr.series;
    const perS = (arr) => arr.map((v) => v / se.stepS);
    chart(byId('chart-requests'), se.t, se.stepS, [{ values: perS(se.requests), area: true, label: se.stepS > 1 ? `per s, ${se.stepS} s steps` : '' }], '/s');
    chart(byId('chart-errors'), se.t, se.stepS, [{ values: perS(se.errors), area: true, cls: 'err' }], '/s');
    chart(byId('chart-ttft'), se.t, se.stepS, [
      { values: se.ttftP50Ms, label: 'p50' },
      { values: se.ttftP95Ms, label: 'p95' },
    ], 'ms');
    byId('traffic-source').textContent = `Counted from ${tr.source}.`;

    const codes = tr.window.errorCodes;
    byId('errors').replaceChildren(
      codes.length === 0
        ? empty('No errors in the window.')
        : h('div', { class: 'card' }, table(['code', { label: 'count', num: true }], codes.map(([code, n]) => h('tr', {}, h('td', {}, h('code', {}, code)), h('td', { class: 'num' }, String(n)))))),
    );
    byId('recent').replaceChildren(
      tr.recent.length === 0
        ? empty('No request has finished yet.')
        : h(
            'div',
            { class: 'card' },
            table(
              ['time', 'model', 'pool', 'endpoint', 'status', { label: 'tries', num: true }, { label: 'TTFT ms', num: true }, { label: 'total ms', num: true }, { label: 'out tokens', num: true }],
              tr.recent.map((r) =>
                h(
                  'tr',
                  { 'data-testid': 'recent-request' },
                  h('td', { class: 'nowrap' }, new Date(r.at).toLocaleTimeString()),
                  h('td', { class: 'model' }, r.model || '–'),
                  h('td', { class: 'nowrap' }, r.pool || '–'),
                  h('td', { class: 'nowrap' }, r.endpoint || '–'),
                  h('td', {}, r.error ? h('span', { class: 'state ejected' }, `${r.status === null ? '' : `${r.status} `}${r.error}`) : String(r.status === null ? '–' : r.status), r.stream ? h('span', { class: 'via' }, ' stream') : null),
                  h('td', { class: 'num' }, String(r.attempts)),
                  h('td', { class: 'num' }, fmt(r.ttftMs)),
                  h('td', { class: 'num' }, fmt(r.durationMs)),
                  h('td', { class: 'num' }, r.outputTokens === null ? '–' : String(r.outputTokens)),
                ),
              ),
            ),
          ),
    );
  }

  function renderIssues(st) {
    const is = st.issues;
    const items = [];
    const cfg = is.readiness.config;
    if (cfg && cfg.held) {
      const held = cfg.held;
      items.push(
        h('li', {}, h('strong', {}, 'A configuration change is held back: '), held.reasons.join('; '), ` (since ${held.held_since}; applies at ${held.applies_at}). `, h('span', { class: 'reason' }, `To apply it: ${held.to_confirm}. To cancel it: ${held.to_cancel}.`)),
      );
    }
    if (cfg && cfg.rejected) items.push(h('li', {}, h('strong', {}, `Configuration change rejected at ${cfg.rejected.at}: `), h('pre', {}, cfg.rejected.message)));
    for (const r of is.rejectedObjects) items.push(h('li', {}, h('strong', {}, `${r.object} left out: `), r.problems.join('; ')));
    for (const p of is.eppConfigProblems) items.push(h('li', {}, h('strong', {}, `InferencePool ${p.pool}: `), p.problem));
    for (const w of is.warnings) items.push(h('li', {}, w));
    const ejected = is.readiness.ejected;
    if (Array.isArray(ejected)) {
      for (const e of ejected) items.push(h('li', {}, h('strong', {}, `Endpoint ${e.endpoint} (pod ${e.pod}) ejected by outlier detection: `), `${e.type}, ${e.reason}; back in ${ago(e.remaining_ms)}`));
    }
    const kube = is.readiness.kubernetes;
    if (kube && Array.isArray(kube.failing)) {
      for (const f of kube.failing) items.push(h('li', {}, h('strong', {}, `Kubernetes watch failing since ${f.since}, ${f.watch}: `), f.error, h('span', { class: 'reason' }, ` (${kube.effect})`)));
    }
    for (const [key, value] of Object.entries(is.readiness)) {
      if (key === 'config' || key === 'ejected' || key === 'kubernetes') continue;
      items.push(h('li', {}, h('strong', {}, `${key}: `), typeof value === 'string' ? value : JSON.stringify(value)));
    }
    byId('issues').replaceChildren(items.length === 0 ? h('p', { class: 'ok-text', 'data-testid': 'no-issues' }, 'None: every object in the configuration is in force.') : h('div', { class: 'card' }, h('ul', { class: 'issues', 'data-testid': 'issues' }, items)));
  }

  function stateClass(state) {
    return { serving: 'serving', 'not ready': 'notready', 'held out': 'held', ejected: 'ejected', unresponsive: 'unresponsive', unreachable: 'unresponsive', 'no models yet': 'nomodels' }[state] || '';
  }

  function kvBar(frac) {
    if (frac === null) return '–';
    const pct = Math.max(0, Math.min(100, frac * 100));
    const bar = h('span', { class: `bar${pct >= 80 ? ' hot' : ''}` }, h('span', {}));
    bar.firstChild.style.width = `${pct.toFixed(0)}%`;
    return [bar, `${pct.toFixed(0)}%`];
  }

  function modelsCell(ep) {
    if (ep.models.length === 0) return ep.modelsError ? h('span', { class: 'conflict' }, ep.modelsError) : '–';
    return ep.models.map((m) =>
      h(
        'div',
        { class: 'model' },
        m.id,
        m.adapter ? h('span', { class: 'via' }, ` → ${m.base}`) : null,
        h('span', { class: 'via' }, ` (${m.adapter ? 'adapter' : 'base'}; ${m.mappedBy})`),
        m.conflict ? h('div', { class: 'conflict' }, m.conflict) : null,
      ),
    );
  }

  // Why a pod's KV events are not trusted now (src/kvevents/pod-stream-contract.ts UntrustedReason).
  const UNTRUSTED = {
    connecting: 'not connected yet',
    disconnected: 'its event socket is disconnected',
    replaying: 'replaying the events it missed',
    resyncing: 'reconnected with no replay socket: waiting for a live message to show nothing was lost',
    flood: 'sending past the flood limit: its events are dropped',
    silent: 'requests that stored blocks on it brought no event: its publisher has gone quiet',
    recovering: 'recovering from a fault (trusted again after a quiet period)',
  };

  /** A pod's KV-event stream: how it is scored and why, the last message, its index entries and faults. */
  function kvEventsCell(kv) {
    if (!kv) return h('span', { class: 'via' }, 'no feed yet');
    const faults = [];
    const n = (p) => kv.problems[p] || 0;
    if (n('gap') > 0) faults.push(`${n('gap')} gap(s)`);
    if (n('sequence-reset') > 0) faults.push(`${n('sequence-reset')} publisher restart(s)`);
    const other = Object.entries(kv.problems).filter(([p]) => p !== 'gap' && p !== 'sequence-reset').map(([p, c]) => `${p} ${c}`);
    faults.push(...other);
    if (kv.replays.completed + kv.replays.failed > 0 || kv.replays.active) faults.push(`replays ${kv.replays.completed} done, ${kv.replays.failed} failed${kv.replays.active ? ', one running' : ''}`);
    return [
      kv.untrusted === null
        ? h('span', { class: 'state serving' }, 'precise')
        : h('span', { class: 'state held' }, `approximate: ${kv.untrusted}`),
      kv.untrusted === null ? null : h('div', { class: 'reason' }, UNTRUSTED[kv.untrusted] || kv.untrusted),
      h('div', { class: 'via nowrap' }, `${kv.lastMessageAgeMs === null ? 'no message yet' : `last message ${ago(kv.lastMessageAgeMs)} ago`} · ${kv.indexEntries} blocks`),
      faults.length > 0 ? h('div', { class: 'reason' }, faults.join(' · ')) : null,
    ];
  }

  function lorasCell(l) {
    if (!l) return '–';
    const parts = [];
    if (l.running.length > 0) parts.push(`running: ${l.running.join(', ')}`);
    if (l.waiting.length > 0) parts.push(`waiting: ${l.waiting.join(', ')}`);
    return `${parts.length > 0 ? parts.join('; ') : 'none'}${l.max > 0 ? ` (max ${l.max})` : ''}`;
  }

  function renderPools(st) {
    if (st.pools.length === 0) {
      byId('pools').replaceChildren(empty(st.configVersion === null ? 'No configuration is in force yet.' : 'The configuration has no InferencePool.'));
      return;
    }
    const cards = st.pools.map((p) => {
      const rows = p.endpoints.map((ep) =>
        h(
          'tr',
          { 'data-testid': 'endpoint', 'data-pod': ep.pod },
          h('td', {}, h('div', {}, ep.pod), h('div', { class: 'via' }, ep.address || 'no address')),
          h('td', {}, h('span', { class: `state ${stateClass(ep.state)}` }, ep.state), ep.reason ? h('div', { class: 'reason' }, ep.reason) : null, ep.lastEjection && ep.state !== 'ejected' ? h('div', { class: 'reason' }, `last ejected ${ep.lastEjection.at}: ${ep.lastEjection.detail}`) : null),
          h('td', {}, ep.ready ? 'yes' : 'no'),
          h('td', { class: 'num' }, String(ep.inFlight)),
          h('td', { class: 'num' }, ep.waiting === null ? '–' : String(ep.waiting)),
          h('td', { class: 'num' }, ep.running === null ? '–' : String(ep.running)),
          h('td', {}, kvBar(ep.kvCache)),
          h('td', {}, lorasCell(ep.loras)),
          h('td', {}, ep.address === null ? '–' : ago(ep.scrapeAgeMs), ep.stale && ep.address !== null ? h('span', { class: 'conflict' }, ' stale') : null, ep.scrapeError ? h('div', { class: 'reason' }, ep.scrapeError) : null),
          h('td', {}, modelsCell(ep)),
          p.kvEvents ? h('td', { 'data-testid': 'kv-events' }, kvEventsCell(ep.kvEvents)) : null,
        ),
      );
      return h(
        'div',
        { class: 'card', 'data-testid': 'pool', 'data-pool': p.name },
        h('h3', {}, `InferencePool ${p.name}`),
        h(
          'p',
          { class: 'muted small' },
          `selector ${Object.entries(p.selector).map(([k, v]) => `${k}=${v}`).join(', ')} · port ${p.targetPorts.join(', ')} · EndpointPickerConfig ${p.endpointPickerConfig || '–'}`,
        ),
        poolSummary(p.endpoints),
        pickerLine(p.picker),
        p.kvEvents ? h('p', { class: 'muted small', 'data-testid': 'kv-index' }, `precise prefix index: ${p.kvEvents.indexKeys} of ${p.kvEvents.indexCapacity} keys · KV events ingested ${p.kvEvents.ingestion === 'worker' ? 'in a worker thread' : 'on the request thread'}`) : null,
        p.configProblem ? h('p', { class: 'conflict' }, p.configProblem) : null,
        flowControlBlock((st.flowControl || []).find((f) => f.pool === p.name)),
        rows.length === 0
          ? empty('The pool selects no pods.')
          : table(['pod', 'state', 'ready', { label: 'in flight', num: true }, { label: 'queue', num: true }, { label: 'running', num: true }, 'KV cache', 'LoRA adapters loaded', 'last scrape', 'serves', p.kvEvents ? 'KV events' : null].filter(Boolean), rows),
      );
    });
    byId('pools').replaceChildren(...cards);
  }

  /** How many endpoints are in each state: in a pool of hundreds, the few not serving are otherwise rows to hunt for. */
  function poolSummary(endpoints) {
    if (endpoints.length === 0) return null;
    const counts = new Map();
    for (const ep of endpoints) counts.set(ep.state, (counts.get(ep.state) || 0) + 1);
    const parts = [...counts].sort((a, b) => (a[0] === 'serving' ? -1 : b[0] === 'serving' ? 1 : b[1] - a[1])).map(([state, n]) => h('span', { class: `state ${stateClass(state)}` }, `${n} ${state}`));
    return h('p', { class: 'small', 'data-testid': 'pool-summary' }, `${endpoints.length} endpoint${endpoints.length === 1 ? '' : 's'}: `, parts.flatMap((el, i) => (i === 0 ? [el] : [' · ', el])));
  }

  /** A pool's flow-control queues (featureGates: [flowControl]): its reading, then one row per waiting flow. */
  /** Who picks the pool's endpoints: infergate, an external picker (its Service, address, failureMode), or nobody. */
function pickerLine(picker) {
  if (!picker || picker.by === 'infergate') return h('p', { class: 'muted small', 'data-testid': 'picker' }, 'picked by infergate');
  if (picker.by === 'external') return h('p', { class: 'small', 'data-testid': 'picker' }, `picked by an external endpoint picker: ${picker.detail}`);
  return h('p', { class: 'conflict', 'data-testid': 'picker' }, `no endpoint picker: ${picker.detail}`);
}

function flowControlBlock(fc) {
    if (!fc) return null;
    const sat = fc.saturation;
    const line = `flow control: ${fc.queued} waiting · ${fc.inFlight} in flight · ${fc.detector.type} saturation ${fmt(sat.level, 2)}${sat.dispatching ? '' : ' (holding)'}${sat.staleEndpoints > 0 ? ` · ${sat.staleEndpoints} stale endpoint(s)` : ''}`;
    const rows = fc.bands.flatMap((b) =>
      b.flows.map((f) => h('tr', { 'data-testid': 'flow' }, h('td', { class: 'num' }, String(b.priority)), h('td', {}, f.fairnessId), h('td', { class: 'num' }, String(f.queued)), h('td', {}, ago(f.oldestWaitMs)), h('td', { class: 'muted small' }, `${b.fairnessPolicy} / ${b.orderingPolicy}`))),
    );
    return h('div', { 'data-testid': 'flow-control' }, h('p', { class: 'muted small' }, line), rows.length > 0 ? table([{ label: 'priority', num: true }, 'fairness id', { label: 'waiting', num: true }, 'oldest waited', 'policies'], rows) : null);
  }

  function renderModels(st) {
    if (st.models.length === 0) {
      byId('models').replaceChildren(empty('No model is known yet: no allowlist ConfigMap, and no pod has answered GET /v1/models.'));
      return;
    }
    const rows = st.models.map((m) => h('tr', {}, h('td', { class: 'model' }, m.model), h('td', {}, m.adapter ? `adapter of ${m.base}` : 'base model'), h('td', {}, m.source), h('td', {}, m.pods.length > 0 ? m.pods.join(', ') : h('span', { class: 'conflict' }, 'no pod lists it'))));
    byId('models').replaceChildren(
      h('div', { class: 'card' }, table(['model', 'kind', 'mapping from', 'pods listing it in GET /v1/models'], rows, { testid: 'models' }), st.strictAllowlist ? h('p', { class: 'muted small' }, '--strict-allowlist: only models in allowlist ConfigMaps are served.') : null),
    );
  }

  function profileTable(p, picked) {
    // The best score of each scorer is bold, unless every endpoint has it (then it decided nothing).
    const best = p.scorers.map((sc) => (Math.min(...sc.scores) === Math.max(...sc.scores) ? NaN : Math.max(...sc.scores)));
    const rows = p.scored.map((addr, i) =>
      h(
        'tr',
        { class: addr === picked ? 'picked' : undefined },
        h('td', {}, addr, addr === picked ? h('span', { class: 'via' }, ' picked') : null),
        p.scorers.map((sc, j) => h('td', { class: `num${sc.scores[i] === best[j] ? ' best' : ''}` }, fmt(sc.scores[i], 3))),
        h('td', { class: 'num' }, fmt(p.totals[i], 3)),
      ),
    );
    const headers = ['endpoint', ...p.scorers.map((sc) => ({ label: `${sc.name} ×${sc.weight}`, num: true })), { label: 'total', num: true }];
    const removed = p.filters.filter((f) => f.removed.length > 0).map((f) => `${f.name} removed ${f.removed.join(', ')}`);
    return h(
      'div',
      {},
      h('div', { class: 'muted small' }, `profile ${p.profile}: ${p.candidates.length} candidate(s)${removed.length > 0 ? `; ${removed.join('; ')}` : ''}${p.emptiedBy ? `; emptied by ${p.emptiedBy}` : ''}`),
      p.scored.length > 0 ? table(headers, rows) : null,
    );
  }

  function renderDecisions(st) {
    const d = st.decisions;
    if (!d.enabled) {
      byId('decisions').replaceChildren(h('p', { class: 'muted', 'data-testid': 'decisions-off' }, 'Scheduling decisions are not kept. To see them here, ', d.howToEnable, '.'));
      return;
    }
    if (d.latest.length === 0) {
      byId('decisions').replaceChildren(empty(`No decision yet (keeping the last ${d.capacity}; request ids ${d.requestIds}).`));
      return;
    }
    byId('decisions').replaceChildren(
      ...d.latest.map((x) =>
        h(
          'div',
          { class: 'card', 'data-testid': 'decision' },
          h('h3', {}, `${new Date(x.time).toLocaleTimeString()} · ${x.model === null ? '(no model)' : x.model} → ${x.picked || 'none'}`),
          h('div', { class: 'muted small' }, `pool ${x.pool} · priority ${x.priority} · request ${x.requestId}`),
          x.error ? h('p', { class: 'conflict' }, x.error) : null,
          x.excluded && Object.keys(x.excluded).length > 0 ? h('div', { class: 'reason' }, `left out: ${Object.entries(x.excluded).map(([a, why]) => `${a} (${why})`).join('; ')}`) : null,
          // Each profile's own pick: P/D's prefill and encode profiles pick other pods than the decode pod the request went to.
          x.profiles.map((p) => profileTable(p, p.picked)),
        ),
      ),
    );
  }

  function render(st) {
    renderHeader(st);
    renderTraffic(st);
    renderIssues(st);
    renderPools(st);
    renderModels(st);
    renderDecisions(st);
  }

  function banner(text) {
    const b = byId('banner');
    b.textContent = text || '';
    b.hidden = !text;
  }

  /** A poll is running or scheduled: a tab shown again starts one only when none is. */
  let polling = false;

  async function poll() {
    polling = true;
    const ctl = new AbortController();
    const abort = setTimeout(() => ctl.abort(), 5000);
    try {
      const res = await fetch(`api/state?window=${windowS}&decisions=${DECISIONS}`, { cache: 'no-store', signal: ctl.signal });
      if (!res.ok) throw new Error(`GET api/state answered ${res.status}`);
      render(await res.json());
      banner('');
    } catch (e) {
      // No console output: a gateway restarting is expected; say so on the page and keep trying.
      banner(`Cannot reach the gateway's admin listener (${e && e.message ? e.message : e}); retrying every second.`);
      // The rest of the page is the last answer (its time in the header); the badge must not claim it is ready now.
      const ready = byId('ready');
      ready.textContent = 'unreachable';
      ready.className = 'badge bad';
    } finally {
      clearTimeout(abort);
      // A tab nobody looks at stops asking (each answer walks the gateway's whole state); shown again, it asks at once.
      if (document.hidden) polling = false;
      else setTimeout(poll, POLL_MS);
    }
  }

  function start() {
    const sel = byId('window');
    // The next poll (within a second) asks for the new window; polls never overlap.
    sel.addEventListener('change', () => {
      windowS = Number(sel.value) || 300;
    });
    windowS = Number(sel.value) || 300;
    document.addEventListener('visibilitychange', () => {
      if (!document.hidden && !polling) poll();
    });
    poll();
  }

  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', start);
  else start();
})();
