import { QueryClient, useQuery, useQueryClient } from '@tanstack/react-query';
import type { Persister } from '@tanstack/react-query-persist-client';
import { useEffect, useState, useSyncExternalStore } from 'react';
import { useTranslation } from 'react-i18next';
import './i18n';
import { ApiError, setAuthLostHandler } from './api/client';
import { endImpersonation, fetchMe } from './api/endpoints';
import { tokens } from './api/tokens';
import type { Me } from './api/types';
import { Avatar } from './components/Avatar';
import { ChatIcon, LockIcon, MegaphoneIcon, ShieldIcon, SignOutIcon, UsersIcon } from './components/icons';
import { SettingsMenu } from './components/SettingsMenu';
import { AnnouncerProvider } from './data/announcer';
import { useUnreadCount } from './data/hooks';
import { keys } from './data/keys';
import { MeContext } from './data/me';
import { registerMessageMutations } from './data/mutations';
import { OfflineBanner } from './offline/OfflineBanner';
import { OfflineQueryProvider } from './offline/OfflineQueryProvider';
import { LoginPage } from './pages/LoginPage';
import { NotificationSwitch } from './push/NotificationSwitch';
import { signOutPush } from './push/push';
import { AccessLogPage } from './pages/AccessLogPage';
import { AdminConversationPage, AdminUserPage, AdminUsersPage } from './pages/AdminPages';
import { AuditLogPage } from './pages/AuditLogPage';
import { BroadcastComposerPage, BroadcastDetailPage, BroadcastsPage } from './pages/BroadcastPages';
import { MessagesPage } from './pages/MessagesPage';
import { TraineeDetailPage } from './pages/TraineeDetailPage';
import { TraineesPage } from './pages/TraineesPage';
import { RealtimeProvider } from './realtime/RealtimeProvider';
import { Link, match, navigate, usePath } from './router';
import { fullName } from './lib/users';

export function makeQueryClient() {
  const qc = new QueryClient({
    defaultOptions: {
      queries: {
        retry: (n, e) => n < 2 && !(e instanceof ApiError && e.status < 500),
        refetchOnWindowFocus: true,
      },
    },
  });
  // The send mutation's function and cache updates: also for a send restored after a reload.
  registerMessageMutations(qc);
  return qc;
}

function NavLink({ to, children, label, exclude }: { to: string; children: React.ReactNode; label?: string; exclude?: string }) {
  const path = usePath();
  const current = (path === to || path.startsWith(`${to}/`)) && !(exclude && (path === exclude || path.startsWith(`${exclude}/`)));
  return (
    <Link to={to} className={`nav-link${current ? ' current' : ''}`} aria-current={current ? 'page' : undefined} aria-label={label}>
      {children}
    </Link>
  );
}

function TopBar({ me }: { me: Me }) {
  const { t } = useTranslation();
  const qc = useQueryClient();
  const unread = useUnreadCount().data?.unread_count ?? 0;
  useEffect(() => {
    document.title = unread > 0 ? `(${unread}) Spotter` : 'Spotter';
  }, [unread]);
  const [signingOut, setSigningOut] = useState(false);
  const logout = async () => {
    setSigningOut(true);
    // While the tokens still work: this browser's push subscription leaves the server.
    await signOutPush(me);
    tokens.clear();
    qc.clear();
    navigate('/login', { replace: true });
  };
  return (
    <header className="topbar">
      <Link to={me.role === 'admin' && !me.is_impersonating ? '/admin' : '/messages'} className="brand" aria-label={t('app.home')}>
        <img src="/icon.svg" alt="" width={28} height={28} />
        <span>Spotter</span>
      </Link>
      <nav aria-label={t('nav.main')} className="main-nav">
        {me.role !== 'admin' && (
        <NavLink to="/messages" label={unread > 0 ? t('nav.messagesUnread', { count: unread }) : t('nav.messages')}>
          <ChatIcon />
          <span className="nav-text">{t('nav.messages')}</span>
          {unread > 0 && (
            <span className="badge nav-badge" data-testid="unread-badge" aria-hidden="true">
              {unread > 99 ? '99+' : unread}
            </span>
          )}
        </NavLink>
        )}
        {me.role === 'admin' && !me.is_impersonating && (
          <>
            <NavLink to="/admin" exclude="/admin/audit-log">
              <ShieldIcon />
              <span className="nav-text">{t('nav.admin')}</span>
            </NavLink>
            <NavLink to="/admin/audit-log">
              <LockIcon />
              <span className="nav-text">{t('nav.auditLog')}</span>
            </NavLink>
          </>
        )}
        {me.role === 'trainer' && !me.is_impersonating && (
          <>
            <NavLink to="/trainees">
              <UsersIcon />
              <span className="nav-text">{t('nav.trainees')}</span>
            </NavLink>
            <NavLink to="/broadcasts">
              <MegaphoneIcon />
              <span className="nav-text">{t('nav.broadcasts')}</span>
            </NavLink>
          </>
        )}
      </nav>
      <div className="user-menu">
        {!me.is_impersonating && <NotificationSwitch me={me} />}
        {me.is_impersonating ? (
          <>
            <Avatar user={me} size={30} />
            <span className="user-name">{fullName(me)}</span>
          </>
        ) : (
          <SettingsMenu me={me} onSignOut={() => void logout()} signingOut={signingOut} />
        )}
        <button
          type="button"
          className="button ghost small sign-out"
          onClick={() => void logout()}
          disabled={signingOut}
          title={t('app.signOut')}
        >
          <SignOutIcon />
          <span className="sign-out-text">{signingOut ? t('app.signingOut') : t('app.signOut')}</span>
        </button>
      </div>
    </header>
  );
}

