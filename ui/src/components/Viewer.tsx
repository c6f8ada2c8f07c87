// The built-in PDF viewer (pdf.js, bundled): opens a library document at the cited page and
// highlights the cited passage.
import { useEffect, useRef, useState } from "preact/hooks";
// The legacy build carries polyfills for what older WebKit versions lack.
import * as pdfjs from "pdfjs-dist/legacy/build/pdf.mjs";
import workerUrl from "pdfjs-dist/legacy/build/pdf.worker.min.mjs?url";
import { documentPdf, errorMessage, type Citation } from "../api";
import { itemsToHighlight } from "../lib/highlight";
import { installStreamIteration } from "../lib/polyfills";
import { visible } from "../lib/text";

installStreamIteration();
pdfjs.GlobalWorkerOptions.workerSrc = workerUrl;

type PdfDocument = Awaited<ReturnType<typeof pdfjs.getDocument>["promise"]>;

interface Props {
  citation: Citation;
  onClose: () => void;
}

export function Viewer({ citation, onClose }: Props) {
  const [pdf, setPdf] = useState<{ id: number; doc: PdfDocument } | null>(null);
  const [page, setPage] = useState(citation.page);
  const [status, setStatus] = useState("Opening…");
  const [highlighted, setHighlighted] = useState(0);
  const canvasRef = useRef<HTMLCanvasElement>(null);
  const textRef = useRef<HTMLDivElement>(null);
  const scrollRef = useRef<HTMLDivElement>(null);

  useEffect(() => setPage(citation.page), [citation]);

  useEffect(() => {
    if (pdf?.id === citation.document_id) return;
    let cancelled = false;
    setStatus("Opening…");
    documentPdf(citation.document_id)
      .then((data) => pdfjs.getDocument({ data, isEvalSupported: false }).promise)
      .then((doc) => {
        if (!cancelled) setPdf({ id: citation.document_id, doc });
      })
      .catch((e) => !cancelled && setStatus(errorMessage(e)));
    return () => {
      cancelled = true;
    };
  }, [citation.document_id]);

  useEffect(() => {
    if (!pdf || !canvasRef.current || !textRef.current) return;
    let cancelled = false;
    const render = async () => {
      const pdfPage = await pdf.doc.getPage(page);
      // Fit the page to the panel's width (within reason).
      const natural = pdfPage.getViewport({ scale: 1 });
      const room = (scrollRef.current?.clientWidth ?? 800) - 32;
      const viewport = pdfPage.getViewport({ scale: Math.min(2, Math.max(0.5, room / natural.width)) });
      const canvas = canvasRef.current;
      const layer = textRef.current;
      if (!canvas || !layer || cancelled) return;
      canvas.width = Math.floor(viewport.width);
      canvas.height = Math.floor(viewport.height);
      await pdfPage.render({ canvas, viewport }).promise;
      layer.replaceChildren();
      layer.style.setProperty("--total-scale-factor", String(viewport.scale));
      const textLayer = new pdfjs.TextLayer({
        textContentSource: await pdfPage.getTextContent(),
        container: layer,
        viewport,
      });
      await textLayer.render();
      if (cancelled) return;
      let marked = 0;
      if (page === citation.page) {
        const items = textLayer.textContentItemsStr;
        for (const index of itemsToHighlight(items, citation.snippet)) {
          textLayer.textDivs[index]?.classList.add("cited");
          marked++;
        }
        layer.querySelector(".cited")?.scrollIntoView({ block: "center" });
      }
      setHighlighted(marked);
      setStatus("");
    };
    render().catch((e) => !cancelled && setStatus(errorMessage(e)));
    return () => {
      cancelled = true;
    };
  }, [pdf, page, citation]);

  const pages = pdf?.doc.numPages ?? 0;
  return (
    <section class="viewer" aria-label="Document viewer" data-page={page} data-highlights={highlighted}>
      <header class="viewer-bar">
        <strong title={visible(citation.file)}>{visible(citation.title)}</strong>
        <nav aria-label="Pages">
          <button type="button" onClick={() => setPage((p) => Math.max(1, p - 1))} disabled={page <= 1} aria-label="Previous page">
            ‹
          </button>
          <span class="viewer-page">
            Page {page}
            {pages ? ` of ${pages}` : ""}
          </span>
          <button type="button" onClick={() => setPage((p) => Math.min(pages, p + 1))} disabled={page >= pages} aria-label="Next page">
            ›
          </button>
        </nav>
        <button type="button" onClick={onClose} aria-label="Close viewer">
          ✕
        </button>
      </header>
      {status && <p class="viewer-status" role="status">{status}</p>}
      <div class="viewer-scroll" ref={scrollRef}>
        <div class="viewer-page-box">
          <canvas ref={canvasRef} />
          <div ref={textRef} class="textLayer" />
        </div>
      </div>
    </section>
  );
}
