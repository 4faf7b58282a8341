import { useId, useState } from 'react';
import { useTranslation } from 'react-i18next';
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
  const { t } = useTranslation();
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
      setDone(t('export.done', { name }));
    } catch (e) {
      const retry = e instanceof ApiError && e.status === 429 ? ` ${t('export.limit')}` : '';
      setError(t('export.failed', { message: (e as Error).message }) + retry);
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
            aria-label={t('export.as', { label, format: f.toUpperCase() })}
          >
            {busy === f ? t('export.preparing') : f.toUpperCase()}
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
