// WebKitGTK (the Linux webview) cannot iterate a ReadableStream with `for await`, which pdf.js
// uses to read a page's text. Same behaviour, through the stream's reader.
type StreamPrototype = Record<symbol, unknown>;

export function installStreamIteration(): void {
  const proto = ReadableStream.prototype as unknown as StreamPrototype;
  if (typeof proto[Symbol.asyncIterator] === "function") return;
  proto[Symbol.asyncIterator] = async function* iterate(this: ReadableStream<unknown>) {
    const reader = this.getReader();
    try {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) return;
        yield value;
      }
    } finally {
      reader.releaseLock();
    }
  };
}
