// Settings: models (with the hardware-fit verdict), retrieval, where data lives, and privacy.
import { useEffect, useState } from "preact/hooks";
import { open } from "@tauri-apps/plugin-dialog";
import * as api from "../api";
import { visible } from "../lib/text";
import { LibraryFolder } from "./LibraryFolder";

const FIT_LABELS: Record<string, string> = {
  fits: "Fits in free memory",
  tight: "Fits, but leaves little free memory",
  too_large: "Too large for free memory",
  unknown: "Free memory unknown",
};

function mib(bytes: number): string {
  return `${Math.round(bytes / 2 ** 20).toLocaleString()} MiB`;
}

export function Settings({ info, onError }: { info: api.AppInfo | null; onError: (message: string) => void }) {
  const [models, setModels] = useState<api.InstalledModel[]>([]);
  const [settings, setSettings] = useState<api.RetrievalSettings | null>(null);
  const refresh = () => api.listModels().then(setModels).catch((e) => onError(api.errorMessage(e)));
  useEffect(() => {
    refresh();
    api.retrievalSettings().then(setSettings).catch((e) => onError(api.errorMessage(e)));
  }, []);

  const save = (next: api.RetrievalSettings) => {
    setSettings(next);
    api.setRetrievalSettings(next).catch((e) => onError(api.errorMessage(e)));
  };
  const importModel = async () => {
    const chosen = await open({ multiple: false, filters: [{ name: "GGUF model", extensions: ["gguf"] }] });
    if (typeof chosen === "string") {
      await api.importModel(chosen).catch((e) => onError(api.errorMessage(e)));
      refresh();
    }
  };
  const setRole = (name: string, role: "default" | "large") =>
    api.setModelRole(name, role).then(refresh).catch((e) => onError(api.errorMessage(e)));

  return (
    <section class="settings" aria-labelledby="settings-title">
      <h2 id="settings-title">Settings</h2>
      <h3>Models</h3>
      <table aria-label="Installed models">
        <thead>
          <tr>
            <th scope="col">Model</th>
            <th scope="col">Architecture</th>
            <th scope="col">Quantization</th>
            <th scope="col">File</th>
            <th scope="col">Context</th>
            <th scope="col">RAM estimate</th>
            <th scope="col">Role</th>
          </tr>
        </thead>
        <tbody>
          {models.map((m) => (
            <tr key={m.name}>
              <td>{visible(m.name)}</td>
              <td>{visible(m.architecture)}{m.supported ? "" : " (unsupported)"}</td>
              <td>{m.quantization}</td>
              <td>{mib(m.file_bytes)}</td>
              <td>{m.context_length?.toLocaleString() ?? "?"}</td>
              <td class={`fit-${m.fit}`}>{mib(m.estimated_ram)} — {FIT_LABELS[m.fit] ?? m.fit}</td>
              <td>
                <label>
                  <input type="radio" name="default-model" checked={m.is_default} onChange={() => setRole(m.name, "default")} /> Default
                </label>{" "}
                <label>
                  <input type="radio" name="large-model" checked={m.is_large} onChange={() => setRole(m.name, "large")} /> Larger (harder questions)
                </label>
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      <button type="button" onClick={importModel}>Import a GGUF model…</button>

      <h3>Retrieval</h3>
      {settings && (
        <div class="row">
          <label>
            Passages per answer{" "}
            <input
              type="number"
              min={1}
              max={8}
              value={settings.sources}
              onChange={(e) => save({ ...settings, sources: Number(e.currentTarget.value) })}
            />
          </label>
          <label>
            Search mode{" "}
            <select value={settings.mode} onChange={(e) => save({ ...settings, mode: e.currentTarget.value as api.SearchMode })}>
              <option value="hybrid">Hybrid (keywords + meaning)</option>
              <option value="keyword">Keywords only</option>
              <option value="vector">Meaning only</option>
            </select>
          </label>
        </div>
      )}

      <h3>Data</h3>
      {info && (
        <dl>
          <dt>Library (catalog and indexes)</dt>
          <dd><code>{info.library_dir}</code></dd>
          <dt>Models</dt>
          <dd><code>{info.models_dir}</code></dd>
          <dt>Watched folders</dt>
          <dd>{info.watched_folders.length ? info.watched_folders.map((f) => <code key={f}>{f} </code>) : "none"}</dd>
        </dl>
      )}
      {info && <LibraryFolder info={info} onError={onError} />}
    </section>
  );
}

export function Privacy({ info }: { info: api.AppInfo | null }) {
  return (
    <section class="privacy" aria-labelledby="privacy-title">
      <h2 id="privacy-title">Privacy</h2>
      <p><strong>Folio makes no network connections.</strong> Your documents, questions and answers never leave this computer.</p>
      <ul>
        <li>Reading, indexing, search and answers all run on this machine; the language models are local files.</li>
        <li>There is no telemetry, no update check, no cloud model, and no download at run time. Folio works with networking switched off.</li>
        <li>The window may load only Folio's own bundled code (a strict Content Security Policy with no remote origins); the PDF viewer can open only documents in your library.</li>
        <li>Folio reads the PDFs you add (in place; it does not copy them) and writes only to its library folder{info ? <> (<code>{info.library_dir}</code>)</> : ""}, to the models folder when you import a model, and a one-line note of where the library is when you change its folder.</li>
      </ul>
    </section>
  );
}
