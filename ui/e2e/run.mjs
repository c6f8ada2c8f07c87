// End-to-end test of the desktop app in a real webview: tauri-driver + WebKitWebDriver drive
// the built app (scripts/e2e starts Xvfb and the drivers). The path a user takes: add the
// sample PDFs, see them indexed, ask a question with the tiny model, see the streamed answer
// with a citation, click it and see the viewer at the cited page with the passage highlighted.
// At the end the library is moved to another folder from the settings, and a new start of
// the app opens it there. Screenshots of each step go to $FOLIO_E2E_ARTIFACTS.
//
// WebDriver is plain JSON over HTTP (W3C), so this speaks it with fetch: no client library.
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";

const DRIVER = process.env.FOLIO_WEBDRIVER_URL ?? "http://127.0.0.1:4444";
const APP = process.env.FOLIO_DESKTOP_BIN;
const SAMPLES = resolve(process.env.FOLIO_SAMPLES ?? "../assets/samples");
const ARTIFACTS = process.env.FOLIO_E2E_ARTIFACTS ?? "e2e-artifacts";
const QUESTION = "What is the daily meal allowance within the European Union?";
const CITED_FILE = "northwind-travel-policy.pdf";
const ELEMENT = "element-6066-11e4-a52e-4f735466cecf";
const LOCATION_RECORD = process.env.FOLIO_E2E_LOCATION_RECORD;
const MOVED_LIBRARY = process.env.FOLIO_E2E_MOVED_LIBRARY;

if (!APP) throw new Error("set FOLIO_DESKTOP_BIN to the built folio-desktop binary");
mkdirSync(ARTIFACTS, { recursive: true });

