// Choosing where the library lives: open a library in another folder, start an empty one, or
// move this one there (copied whole, so nothing is read or embedded again). Folio then restarts
// on the new folder; the old folder is left as it was.
import { useState } from "preact/hooks";
import { open } from "@tauri-apps/plugin-dialog";
import * as api from "../api";

interface Props {
  info: api.AppInfo;
  onError: (message: string) => void;
  /** Picks a folder; the native dialog by default. */
  pickFolder?: () => Promise<string | null>;
}

async function nativeFolderPicker(): Promise<string | null> {
  const chosen = await open({ directory: true, multiple: false });
  return typeof chosen === "string" ? chosen : null;
}

export function LibraryFolder({ info, onError, pickFolder = nativeFolderPicker }: Props) {
  const [choice, setChoice] = useState<{ path: string; use: api.FolderUse } | null>(null);
  const [working, setWorking] = useState<string | null>(null);
  const [typed, setTyped] = useState("");

  if (info.library_dir_from_env) {
    return <p>The library folder is set by <code>FOLIO_HOME</code>; start Folio without it to choose one here.</p>;
  }
  const inspect = async (path: string | null) => {
    try {
      if (path) setChoice({ path, use: await api.inspectLibraryFolder(path) });
    } catch (e) {
      onError(api.errorMessage(e));
    }
  };
  const change = async (path: string, moveLibrary: boolean) => {
    setWorking(moveLibrary ? "Copying the library…" : "Switching…");
    try {
      await api.changeLibraryFolder(path, moveLibrary); // the app restarts when this succeeds
    } catch (e) {
      setWorking(null);
      onError(api.errorMessage(e));
    }
  };

  return (
    <div class="library-folder">
      <form
        class="row"
        onSubmit={(e) => {
          e.preventDefault();
          inspect(typed.trim());
        }}
      >
        <button type="button" onClick={() => pickFolder().then(inspect, (e) => onError(api.errorMessage(e)))} disabled={working !== null}>
          Change library folder…
        </button>
        <label for="library-folder-path">or type a folder</label>
        <input id="library-folder-path" value={typed} onInput={(e) => setTyped(e.currentTarget.value)} placeholder="/media/me/disk/folio" />
        <button type="submit" id="library-folder-check" disabled={working !== null || !typed.trim()}>Check</button>
      </form>
      {choice && (
        <div role="group" aria-label="New library folder" class="folder-choice">
          <p><code>{choice.path}</code>{" "}
            {choice.use === "library" && "holds a Folio library."}
            {choice.use === "empty" && "is empty."}
            {choice.use === "occupied" && "holds other files: choose an empty folder or one holding a Folio library."}
          </p>
          {working ? (
            <p role="status">{working}</p>
          ) : (
            <div class="row">
              {choice.use === "library" && (
                <button type="button" id="library-folder-open" onClick={() => change(choice.path, false)}>Open that library</button>
              )}
              {choice.use === "empty" && (
                <>
                  <button type="button" id="library-folder-move" onClick={() => change(choice.path, true)}>Move my library there</button>
                  <button type="button" id="library-folder-new" onClick={() => change(choice.path, false)}>Start an empty library there</button>
                </>
              )}
              <button type="button" onClick={() => setChoice(null)}>Cancel</button>
            </div>
          )}
          {choice.use !== "occupied" && (
            <p class="note">Folio restarts on the new folder. The current folder is left as it is; the CLI follows the change too.</p>
          )}
        </div>
      )}
    </div>
  );
}
