import { afterEach, describe, expect, it, vi } from "vitest";
import { cleanup, fireEvent, render, screen, waitFor } from "@testing-library/preact";
import { clearMocks, mockIPC } from "@tauri-apps/api/mocks";
import type { Citation, Document } from "../src/api";
import { assistantMessage, Chat } from "../src/components/Chat";
import { Library } from "../src/components/Library";
import { LibraryFolder } from "../src/components/LibraryFolder";
import { ScopePicker, scopeLabel } from "../src/components/ScopePicker";

afterEach(() => {
  cleanup();
  clearMocks();
});

const source: Citation = {
  n: 1,
  chunk_id: 11,
  document_id: 2,
  file: "/docs/policy.pdf",
  title: "policy",
  page: 4,
  char_start: 10,
  char_end: 90,
  snippet: "The daily meal allowance is 45 EUR.",
  score: 0.031,
};

const answer = assistantMessage;

const chatProps = {
  documents: [],
  scope: [],
  onScope: () => undefined,
  scopeLocked: false,
  answering: false,
  onAsk: () => undefined,
  onStop: () => undefined,
};

describe("Chat", () => {
  it("turns markers into chips that open the cited page", () => {
    const open = vi.fn();
    render(
      <Chat
        {...chatProps}
        messages={[
          answer({ role: "user", text: "Meal allowance?" }),
          answer({ text: "It is 45 EUR [1].", citations: [source], sources: [source], model: "qwen" }),
        ]}
        onOpenCitation={open}
      />,
    );
    fireEvent.click(screen.getByRole("button", { name: "Source 1: policy.pdf, p. 4" }));
    expect(open).toHaveBeenCalledWith(source);
    expect(screen.getByText(/Sources behind this answer \(1\)/)).toBeTruthy();
    expect(screen.getByText("Answered by qwen")).toBeTruthy();
  });

  it("shows an abstention as not found, with the closest passages", () => {
    render(
      <Chat
        {...chatProps}
        messages={[
          answer({
            abstained: true,
            text: "I couldn't find this in your documents.",
            closest: [source],
            note: "The model's answer was withdrawn.",
          }),
        ]}
        onOpenCitation={() => undefined}
      />,
    );
    expect(screen.getByText("Not found in your documents.")).toBeTruthy();
    expect(screen.getByText("The model's answer was withdrawn.")).toBeTruthy();
    expect(screen.getByText("Closest passages")).toBeTruthy();
  });

  it("sends on Enter and offers Stop while answering", () => {
    const ask = vi.fn();
    const { rerender } = render(<Chat {...chatProps} messages={[]} onAsk={ask} onOpenCitation={() => undefined} />);
    const box = screen.getByLabelText("Question");
    fireEvent.input(box, { target: { value: "What is the budget?" } });
    fireEvent.keyDown(box, { key: "Enter" });
    expect(ask).toHaveBeenCalledWith("What is the budget?");
    const stop = vi.fn();
    rerender(<Chat {...chatProps} messages={[]} answering onStop={stop} onOpenCitation={() => undefined} />);
    fireEvent.click(screen.getByRole("button", { name: "Stop" }));
    expect(stop).toHaveBeenCalled();
  });
});

const doc = (id: number, status: string, extra: Partial<Document> = {}): Document => ({
  id,
  file: `/docs/d${id}.pdf`,
  sha256: "",
  title: `d${id}`,
  running_title: "",
  pages: 3,
  size_bytes: 1,
  mtime_ns: 0,
  status,
  extractor: "pdf-extract",
  pages_without_text: 0,
  warnings: [],
  chunks: 6,
  chunks_embedded: 6,
  ...extra,
});

describe("Library", () => {
  it("shows each document's state and asks for the password of an encrypted one", () => {
    const add = vi.fn();
    render(
      <Library
        documents={[doc(1, "indexed"), doc(2, "searchable", { chunks_embedded: 3 }), doc(3, "encrypted", { chunks: 0 })]}
        progress={null}
        busy={false}
        onAdd={add}
        onRemove={() => undefined}
        onReindex={() => undefined}
      />,
    );
    expect(screen.getByText("Indexed")).toBeTruthy();
    expect(screen.getByText(/Embedding 50%/)).toBeTruthy();
    fireEvent.click(screen.getByRole("button", { name: "Unlock…" }));
    fireEvent.input(screen.getByLabelText("Password for d3", { selector: "input" }), { target: { value: "secret" } });
    fireEvent.click(screen.getByRole("button", { name: "Unlock" }));
    expect(add).toHaveBeenCalledWith(["/docs/d3.pdf"], "secret");
  });
});