async function call(method, path, body) {
  if (process.env.FOLIO_E2E_TRACE) console.log(`-> ${method} ${path}`);
  const response = await fetch(`${DRIVER}${path}`, {
    method,
    headers: { "content-type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
    // A driver that stops answering must fail the test, not hang it.
    signal: AbortSignal.timeout(120_000),
  });
  const json = await response.json();
  if (!response.ok) throw new Error(`${method} ${path}: ${JSON.stringify(json.value ?? json).slice(0, 500)}`);
  return json.value;
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** Polls `probe` until it returns a truthy value or `seconds` pass. */
async function waitFor(what, seconds, probe) {
  const deadline = Date.now() + seconds * 1000;
  let last;
  while (Date.now() < deadline) {
    try {
      const value = await probe();
      if (value) return value;
    } catch (e) {
      last = e;
    }
    await sleep(250);
  }
  throw new Error(`timed out after ${seconds} s waiting for ${what}${last ? ` (${last.message})` : ""}`);
}

let session;
const s = (path) => `/session/${session}${path}`;
const find = async (css) => (await call("POST", s("/element"), { using: "css selector", value: css }))[ELEMENT];
const findAll = async (css) =>
  (await call("POST", s("/elements"), { using: "css selector", value: css })).map((e) => e[ELEMENT]);
const click = async (css) => call("POST", s(`/element/${await find(css)}/click`), {});
const type = async (css, text) => call("POST", s(`/element/${await find(css)}/value`), { text });
const text = async (css) => call("GET", s(`/element/${await find(css)}/text`));
const attribute = async (css, name) => call("GET", s(`/element/${await find(css)}/attribute/${name}`));
const script = (source, args = []) => call("POST", s("/execute/sync"), { script: source, args });
const asyncScript = (source, args = []) => call("POST", s("/execute/async"), { script: source, args });

let step = 0;
async function screenshot(name) {
  const png = await call("GET", s("/screenshot"));
  const file = join(ARTIFACTS, `${String(++step).padStart(2, "0")}-${name}.png`);
  writeFileSync(file, Buffer.from(png, "base64"));
  console.log(`  screenshot ${file}`);
}

function check(condition, message) {
  if (!condition) throw new Error(message);
  console.log(`  ok: ${message}`);
}

const startApp = async () =>
  (
    await call("POST", "/session", {
      capabilities: { alwaysMatch: { "tauri:options": { application: APP } } },
    })
  ).sessionId;

async function main() {
  session = await startApp();
  try {
    await waitFor("the window", 60, () => find("#nav-library"));
    await screenshot("start");

    console.log("import the sample PDFs");
    await click("#nav-library");
    await type("#add-path", SAMPLES);
    await click("#add-path-button");
    await waitFor("ingest progress", 60, () => findAll(".progress").then((e) => e.length > 0));
    await screenshot("library-progress");
    const rows = await waitFor("every sample indexed with vectors", 300, async () => {
      const states = await script(
        "return [...document.querySelectorAll('tr[data-state]')].map(r => r.dataset.state)",
      );
      return states.length >= 4 && states.every((st) => st === "indexed") ? states : null;
    });
    check(rows.length >= 4, `${rows.length} documents indexed`);
    await screenshot("library-indexed");

    console.log("ask a question");
    await click("#nav-chat");
    await type("#question", QUESTION);
    await click("#ask");
    const streamed = await waitFor("the first streamed tokens", 180, async () => {
      const t = await script(
        "const m = document.querySelector('.message.assistant[aria-busy=\"true\"] .answer-text'); return m ? m.textContent : null",
      );
      return t && t.replace("▍", "").trim().length > 0 ? t : null;
    }).catch(() => null);
    if (streamed) {
      console.log(`  streaming: ${JSON.stringify(streamed.slice(0, 60))}`);
      await screenshot("answer-streaming");
    }
    await waitFor("the answer to finish", 300, () => findAll("#ask").then((e) => e.length > 0));
    const answer = await text(".message.assistant");
    console.log(`  answer: ${JSON.stringify(answer.slice(0, 200))}`);
    check(streamed !== null, "the answer streamed token by token (seen while generating)");
    const chips = await findAll(".message.assistant .chip:not(.invalid)");
    check(chips.length > 0, `${chips.length} citation chip(s) in the answer`);
    await screenshot("answer");

    console.log("open the citation");
    const page = Number(await attribute(".message.assistant .chip:not(.invalid)", "data-page"));
    const label = await attribute(".message.assistant .chip:not(.invalid)", "aria-label");
    await click(".message.assistant .chip:not(.invalid)");
    const shown = await waitFor("the viewer at the cited page with a highlight", 60, async () => {
      const v = await script(
        "const v = document.querySelector('.viewer'); return v ? [Number(v.dataset.page), Number(v.dataset.highlights)] : null",
      );
      return v && v[0] === page && v[1] > 0 ? v : null;
    });
    check(shown[0] === page, `viewer shows page ${page} (${label})`);
    check(shown[1] > 0, `${shown[1]} text pieces of the cited passage highlighted`);
    await screenshot("viewer");
    const sources = await script(
      "return [...document.querySelectorAll('.citation-list .source-head')].map(e => e.textContent)",
    );
    check(sources.some((h) => h.includes(CITED_FILE)), `sources panel lists ${CITED_FILE}`);

    console.log("a watched folder: a renamed file is picked up");
    await click("#nav-library");
    renameSync(join(SAMPLES, "sourdough-baking-guide.pdf"), join(SAMPLES, "bread-guide.pdf"));
    const files = await waitFor("the rename to reach the library", 60, async () => {
      const f = await script("return [...document.querySelectorAll('tr[data-file]')].map(r => r.dataset.file)");
      const renamed = f.some((x) => x.endsWith("/bread-guide.pdf"));
      const old = f.some((x) => x.endsWith("/sourdough-baking-guide.pdf"));
      return renamed && !old ? f : null;
    });
    check(files.length === rows.length, `rename followed: ${files.length} documents, bread-guide.pdf in, the old name out`);
    await screenshot("library-after-rename");

    console.log("remove a document");
    await click('button[aria-label="Remove bread guide"]');
    const left = await waitFor("the removed document to leave the list", 30, async () => {
      const f = await script("return [...document.querySelectorAll('tr[data-file]')].map(r => r.dataset.file)");
      return f.length === rows.length - 1 && !f.some((x) => x.endsWith("/bread-guide.pdf")) ? f : null;
    });
    check(left.length === rows.length - 1, `${left.length} documents after removing one`);

    console.log("settings: installed models with the hardware-fit verdict");
    await click("#nav-settings");
    const models = await waitFor("the models table", 30, async () => {
      const r = await script(
        "return [...document.querySelectorAll('table[aria-label=\"Installed models\"] tbody tr')].map(t => t.textContent)",
      );
      return r.length > 0 ? r : null;
    });
    check(
      models.some((m) => m.includes("SmolLM2-135M-Instruct.Q4_1") && /Fits|memory/.test(m)),
      `models listed with a fit verdict: ${models[0].slice(0, 120)}`,
    );
    await screenshot("settings");

    console.log("security: capabilities and the viewer's reach");
    const refused = await asyncScript(
      "const done = arguments[arguments.length - 1];" +
        "window.__TAURI_INTERNALS__.invoke('plugin:dialog|message', { message: 'x' })" +
        ".then(() => done('allowed'), (e) => done(String(e)))",
    );
    check(/not allowed|denied|forbidden/i.test(refused), `a command the window is not granted is refused: ${refused}`);
    const outside = await asyncScript(
      "const done = arguments[arguments.length - 1];" +
        "window.__TAURI_INTERNALS__.invoke('document_pdf', { documentId: 987654 })" +
        ".then(() => done('served'), (e) => done(JSON.stringify(e)))",
    );
    check(outside.includes("no_such_document"), `the viewer cannot load a file outside the library: ${outside}`);
    // The network namespace would make any fetch fail; the CSP's own violation report proves
    // that the policy, not the missing network, stopped it.
    const remote = await asyncScript(
      "const done = arguments[arguments.length - 1]; let violated = null;" +
        "document.addEventListener('securitypolicyviolation', (e) => { violated = e.violatedDirective; });" +
        "fetch('https://example.com/').then(() => done('fetched'), () => setTimeout(() => done(String(violated)), 300))",
    );
    check(remote.startsWith("connect-src"), `the CSP refuses a remote origin (violated directive: ${remote})`);

    if (LOCATION_RECORD && MOVED_LIBRARY) {
      console.log("settings: move the library to another folder");
      await click("#nav-settings");
      await type("#library-folder-path", MOVED_LIBRARY);
      await click("#library-folder-check");
      await waitFor("the offer to move the library", 30, () => findAll("#library-folder-move").then((e) => e.length > 0));
      await script("document.querySelector('#library-folder-move').scrollIntoView({ block: 'center' })");
      await screenshot("library-folder-choice");
      // The app restarts on the new folder, so this click may lose its session.
      await click("#library-folder-move").catch((e) => console.log(`  (click: ${e.message.slice(0, 200)})`));
      await waitFor("the new folder to be recorded", 120, async () => readFileSync(LOCATION_RECORD, "utf8").trim() === MOVED_LIBRARY);
      check(existsSync(join(MOVED_LIBRARY, "catalog.sqlite")), `library copied to ${MOVED_LIBRARY} and recorded`);
      await call("DELETE", s("")).catch(() => undefined);
      session = await startApp();
      await waitFor("the window", 60, () => find("#nav-library"));
      await click("#nav-settings");
      const shown = await waitFor("the new library folder in the settings", 30, () =>
        script("return document.querySelector('.settings dd code')?.textContent ?? null"),
      );
      check(shown === MOVED_LIBRARY, `a new start opens the moved library (${shown})`);
      await click("#nav-library");
      const moved = await waitFor("the moved documents", 30, async () => {
        const states = await script("return [...document.querySelectorAll('tr[data-state]')].map(r => r.dataset.state)");
        return states.length === left.length && states.every((st) => st === "indexed") ? states : null;
      });
      check(moved.length === left.length, `${moved.length} documents indexed in the moved library, nothing re-read`);
      await screenshot("library-moved");
    }
    console.log("E2E passed");
  } catch (e) {
    await screenshot("failure").catch(() => undefined);
    throw e;
  } finally {
    await call("DELETE", s("")).catch(() => undefined);
  }
}

main().catch((e) => {
  console.error(`E2E FAILED: ${e.message}`);
  process.exit(1);
});
