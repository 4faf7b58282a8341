import { useEffect, useId, useRef, useState } from 'react';
import { useTranslation } from 'react-i18next';
import type { Me } from '../api/types';
import { useNotificationPreferences, useUpdateNotificationPreferences } from '../data/hooks';
import { fullName } from '../lib/users';
import { Link } from '../router';
import { exportMyMessages } from '../api/endpoints';
import { InstallAppButton } from '../offline/install';
import { Avatar } from './Avatar';
import { ExportButtons } from './ExportButtons';
import { EyeIcon, SettingsIcon, SignOutIcon } from './icons';
import { LanguageSwitch } from './LanguageSwitch';

/**
 * "Message notifications": the account's `new_message` preference (all devices; the
 * "Enable notifications" switch is this browser's subscription). Changes show at once and go
 * back, with the server's reason, when refused.
 */
export function MessageNotificationsSwitch() {
  const { t } = useTranslation();
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
        aria-label={t('settings.messageNotifications')}
        aria-describedby={update.error ? `${descId} ${errorId}` : descId}
        aria-disabled={!ready || undefined}
        aria-busy={prefs.isLoading || undefined}
        data-testid="message-notifications-switch"
        onClick={() => {
          if (ready) update.mutate({ new_message: !on });
        }}
      >
        <span className="pref-label" aria-hidden="true">
          {t('settings.messageNotifications')}
        </span>
        <span className="switch-track" aria-hidden="true">
          <span className="switch-thumb" />
        </span>
      </button>
      <p id={descId} className="muted small-text">
        {prefs.isLoading ? t('common.loading') : ready ? (on ? t('settings.prefOn') : t('settings.prefOff')) : ''}
      </p>
      {prefs.error && !ready && (
        <p className="form-error" role="alert">
          {t('settings.prefLoadFailed', { message: prefs.error.message })}{' '}
          <button type="button" className="link-button" onClick={() => void prefs.refetch()}>
            {t('common.tryAgain')}
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
  const { t } = useTranslation();
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
        aria-label={t('settings.buttonLabel', { name })}
        aria-expanded={open}
        aria-controls={open ? panelId : undefined}
        aria-haspopup="dialog"
        title={t('settings.title')}
        onClick={() => setOpen((o) => !o)}
      >
        <Avatar user={me} size={30} />
        <span className="user-name">{name}</span>
        <SettingsIcon />
      </button>
      {open && (
        <div className="settings-panel" id={panelId} ref={panelRef} role="dialog" aria-labelledby={`${panelId}-title`}>
          <h2 className="settings-title" id={`${panelId}-title`}>
            {t('settings.title')}
          </h2>
          <MessageNotificationsSwitch />
          <LanguageSwitch className="settings-language" />
          <InstallAppButton />
          {me.role !== 'admin' && (
            <ExportButtons
              label={t('export.mine')}
              fetchFile={exportMyMessages}
              fallbackName={(f) => `spotter-export-${me.id}.${f}`}
              note={t('export.mineNote')}
            />
          )}
          <Link to="/access-log" className="settings-link" onClick={() => setOpen(false)}>
            <EyeIcon /> {t('access.title')}
          </Link>
          {onSignOut && (
            <button type="button" className="button secondary small settings-sign-out" onClick={onSignOut} disabled={signingOut}>
              <SignOutIcon /> {signingOut ? t('app.signingOut') : t('app.signOut')}
            </button>
          )}
        </div>
      )}
    </div>
  );
}
