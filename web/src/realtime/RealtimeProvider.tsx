import { useQueryClient } from '@tanstack/react-query';
import { createContext, useContext, useEffect, useEffectEvent, useMemo, useState, useSyncExternalStore, type ReactNode } from 'react';
import { refreshTokens } from '../api/client';
import { tokens } from '../api/tokens';
import type { Me, ServerFrame } from '../api/types';
import { useAnnounce } from '../data/announcer';
import { ViewTracker } from '../data/viewing';
import { previewOf } from '../lib/merge';
import { fullName } from '../lib/users';
import { RealtimeClient, userSocketUrl, type SocketStatus } from './socket';
import { catchUp, frameToCache, type CacheTarget } from './toCache';
import { TypingStore } from './typing';

interface RealtimeValue {
  client: RealtimeClient | null;
  status: SocketStatus;
  /** Who is typing where (typing_indicator frames). */
  typing: TypingStore | null;
  /** The conversation in view: the chat sets it, the server is told it. */
  view: ViewTracker | null;
}

const Ctx = createContext<RealtimeValue>({ client: null, status: 'stopped', typing: null, view: null });

export const useRealtime = () => useContext(Ctx);

/** A frame's effects outside the cache: who is typing, and a spoken note of a new message. */
function frameToScreen(typing: TypingStore, announce: (text: string) => void, me: Me, f: ServerFrame): void {
  if (f.type === 'typing_indicator') {
    if (f.user_id !== me.id) typing.set(f.conversation_id, f.user_id, f.is_typing);
  } else if (f.type === 'new_message' && f.message.sender) {
    const m = f.message;
    typing.set(f.conversation_id ?? m.conversation_id, m.sender.id, false);
    if (m.sender.id !== me.id) {
      announce(`New message from ${fullName(m.sender)}: ${m.content ? m.content.slice(0, 140) : previewOf(m)}`);
    }
  }
}

function newClient(): RealtimeClient {
  return new RealtimeClient({
    url: () => {
      const a = tokens.access();
      return a ? userSocketUrl(a) : null;
    },
    refreshToken: refreshTokens,
    onAuthLost: () => {
      tokens.clear();
    },
  });
}

/** Owns the per-user socket while a user is logged in, and feeds its frames into the cache. */
export function RealtimeProvider({ me, children }: { me: Me; children: ReactNode }) {
  // One socket per logged-in identity: another one starts from a fresh client.
  return (
    <IdentitySocket key={`${me.id}:${me.is_impersonating ? 'as' : 'own'}`} me={me}>
      {children}
    </IdentitySocket>
  );
}

function IdentitySocket({ me, children }: { me: Me; children: ReactNode }) {
  const qc = useQueryClient();
  const [client] = useState(newClient);
  const [typing] = useState(() => new TypingStore());
  const [view] = useState(() => new ViewTracker());
  const announce = useAnnounce();
  const status = useSyncExternalStore(
    (changed) => client.onStatus(changed),
    () => client.status,
  );
  // The identity is fixed for this component (keyed above); `me` may be a fresher copy of it.
  const target = (): CacheTarget => ({ qc, me, isViewing: view.isViewing });
  const onFrame = useEffectEvent((f: ServerFrame) => {
    frameToCache(target(), f);
    frameToScreen(typing, announce, me, f);
  });
  const onOpen = useEffectEvent((reconnected: boolean) => {
    if (reconnected) announce('Connection restored.');
    // A new connection knows nothing of what is in view: tell it (and every change).
    view.setSink((id) => client.send({ type: 'focus', conversation_id: id }));
    // Anything sent between the first REST load (or the drop) and now: fetch it.
    void catchUp(target());
  });
  const poll = useEffectEvent(() => void catchUp(target()));

  useEffect(() => {
    const offs = [
      client.onFrame(onFrame),
      client.onStatus((s) => {
        if (s !== 'open') typing.clearAll();
      }),
      client.onOpen(onOpen),
    ];
    view.start();
    client.start();
    return () => {
      view.setSink(null);
      view.stop();
      offs.forEach((off) => off());
      client.stop();
    };
  }, [client, typing, view]);

  // No socket could ever connect: poll over REST until one does.
  useEffect(() => {
    if (status !== 'polling') return;
    const t = setInterval(poll, 5000);
    return () => clearInterval(t);
  }, [status]);

  const value = useMemo(() => ({ client, status, typing, view }), [client, status, typing, view]);
  return <Ctx.Provider value={value}>{children}</Ctx.Provider>;
}
