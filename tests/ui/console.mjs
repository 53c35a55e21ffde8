// console.mjs MODS CONFIG: the web console in a real browser (headless
// Chromium, the Debian package, driven by puppeteer-core from MODS).
// CONFIG is a JSON file written by test_console.sh:
//   {url, chromium, blade, rack, work, screenshots (a directory or null),
//    personas: [{label, token, name, kind}] (empty: no personas configured)}
// Checks, in order: sign-in; the fleet overview equals GET /fleet; findings
// and their filters equal GET /findings, evidence links open entries whose
// receipts verify; a device's journey, rack tree and firmware with every
// receipt verified in the browser; one receipt corrupted on its way to the
// browser (request interception) shows NOT verified, and only that one; a
// second persona sees only its scope and a 403 note for the rest; the
// public sees notes, no data. Prints "ok ..." per check and exits 1 on any
// failure.
import { createRequire } from 'node:module';
import { readFileSync, mkdirSync } from 'node:fs';
import path from 'node:path';

const [mods, cfgPath] = process.argv.slice(2);
const cfg = JSON.parse(readFileSync(cfgPath, 'utf8'));
const require = createRequire(path.join(mods, 'node_modules', 'x.js'));
const puppeteer = require('puppeteer-core');

let failures = 0;
const ok = (what) => console.log(`ok ${what}`);
const fail = (what) => {
  failures++;
  console.log(`FAIL ${what}`);
};
const check = (cond, what) => (cond ? ok(what) : fail(what));

async function api(p, token) {
  const headers = token ? { Authorization: `Bearer ${token}` } : {};
  const r = await fetch(cfg.url + p, { headers });
  if (!r.ok) throw new Error(`GET ${p}: ${r.status}`);
  return r.json();
}

const [A, B] = cfg.personas.length ? cfg.personas : [{ label: 'dev (no personas)', token: '' }, null];
const shots = cfg.screenshots;
if (shots) mkdirSync(shots, { recursive: true });

const browser = await puppeteer.launch({
  executablePath: cfg.chromium,
  headless: true,
  userDataDir: path.join(cfg.work, 'chromium-profile'),
  args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--no-first-run',
    '--no-default-browser-check', '--disable-extensions', '--disable-background-networking',
    '--disable-component-update', '--disable-sync', '--metrics-recording-only', '--mute-audio'],
  defaultViewport: { width: 1280, height: 900 },
  protocolTimeout: 30000,
});
const page = await browser.newPage();
const pageErrors = [];
page.on('pageerror', (e) => pageErrors.push(String(e)));
page.on('console', (m) => {
  // refusals (401, 403) are what some checks expect; a 404 of GET /whoami
  // is a service that does not name personas
  const from = (m.location() && m.location().url) || '';
  if (m.type() === 'error' && !/status of 40[13]/.test(m.text()) && !from.endsWith('/whoami'))
    pageErrors.push(`console: ${m.text()} (${from})`);
});
page.setDefaultTimeout(20000);

const go = async (hash) => {
  await page.evaluate((h) => {
    location.hash = h;
  }, hash);
};
const text = (sel) => page.$eval(sel, (e) => e.textContent.trim());
const count = (sel) => page.$$eval(sel, (l) => l.length);
const shot = async (name, fullPage = false) => {
  if (!shots) return;
  await page.screenshot({ path: path.join(shots, name), fullPage });
  ok(`screenshot ${name}`);
};
// sections still loading
const settled = () => page.waitForFunction(() => !document.querySelector('[aria-busy="true"]'));

async function signIn(p) {
  await go('#/signin');
  await page.waitForSelector('#token');
  if (p.token) {
    await page.$eval('#token', (e) => {
      e.value = '';
    });
    await page.type('#token', p.token);
    await page.click('#signin-button');
  } else {
    await page.click('#public-button');
  }
  await page.waitForFunction(() => location.hash === '#/fleet' && document.querySelector('#persona'));
  await settled();
}

async function signOut() {
  await page.click('#who button.link');
  await page.waitForSelector('#token');
}

async function deviceReceipts() {
  await page.waitForSelector('#receipt-summary[data-done="1"]', { timeout: 30000 });
  return page.$$eval('.receipt', (l) => l.map((e) => ({ id: e.dataset.entry, state: e.dataset.state, text: e.textContent })));
}

