import { useMutationState } from '@tanstack/react-query';
import { useTranslation } from 'react-i18next';
import { mutationKeys } from '../data/keys';
import { formatNumber } from '../i18n';
import { useOnline } from './online';
import './offline.css';

/** How many sends wait in the outbox (paused, offline or restored). */
export function useOutboxCount(): number {
  return useMutationState({ filters: { mutationKey: mutationKeys.send, predicate: (m) => m.state.isPaused } }).length;
}

/** Under the top bar while the browser is offline. */
export function OfflineBanner() {
  const { t } = useTranslation();
  const online = useOnline();
  const waiting = useOutboxCount();
  if (online) return null;
  return (
    <div className="offline-banner" role="status" data-testid="offline-banner">
      <OfflineIcon />
      <span>{t('offline.banner')}</span>
      {waiting > 0 && <span className="offline-count">{t('offline.waiting', { count: waiting, n: formatNumber(waiting) })}</span>}
    </div>
  );
}

const OfflineIcon = () => (
  <svg width={18} height={18} viewBox="0 0 24 24" fill="none" stroke="currentColor" strokeWidth={2} strokeLinecap="round" strokeLinejoin="round" aria-hidden focusable={false}>
    <path d="M2 2l20 20" />
    <path d="M8.5 16.5a5 5 0 0 1 7 0" />
    <path d="M5 12.9a10 10 0 0 1 5.2-2.8" />
    <path d="M19 12.9a10 10 0 0 0-2.2-1.6" />
    <path d="M12 20h.01" />
  </svg>
);
