-- What a document's running headers and footers say about it ("Apple Inc. | Q2 2023 Form 10-Q"),
-- kept once here after they are taken out of its page text; both indexes see it above every
-- passage. Empty for documents without running lines and for those added before.
ALTER TABLE documents ADD COLUMN running_title TEXT NOT NULL DEFAULT '';