describe("ScopePicker", () => {
  const documents = [doc(1, "indexed"), doc(2, "indexed"), doc(3, "indexed")];

  it("adds and removes documents, and goes back to the whole library", () => {
    const onScope = vi.fn();
    const { rerender } = render(<ScopePicker documents={documents} scope={[]} onScope={onScope} locked={false} />);
    expect(screen.getByLabelText("Whole library", { selector: "input" })).toHaveProperty("checked", true);
    fireEvent.click(screen.getByLabelText("d2", { selector: "input" }));
    expect(onScope).toHaveBeenLastCalledWith([2]);
    rerender(<ScopePicker documents={documents} scope={[2, 3]} onScope={onScope} locked={false} />);
    expect(screen.getByText("In: 2 documents")).toBeTruthy();
    expect(screen.getByLabelText("Whole library", { selector: "input" })).toHaveProperty("checked", false);
    fireEvent.click(screen.getByLabelText("d3", { selector: "input" }));
    expect(onScope).toHaveBeenLastCalledWith([2]);
    fireEvent.click(screen.getByLabelText("Whole library", { selector: "input" }));
    expect(onScope).toHaveBeenLastCalledWith([]);
  });

  it("only shows the scope of a continued conversation", () => {
    render(<ScopePicker documents={documents} scope={[3]} onScope={() => undefined} locked />);
    expect(screen.getByText("In: d3")).toBeTruthy();
    expect(screen.queryByRole("checkbox")).toBeNull();
    expect(scopeLabel([7], documents)).toBe("1 document");
  });
});

describe("LibraryFolder", () => {
  const info = { version: "0", library_dir: "/home/me/lib", library_dir_from_env: false, models_dir: "/m", watched_folders: [] };

  it("offers to move the library into an empty folder and asks the shell to", async () => {
    const calls: [string, unknown][] = [];
    mockIPC((cmd, args) => {
      calls.push([cmd, args]);
      return cmd === "inspect_library_folder" ? "empty" : null;
    });
    render(<LibraryFolder info={info} onError={() => undefined} pickFolder={async () => "/mnt/big/folio"} />);
    fireEvent.click(screen.getByRole("button", { name: "Change library folder…" }));
    fireEvent.click(await screen.findByRole("button", { name: "Move my library there" }));
    await waitFor(() => expect(calls.length).toBe(2));
    expect(calls[1]).toEqual(["change_library_folder", { change: { path: "/mnt/big/folio", moveLibrary: true } }]);
  });

  it("refuses a folder holding other files, and defers to FOLIO_HOME", async () => {
    mockIPC((cmd) => (cmd === "inspect_library_folder" ? "occupied" : null));
    const { rerender } = render(<LibraryFolder info={info} onError={() => undefined} pickFolder={async () => "/home/me"} />);
    fireEvent.click(screen.getByRole("button", { name: "Change library folder…" }));
    expect(await screen.findByText(/holds other files/)).toBeTruthy();
    expect(screen.queryByRole("button", { name: /Move|Open|Start/ })).toBeNull();
    fireEvent.input(screen.getByLabelText("or type a folder"), { target: { value: "/srv/old-library" } });
    mockIPC((cmd) => (cmd === "inspect_library_folder" ? "library" : null));
    fireEvent.click(screen.getByRole("button", { name: "Check" }));
    expect(await screen.findByRole("button", { name: "Open that library" })).toBeTruthy();
    rerender(<LibraryFolder info={{ ...info, library_dir_from_env: true }} onError={() => undefined} />);
    expect(screen.queryByRole("button", { name: "Change library folder…" })).toBeNull();
  });
});

// Control characters from file names, documents or the model never reach the page raw.
const CONTROL = /[\u0000-\u0008\u000B-\u001F\u007F-\u009F\u202A-\u202E\u2066-\u2069]/;

describe("control characters", () => {
  it("are shown escaped in titles, file names, snippets and answers", () => {
    const evil: Citation = {
      ...source,
      file: "/docs/invoice\u202Efdp.exe\u001b[31m.pdf",
      title: "bell\u0007 title\u001b[2J",
      snippet: "Allowance\u0000 is 45\u009b EUR.",
    };
    const { container } = render(
      <div>
        <Chat
          {...chatProps}
          documents={[{ ...evil, id: 2, sha256: "", running_title: "", pages: 1, size_bytes: 1, mtime_ns: 0, status: "indexed", extractor: "", pages_without_text: 0, warnings: ["odd\u0008"], chunks: 1, chunks_embedded: 1 }]}
          messages={[
            answer({ role: "user", text: "What\u001b]0;pwned\u0007?" }),
            answer({ text: "It is 45 EUR\u0007 [1].", citations: [evil], sources: [evil], model: "qwen\u001b" }),
          ]}
          onOpenCitation={() => undefined}
        />
        <Library
          documents={[{ id: 2, file: evil.file, sha256: "", title: evil.title, running_title: "", pages: 1, size_bytes: 1, mtime_ns: 0, status: "indexed", extractor: "", pages_without_text: 0, warnings: ["odd\u0008"], chunks: 1, chunks_embedded: 1 }]}
          progress={null}
          busy={false}
          onAdd={() => undefined}
          onRemove={() => undefined}
          onReindex={() => undefined}
        />
      </div>,
    );
    const shown = [container.textContent ?? ""];
    container.querySelectorAll("*").forEach((element) => {
      for (const attribute of ["title", "aria-label"]) shown.push(element.getAttribute(attribute) ?? "");
    });
    for (const text of shown) expect(text).not.toMatch(CONTROL);
    expect(container.textContent).toContain("bell\uFFFD title\uFFFD[2J");
    expect(screen.getByRole("button", { name: "Source 1: invoice\uFFFDfdp.exe\uFFFD[31m.pdf, p. 4" })).toBeTruthy();
  });
});
