import { useId, useState } from 'react';
import { ApiError } from '../api/client';
import type { ExportFormat } from '../api/endpoints';
import { saveBlob } from '../lib/save';

/**
 * "Download … (JSON | CSV)": fetches the export with the Bearer token, then saves it under the
 * server's filename. Each download is recorded in the audit log and counts against 10 an hour.
 */
export function ExportButtons({
  label,
  fetchFile,
  fallbackName,
  note,
}: {
  label: string;
  fetchFile: (format: ExportFormat) => Promise<{ blob: Blob; filename: string | null }>;
  fallbackName: (format: ExportFormat) => string;
  note?: string;
}) {
  const [busy, setBusy] = useState<ExportFormat | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [done, setDone] = useState<string | null>(null);
  const labelId = useId();
  const run = async (format: ExportFormat) => {
    setBusy(format);
    setError(null);
    setDone(null);
    try {
      const { blob, filename } = await fetchFile(format);
      const name = filename ?? fallbackName(format);
      saveBlob(blob, name);
      setDone(`Downloaded ${name}`);
    } catch (e) {
      const retry = e instanceof ApiError && e.status === 429 ? ' Exports are limited to 10 an hour.' : '';
      setError(`Could not download: ${(e as Error).message}${retry}`);
    } finally {
      setBusy(null);
    }
  };
  return (
    <div className="export-row" role="group" aria-labelledby={labelId}>
      <span id={labelId} className="export-label">
        {label}
      </span>
      <div className="export-buttons">
        {(['json', 'csv'] as const).map((f) => (
          <button
            key={f}
            type="button"
            className="button secondary small"
            onClick={() => void run(f)}
            disabled={busy !== null}
            aria-busy={busy === f || undefined}
            aria-label={`${label} as ${f.toUpperCase()}`}
          >
            {busy === f ? 'Preparing…' : f.toUpperCase()}
          </button>
        ))}
      </div>
      {note && <p className="muted small-text">{note}</p>}
      <p className="small-text" role="status">
        {done}
      </p>
      {error && (
        <p className="form-error" role="alert">
          {error}
        </p>
      )}
    </div>
  );
}
