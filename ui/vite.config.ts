import { defineConfig } from "vitest/config";

// Tauri serves the built files; nothing is fetched from a CDN at run time.
export default defineConfig({
  clearScreen: false,
  server: { port: 5173, strictPort: true },
  build: { target: "es2022", outDir: "dist", emptyOutDir: true, chunkSizeWarningLimit: 2000 },
  oxc: { jsx: { runtime: "automatic", importSource: "preact" } },
  test: { environment: "jsdom", include: ["tests/**/*.test.{ts,tsx}"], setupFiles: ["tests/setup.ts"] },
});
