import { useEffect, useId, useRef, useState } from 'react';
import type { Me } from '../api/types';
import { BellIcon, BellOffIcon } from '../components/icons';
import { checkPush, disablePush, enablePush, pushOwner, pushSupport, PushError, syncPush, TEXT, type PushStatus } from './push';

const DESCRIPTION: Record<PushStatus, string> = {
  checking: 'Checking notifications…',
  on: 'On: new messages show as notifications in this browser.',
  off: 'Off: turn on to get a notification for new messages.',
  denied: TEXT.denied,
  unsupported: TEXT.unsupported,
  insecure: TEXT.insecure,
};

/**
 * "Enable notifications": a switch (role=switch, Space/Enter) for this browser's Web Push
 * subscription. Where notifications cannot work (unsupported, insecure, blocked) it stays
 * focusable but aria-disabled, and pressing it says why.
 */
export function NotificationSwitch({ me }: { me: Me }) {
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

  const description = busy ? (on ? 'Turning notifications off…' : 'Turning notifications on…') : DESCRIPTION[status];
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
        aria-label="Enable notifications"
        aria-describedby={error ? `${descId} ${msgId}` : descId}
        aria-disabled={blocked || status === 'checking' || undefined}
        aria-busy={busy || status === 'checking' || undefined}
        title={description}
        onClick={toggle}
        data-testid="push-switch"
      >
        {blocked ? <BellOffIcon /> : <BellIcon />}
        <span className="push-label" aria-hidden="true">
          Notifications
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
          <button type="button" className="push-message-close" aria-label="Dismiss" onClick={() => setError(null)}>
            ×
          </button>
        </div>
      )}
    </div>
  );
}
