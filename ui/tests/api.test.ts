// The command wrappers, against a mocked IPC: command names and argument names must match
// the Rust commands (camelCase arguments), and shell errors keep their code.
import { afterEach, describe, expect, it } from "vitest";
import { clearMocks, mockIPC } from "@tauri-apps/api/mocks";
import * as api from "../src/api";

afterEach(() => clearMocks());

describe("command wrappers", () => {
  it("call the shell's commands with its argument names", async () => {
    const calls: [string, unknown][] = [];
    mockIPC((cmd, args) => {
      calls.push([cmd, args]);
      if (cmd === "list_documents") return [];
      if (cmd === "set_retrieval_settings") return null;
      return null;
    });
    await api.listDocuments();
    await api.removeDocument(7);
    await api.renameConversation(3, "Budget");
    await api.setRetrievalSettings({ sources: 4, mode: "keyword" });
    await api.setModelRole("qwen", "large");
    await api.inspectLibraryFolder("/data/folio");
    await api.changeLibraryFolder("/data/folio", true);
    expect(calls).toEqual([
      ["list_documents", {}],
      ["remove_document", { documentId: 7 }],
      ["rename_conversation", { conversationId: 3, title: "Budget" }],
      ["set_retrieval_settings", { settings: { sources: 4, mode: "keyword" } }],
      ["set_model_role", { name: "qwen", role: "large" }],
      ["inspect_library_folder", { path: "/data/folio" }],
      ["change_library_folder", { change: { path: "/data/folio", moveLibrary: true } }],
    ]);
  });

  it("passes a channel for streamed answers and a request id for Stop", async () => {
    let seen: Record<string, unknown> = {};
    mockIPC((cmd, args) => {
      if (cmd === "ask") {
        seen = args as Record<string, unknown>;
        return { conversationId: 5, answer: { text: "ok" } };
      }
      if (cmd === "cancel_answer") return true;
      return null;
    });
    const result = await api.ask(
      { requestId: 9, question: "Why?", conversationId: null, scope: [2, 5], model: null },
      () => undefined,
    );
    expect(result.conversationId).toBe(5);
    expect(seen.request).toEqual({ requestId: 9, question: "Why?", conversationId: null, scope: [2, 5], model: null });
    expect(seen.onEvent).toHaveProperty("id"); // a channel travels as its callback id
    expect(await api.cancelAnswer(9)).toBe(true);
  });

  it("rejects with the shell's {code, message}", async () => {
    mockIPC(() => {
      throw { code: "busy", message: "the library is busy" };
    });
    const error = await api.reindex().catch((e: unknown) => e);
    expect(api.isShellError(error)).toBe(true);
    expect(api.errorMessage(error)).toBe("the library is busy");
    expect(api.errorMessage(new Error("boom"))).toContain("boom");
  });
});