try {
  // ---- sign-in page ----
  await page.goto(`${cfg.url}/ui/`, { waitUntil: 'domcontentloaded' });
  await page.waitForSelector('#token');
  check((await page.evaluate(() => location.hash)) === '#/signin', 'a new session lands on the sign-in page');

  if (cfg.personas.length) {
    // a token the service does not know: 401, said plainly, no session
    await page.type('#token', 'not-a-token-of-this-service');
    await page.click('#signin-button');
    await page.waitForFunction(() => /401/.test(document.querySelector('#signin-status').textContent));
    check((await page.evaluate(() => location.hash)) === '#/signin', 'an unknown token is refused (401) and stays on the sign-in page');
  }

  // ---- persona A: the fleet overview ----
  await signIn(A);
  const fleetA = await api('/fleet', A.token);
  const who = await text('#persona');
  const namesPersonas = A.token && (await fetch(`${cfg.url}/whoami`, { headers: { Authorization: `Bearer ${A.token}` } })).ok;
  check(!namesPersonas || who.includes(A.name), `signed in as ${A.label} (header: "${who}")`);
  check(await text('#n-devices') === String(fleetA.devices), `fleet: ${fleetA.devices} devices, as GET /fleet says`);
  check(await text('#n-open') === String(fleetA.open_findings), `fleet: ${fleetA.open_findings} open findings`);
  for (const t of ['evict', 'investigate', 'remediate']) {
    const shown = await page.$eval(`a.tag-card[data-tag="${t}"] .big`, (e) => e.textContent);
    check(shown === String(fleetA.open_findings_by_tag[t] || 0), `fleet: open findings tagged ${t}: ${shown}`);
  }
  const states = await page.$$eval('.by-state tr[data-key]', (l) => l.map((e) => e.dataset.key));
  check(states.join() === Object.keys(fleetA.by_state).join(), `fleet: devices by state (${states.join(', ')})`);
  check(await count('svg.chart path.area') === 3, 'fleet: the chart of findings over time is drawn (3 stacked tags)');
  await shot('console-fleet.png', true);

  // ---- findings and their filters ----
  const openA = await api('/findings?status=open', A.token);
  await go('#/findings?status=open');
  await page.waitForSelector('#findings-count');
  check(await count('tr.finding') === openA.length, `findings: ${openA.length} open, as GET /findings?status=open`);
  const evLinks = await page.$$eval('ul.evidence a', (l) => l.map((a) => a.getAttribute('href')));
  check(evLinks.length > 0 && evLinks.every((h) => /^#\/entry\/[0-9a-f]{64}$/.test(h)),
    `findings: ${evLinks.length} evidence links, each to an entry`);
  await shot('console-findings.png');
  await page.select('#f-tag', 'evict');
  await page.click('#findings-filters button[type="submit"]');
  await page.waitForFunction(() => location.hash.includes('tag=evict'));
  await page.waitForSelector('#findings-count');
  const evict = await api('/findings?status=open&tag=evict', A.token);
  const tags = await page.$$eval('tr.finding', (l) => l.map((e) => e.dataset.tag));
  check(tags.length === evict.length && tags.every((t) => t === 'evict'), `findings: filter tag=evict shows the ${evict.length} evict findings`);

  // an evidence link opens the entry: its statement and a verified receipt
  await page.click('ul.evidence a');
  await page.waitForSelector('#payload');
  await page.waitForSelector('#receipt-status .receipt:not([data-state="checking"])');
  check(await page.$eval('#receipt-status .receipt', (e) => e.dataset.state) === 'verified', 'entry: an evidence entry\'s receipt verifies in the browser');
  check((await text('#payload')).includes('"kind"'), 'entry: the statement\'s JSON payload is shown');

  // ---- a device: journey, rack tree, firmware; every receipt verified ----
  const journey = await api(`/devices/${cfg.blade}`, A.token);
  await go(`#/device/${cfg.blade}`);
  let receipts = await deviceReceipts();
  const events = await count('#journey li.event');
  check(events === journey.entries.length, `device: the timeline has the ${journey.entries.length} journey entries`);
  const milestones = await page.$$eval('#journey .milestone', (l) => [...new Set(l.map((e) => e.textContent))]);
  check(['manufactured', 'assembled', 'shipped', 'received', 'attested'].every((m) => milestones.includes(m)),
    `device: milestones ${milestones.join(', ')}`);
  check(await count('#tree .here-label') === 1, 'device: its place in the rack tree is marked');
  check(await count('#firmware tr.fw') > 0, `device: ${await count('#firmware tr.fw')} firmware image(s) with reviews`);
  const bad = receipts.filter((r) => r.state !== 'verified');
  check(receipts.length > journey.entries.length && bad.length === 0,
    `device: all ${receipts.length} receipts verified in the browser${bad.length ? ` (not: ${JSON.stringify(bad.slice(0, 3))})` : ''}`);
  await settled();
  await shot('console-device.png');

  // ---- one receipt corrupted on its way to the browser ----
  const victim = journey.entries[0].entry_id;
  let corrupted = 0;
  await page.setRequestInterception(true);
  const onRequest = async (req) => {
    const u = new URL(req.url());
    if (u.pathname !== `/entries/${victim}`) {
      req.continue();
      return;
    }
    try {
      const r = await fetch(req.url(), { headers: req.headers() });
      const body = Buffer.from(await r.arrayBuffer());
      body[body.length - 1] ^= 0x01; // a bit of the signature
      corrupted++;
      req.respond({ status: r.status, contentType: r.headers.get('content-type'), body });
    } catch (e) {
      req.abort();
    }
  };
  page.on('request', onRequest);
  await page.reload({ waitUntil: 'domcontentloaded' });
  receipts = await deviceReceipts();
  const failed = receipts.filter((r) => r.state === 'failed');
  check(corrupted >= 1, `corruption: the receipt of entry ${victim.slice(0, 12)} had a byte flipped (${corrupted} time(s))`);
  check(failed.length >= 1 && failed.every((r) => r.id === victim),
    `corruption: that entry shows NOT verified: "${failed.length ? failed[0].text : ''}"`);
  check(receipts.filter((r) => r.id !== victim).every((r) => r.state === 'verified'), 'corruption: every other receipt still verifies');
  check((await page.$eval('#receipt-summary', (e) => e.dataset.failed)) === String(failed.length), 'corruption: the summary counts it');
  await settled();
  await shot('console-device-tampered.png');
  await go(`#/entry/${victim}`);
  await page.waitForSelector('#receipt-status .receipt:not([data-state="checking"])');
  check((await text('#receipt-status .receipt')).includes('NOT verified'), 'corruption: the entry page says NOT verified');
  page.off('request', onRequest);
  await page.setRequestInterception(false);

  // ---- persona B: only its scope ----
  if (B) {
    await go('#/fleet');
    await signOut();
    await signIn(B);
    const fleetB = await api('/fleet', B.token);
    check(await text('#n-devices') === String(fleetB.devices) && fleetB.devices < fleetA.devices,
      `${B.label}: fleet shows ${fleetB.devices} devices (of ${fleetA.devices}), as GET /fleet says for it`);
    const openB = await api('/findings?status=open', B.token);
    await go('#/findings?status=open');
    await page.waitForSelector('#findings-count');
    check(await count('tr.finding') === openB.length && openB.length < openA.length,
      `${B.label}: ${openB.length} open findings (of ${openA.length})`);
    // a device outside its scope: a 403 note, nothing of the device
    await go(`#/device/${cfg.rack}`);
    await page.waitForSelector('section.device-summary[data-forbidden]');
    check(await page.$eval('section.device-summary', (e) => e.dataset.forbidden) === '403' && await count('#journey') === 0,
      `${B.label}: the rack (outside its scope) is not shown, a 403 note instead`);
    // a device of its own: shown, its receipts verified
    const tree = await api(`/devices/${cfg.blade}/tree`, A.token);
    const mine = [];
    for (const s of tree.slots) {
      const r = await fetch(`${cfg.url}/devices/${s.expected}`, { headers: { Authorization: `Bearer ${B.token}` } });
      if (r.ok) mine.push(s.expected);
    }
    check(mine.length > 0, `${B.label}: ${mine.length} part(s) of the blade are in its scope`);
    if (mine.length) {
      await go(`#/device/${mine[0]}`);
      receipts = await deviceReceipts();
      const v = receipts.filter((r) => r.state === 'verified').length;
      check(v > 0 && receipts.every((r) => r.state !== 'failed'),
        `${B.label}: its device's receipts verify (${v} verified, ${receipts.length - v} not readable by it)`);
    }
    // the public: notes, no data
    await go('#/fleet');
    await signOut();
    await signIn({ token: '' });
    check(await count('#n-devices') === 0 && await count('section[data-forbidden]') > 0,
      'public: the fleet overview is not shown, a note says why');
  }
  check(pageErrors.length === 0, `no script errors in the page${pageErrors.length ? `: ${pageErrors.join(' | ')}` : ''}`);
} catch (e) {
  fail(`unexpected: ${e.stack || e}`);
  try {
    await page.screenshot({ path: path.join(cfg.work, 'failure.png') });
    console.log(`(screenshot of the page: ${path.join(cfg.work, 'failure.png')})`);
  } catch {
    /* nothing more to show */
  }
} finally {
  await browser.close();
}
console.log(failures ? `${failures} failure(s)` : 'all browser checks passed');
process.exit(failures ? 1 : 0);
