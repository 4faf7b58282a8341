import { useEffect, useId, useRef, useState } from 'react';
import type { Me } from '../api/types';
import { useNotificationPreferences, useUpdateNotificationPreferences } from '../data/hooks';
import { fullName } from '../lib/users';
import { Link } from '../router';
import { exportMyMessages } from '../api/endpoints';
import { InstallAppButton } from '../offline/install';
import { Avatar } from './Avatar';
import { ExportButtons } from './ExportButtons';
import { EyeIcon, SettingsIcon, SignOutIcon } from './icons';

const PREF_TEXT = {
  on: 'On: a push notification for each new message, on every device you use.',
  off: 'Off: no push notifications for new messages, on any device.',
};

/**
 * "Message notifications": the account's `new_message` preference (all devices; the
 * "Enable notifications" switch is this browser's subscription). Changes show at once and go
 * back, with the server's reason, when refused.
 */
export function MessageNotificationsSwitch() {
  const prefs = useNotificationPreferences();
  const update = useUpdateNotificationPreferences();
  const descId = useId();
  const errorId = useId();
  const on = prefs.data?.new_message ?? false;
  const ready = !!prefs.data;
  return (
    <div className="pref-row">
      <button
        type="button"
        role="switch"
        className={`push-switch pref-switch${on ? ' on' : ''}`}
        aria-checked={on}
        aria-label="Message notifications"
        aria-describedby={update.error ? `${descId} ${errorId}` : descId}
        aria-disabled={!ready || undefined}
        aria-busy={prefs.isLoading || undefined}
        data-testid="message-notifications-switch"
        onClick={() => {
          if (ready) update.mutate({ new_message: !on });
        }}
      >
        <span className="pref-label" aria-hidden="true">
          Message notifications
        </span>
        <span className="switch-track" aria-hidden="true">
          <span className="switch-thumb" />
        </span>
      </button>
      <p id={descId} className="muted small-text">
        {prefs.isLoading ? 'Loading…' : ready ? (on ? PREF_TEXT.on : PREF_TEXT.off) : ''}
      </p>
      {prefs.error && !ready && (
        <p className="form-error" role="alert">
          Could not load your notification settings: {(prefs.error).message}{' '}
          <button type="button" className="link-button" onClick={() => void prefs.refetch()}>
            Try again
          </button>
        </p>
      )}
      {update.error && (
        <p className="form-error" role="alert" id={errorId}>
          {(update.error).message}
        </p>
      )}
    </div>
  );
}

/**
 * The user's name in the top bar opens a small settings panel (Escape or a click elsewhere
 * closes it). On narrow phones the top bar's "Sign out" moves in here (CSS), for room.
 */
export function SettingsMenu({ me, onSignOut, signingOut }: { me: Me; onSignOut?: () => void; signingOut?: boolean }) {
  const [open, setOpen] = useState(false);
  const buttonRef = useRef<HTMLButtonElement>(null);
  const panelRef = useRef<HTMLDivElement>(null);
  const rootRef = useRef<HTMLDivElement>(null);
  const panelId = useId();
  const name = fullName(me);

  useEffect(() => {
    if (!open) return;
    panelRef.current?.querySelector<HTMLElement>('button, [href], input')?.focus();
    const outside = (e: MouseEvent) => {
      if (!rootRef.current?.contains(e.target as Node)) setOpen(false);
    };
    document.addEventListener('mousedown', outside);
    return () => document.removeEventListener('mousedown', outside);
  }, [open]);

  return (
    <div
      className="settings"
      ref={rootRef}
      onKeyDown={(e) => {
        if (e.key === 'Escape' && open) {
          e.preventDefault();
          setOpen(false);
          buttonRef.current?.focus();
        }
      }}
    >
      <button
        ref={buttonRef}
        type="button"
        className="settings-button"
        aria-label={`${name}, settings`}
        aria-expanded={open}
        aria-controls={open ? panelId : undefined}
        aria-haspopup="dialog"
        title="Settings"
        onClick={() => setOpen((o) => !o)}
      >
        <Avatar user={me} size={30} />
        <span className="user-name">{name}</span>
        <SettingsIcon />
      </button>
      {open && (
        <div className="settings-panel" id={panelId} ref={panelRef} role="dialog" aria-labelledby={`${panelId}-title`}>
          <h2 className="settings-title" id={`${panelId}-title`}>
            Settings
          </h2>
          <MessageNotificationsSwitch />
          <InstallAppButton />
          {me.role !== 'admin' && (
            <ExportButtons
              label="Download my messages"
              fetchFile={exportMyMessages}
              fallbackName={(f) => `spotter-export-${me.id}.${f}`}
              note="Every conversation, archived ones too. Photos come as links, which expire (after 7 days by default): save them soon."
            />
          )}
          <Link to="/access-log" className="settings-link" onClick={() => setOpen(false)}>
            <EyeIcon /> Who accessed my data
          </Link>
          {onSignOut && (
            <button type="button" className="button secondary small settings-sign-out" onClick={onSignOut} disabled={signingOut}>
              <SignOutIcon /> {signingOut ? 'Signing out…' : 'Sign out'}
            </button>
          )}
        </div>
      )}
    </div>
  );
}
