-- Every search counts the library's passages by state (searchable, embedded). With an index on
-- document_id alone that count read every passage row, text included, to see its `embedded`
-- flag; this index answers it alone, and serves the lookups by document as the old one did.
CREATE INDEX chunks_document_embedded ON chunks(document_id, embedded);
DROP INDEX chunks_document;
