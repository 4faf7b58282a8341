import { useEffect, useId, useRef, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { i18n } from '../i18n';
import type { Me } from '../api/types';
import { BellIcon, BellOffIcon } from '../components/icons';
import { checkPush, disablePush, enablePush, pushOwner, pushSupport, PushError, syncPush, TEXT, type PushStatus } from './push';

/** What each state means, in the reader's language (read when shown). */
const DESCRIPTION: Record<PushStatus, string> = {
  get checking() {
    return i18n.t('push.checking');
  },
  get on() {
    return i18n.t('push.on');
  },
  get off() {
    return i18n.t('push.off');
  },
  get denied() {
    return TEXT.denied;
  },
  get unsupported() {
    return TEXT.unsupported;
  },
  get insecure() {
    return TEXT.insecure;
  },
};

/**
 * "Enable notifications": a switch (role=switch, Space/Enter) for this browser's Web Push
 * subscription. Where notifications cannot work (unsupported, insecure, blocked) it stays
 * focusable but aria-disabled, and pressing it says why.
 */
export function NotificationSwitch({ me }: { me: Me }) {
  const { t } = useTranslation();
  const owner = pushOwner(me);
  const [status, setStatus] = useState<PushStatus>(() => {
    const s = pushSupport();
    return s === 'ok' ? 'checking' : s;
  });
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const busyRef = useRef(false);
  // The check on load, once per owner (StrictMode runs the effect twice on one instance).
  const synced = useRef<{ owner: number; status: Promise<PushStatus> } | null>(null);
  const descId = useId();
  const msgId = useId();

  useEffect(() => {
    let alive = true;
    if (synced.current?.owner !== owner) synced.current = { owner, status: syncPush(owner) };
    synced.current.status.then(
      (s) => alive && !busyRef.current && setStatus(s),
      () => alive && !busyRef.current && setStatus('off'),
    );
    // Back from the browser's settings (or another tab): show what is true now.
    const recheck = () => {
      if (document.visibilityState !== 'visible' || busyRef.current) return;
      checkPush(owner).then(
        (s) => alive && !busyRef.current && setStatus(s),
        () => {},
      );
    };
    document.addEventListener('visibilitychange', recheck);
    return () => {
      alive = false;
      document.removeEventListener('visibilitychange', recheck);
    };
  }, [owner]);

  const on = status === 'on';
  const blocked = status === 'denied' || status === 'unsupported' || status === 'insecure';

  const toggle = () => {
    if (busyRef.current || status === 'checking') return;
    if (blocked) {
      setError(DESCRIPTION[status]);
      return;
    }
    setError(null);
    busyRef.current = true;
    setBusy(true);
    // enablePush asks for permission first thing, still inside this click.
    const work = on ? disablePush().then((): PushStatus => 'off') : enablePush(owner).then((): PushStatus => 'on');
    work
      .then(setStatus, (e: unknown) => {
        const kind = e instanceof PushError ? e.kind : null;
        if (kind === 'denied' || kind === 'unsupported' || kind === 'insecure') setStatus(kind);
        else if (!on) setStatus('off');
        setError(e instanceof Error && e.message ? e.message : on ? TEXT.disableFailed : TEXT.enableFailed);
      })
      .finally(() => {
        busyRef.current = false;
        setBusy(false);
      });
  };

  const description = busy ? (on ? t('push.turningOff') : t('push.turningOn')) : DESCRIPTION[status];
  return (
    <div
      className="push-toggle"
      data-status={status}
      onKeyDown={(e) => {
        if (e.key === 'Escape' && error) setError(null);
      }}
    >
      <button
        type="button"
        role="switch"
        className={`push-switch${on ? ' on' : ''}${blocked ? ' blocked' : ''}`}
        aria-checked={on}
        aria-label={t('push.enable')}
        aria-describedby={error ? `${descId} ${msgId}` : descId}
        aria-disabled={blocked || status === 'checking' || undefined}
        aria-busy={busy || status === 'checking' || undefined}
        title={description}
        onClick={toggle}
        data-testid="push-switch"
      >
        {blocked ? <BellOffIcon /> : <BellIcon />}
        <span className="push-label" aria-hidden="true">
          {t('push.label')}
        </span>
        <span className={`switch-track${busy ? ' busy' : ''}`} aria-hidden="true">
          <span className="switch-thumb" />
        </span>
      </button>
      <span id={descId} className="visually-hidden">
        {description}
      </span>
      {error && (
        <div className="push-message" role="alert" id={msgId} data-testid="push-message">
          <span>{error}</span>
          <button type="button" className="push-message-close" aria-label={t('common.dismiss')} onClick={() => setError(null)}>
            ×
          </button>
        </div>
      )}
    </div>
  );
}