function ImpersonationBanner({ me }: { me: Me }) {
  const { t } = useTranslation();
  const qc = useQueryClient();
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  if (!me.is_impersonating) return null;
  const end = async () => {
    setBusy(true);
    try {
      const pair = await endImpersonation();
      tokens.set(pair);
      qc.clear();
      // A different identity: start from a clean page (socket, caches).
      window.location.assign(`/trainees/${me.id}`);
    } catch (e) {
      setError((e as Error).message);
      setBusy(false);
    }
  };
  return (
    <div className="impersonation-banner" role="status" data-testid="impersonation-banner">
      <span>
        <strong>{t('impersonation.viewingAs', { name: fullName(me) })}</strong> {t('impersonation.readOnly')}
      </span>
      <button type="button" className="button small" onClick={() => void end()} disabled={busy}>
        {busy ? t('impersonation.ending') : t('impersonation.end')}
      </button>
      {error && <span role="alert">{error}</span>}
    </div>
  );
}

function Redirect({ to }: { to: string }) {
  useEffect(() => navigate(to, { replace: true }), [to]);
  return null;
}

function Routes({ me }: { me: Me }) {
  const path = usePath();
  let m: Record<string, string> | null;
  // The admin's home is the console (admins take no part in messaging).
  const admin = me.role === 'admin' && !me.is_impersonating;
  if (path === '/' || path === '/login' || (admin && path === '/messages')) return <Redirect to={admin ? '/admin' : '/messages'} />;
  if (path === '/access-log') return <AccessLogPage />;
  if (path === '/admin' || path.startsWith('/admin/')) {
    if (!admin) return <NotFound />;
    if (path === '/admin') return <AdminUsersPage />;
    if (path === '/admin/audit-log') return <AuditLogPage />;
    if ((m = match('/admin/users/:id', path)) && /^\d+$/.test(m.id)) return <AdminUserPage key={m.id} userId={Number(m.id)} />;
    if ((m = match('/admin/conversations/:id', path)) && /^\d+$/.test(m.id)) return <AdminConversationPage key={m.id} conversationId={Number(m.id)} />;
  }
  if (path === '/messages') return <MessagesPage conversationId={null} newTraineeId={null} />;
  if ((m = match('/messages/new/:traineeId', path))) return <MessagesPage conversationId={null} newTraineeId={Number(m.traineeId)} />;
  if ((m = match('/messages/:id', path))) return <MessagesPage conversationId={Number(m.id)} newTraineeId={null} />;
  if (path === '/trainees') return <TraineesPage />;
  if ((m = match('/trainees/:id', path))) return <TraineeDetailPage key={m.id} traineeId={Number(m.id)} />;
  if (path === '/broadcasts') return <BroadcastsPage />;
  if (path === '/broadcasts/new') return <BroadcastComposerPage />;
  if ((m = match('/broadcasts/:id', path)) && /^\d+$/.test(m.id)) return <BroadcastDetailPage key={m.id} id={Number(m.id)} />;
  return <NotFound />;
}

function NotFound() {
  const { t } = useTranslation();
  return (
    <main className="page">
      <h1>{t('app.notFound')}</h1>
      <Link to="/messages">{t('app.goToMessages')}</Link>
    </main>
  );
}

function Authenticated() {
  const { t } = useTranslation();
  const me = useQuery({ queryKey: keys.me, queryFn: fetchMe, staleTime: Infinity });
  // Pending without an error: loading, the outbox being restored, or waiting for the network.
  if (me.isPending && !me.error)
    return (
      <div className="splash" aria-busy="true">
        {me.fetchStatus === 'paused' ? t('app.loadingOffline') : t('common.loading')}
      </div>
    );
  if (me.error || !me.data)
    return (
      <div className="splash" role="alert">
        <p>{t('app.loadAccountFailed', { message: me.error?.message })}</p>
        <button type="button" className="button secondary" onClick={() => void me.refetch()}>
          {t('common.tryAgain')}
        </button>
      </div>
    );
  return (
    <MeContext.Provider value={me.data}>
      <AnnouncerProvider>
        <RealtimeProvider me={me.data}>
          <div className={`app${me.data.is_impersonating ? ' impersonating' : ''}`}>
            <TopBar me={me.data} />
            <OfflineBanner />
            <ImpersonationBanner me={me.data} />
            <div className="app-body">
              <Routes me={me.data} />
            </div>
          </div>
        </RealtimeProvider>
      </AnnouncerProvider>
    </MeContext.Provider>
  );
}

function AuthGate() {
  const loggedIn = useSyncExternalStore(tokens.subscribe, () => !!tokens.access());
  const path = usePath();
  const qc = useQueryClient();
  useEffect(() => {
    setAuthLostHandler(() => {
      qc.clear();
    });
  }, [qc]);
  useEffect(() => {
    if (!loggedIn && path !== '/login') {
      const next = path === '/' ? '' : `?next=${encodeURIComponent(path + window.location.search)}`;
      navigate(`/login${next}`, { replace: true });
    }
  }, [loggedIn, path]);
  if (!loggedIn) return <LoginPage />;
  return <Authenticated />;
}

/**
 * `persister`: where the outbox is kept (default: IndexedDB when the browser has it; `null`:
 * nowhere). See offline/persist.ts.
 */
export function App({ client, persister }: { client?: QueryClient; persister?: Persister | null }) {
  const [qc] = useState(() => client ?? makeQueryClient());
  return (
    <OfflineQueryProvider client={qc} persister={persister}>
      <AuthGate />
    </OfflineQueryProvider>
  );
}
