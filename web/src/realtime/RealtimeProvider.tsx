import { useQueryClient, type QueryClient } from '@tanstack/react-query';
import { createContext, useContext, useEffect, useEffectEvent, useMemo, useState, useSyncExternalStore, type ReactNode } from 'react';
import { refreshTokens } from '../api/client';
import { tokens } from '../api/tokens';
import type { Conversation, Me, ServerFrame } from '../api/types';
import { applyMessageDeleted, applyMessageEdited, catchUp, ingestMessages } from '../data/actions';
import { applyBroadcast, applyScheduled, removeFromNeedsReply } from '../data/coaching';
import { announce } from '../data/announcer';
import { setFocusSink } from '../data/viewing';
import { keys } from '../data/keys';
import {
  applyDeliveryReceipt,
  applyReadReceipt,
  markOthersRead,
  previewOf,
  type MessagesState,
} from '../lib/merge';
import { fullName } from '../lib/users';
import { RealtimeClient, userSocketUrl, type SocketStatus } from './socket';
import { typingStore } from './typing';

interface RealtimeValue {
  client: RealtimeClient | null;
  status: SocketStatus;
}

const Ctx = createContext<RealtimeValue>({ client: null, status: 'stopped' });

export const useRealtime = () => useContext(Ctx);

/** Apply one socket frame to the query cache. Exported for tests. */
export function applyFrame(qc: QueryClient, me: Me, f: ServerFrame): void {
  switch (f.type) {
    case 'new_message': {
      const m = f.message;
      const cid = f.conversation_id ?? m.conversation_id;
      ingestMessages(qc, me, cid, [m]);
      if (m.sender) typingStore.set(cid, m.sender.id, false);
      if (m.sender && m.sender.id !== me.id) {
        announce(`New message from ${fullName(m.sender)}: ${m.content ? m.content.slice(0, 140) : previewOf(m)}`);
      }
      break;
    }
    case 'typing_indicator':
      if (f.user_id !== me.id) typingStore.set(f.conversation_id, f.user_id, f.is_typing);
      break;
    case 'read_receipt':
      if (f.reader_id !== me.id) {
        qc.setQueryData<MessagesState>(keys.messages(f.conversation_id), (s) =>
          s ? { ...s, messages: applyReadReceipt(s.messages, f.reader_id, f.read_at) } : s,
        );
      } else {
        // I read it elsewhere (another tab).
        qc.setQueryData<MessagesState>(keys.messages(f.conversation_id), (s) =>
          s ? { ...s, messages: markOthersRead(s.messages, me.id, f.read_at) } : s,
        );
        qc.setQueryData<Conversation[]>(keys.conversations(false), (list) =>
          list?.map((c) => (c.id === f.conversation_id ? { ...c, unread_count: 0 } : c)),
        );
      }
      break;
    case 'delivery_receipt':
      qc.setQueryData<MessagesState>(keys.messages(f.conversation_id), (s) =>
        s ? { ...s, messages: applyDeliveryReceipt(s.messages, me.id, f.up_to_message_id, f.delivered_at) } : s,
      );
      break;
    case 'unread_count':
      qc.setQueryData(keys.unread, { unread_count: f.unread_count });
      break;
    case 'conversation_archived':
      qc.setQueryData(keys.archivedFlag(f.conversation_id), true);
      qc.setQueryData<Conversation[]>(keys.conversations(false), (list) =>
        list?.filter((c) => c.id !== f.conversation_id),
      );
      removeFromNeedsReply(qc, f.conversation_id);
      void qc.invalidateQueries({ queryKey: keys.allConversations });
      void qc.invalidateQueries({ queryKey: keys.unread });
      break;
    case 'message_edited':
      applyMessageEdited(qc, f.conversation_id, f.message_id, f.content, f.edited_at);
      break;
    case 'message_deleted':
      applyMessageDeleted(qc, f.conversation_id, f.message_id);
      break;
    case 'broadcast_progress':
      if (f.broadcast) {
        applyBroadcast(qc, f.broadcast);
        // The trainer's own sockets get no echo of each copy (a broadcast may reach thousands):
        // as it moves on, the lists and the open chat are read again instead.
        if (f.broadcast.sent > 0 && (f.broadcast.state === 'sending' || f.broadcast.state === 'done')) {
          void qc.invalidateQueries({ queryKey: keys.allConversations });
          void qc.invalidateQueries({ queryKey: keys.allMessages });
        }
      }
      break;
    case 'scheduled_message':
      if (f.scheduled) applyScheduled(qc, f.scheduled);
      break;
    default:
      break; // pong, ack, error: nothing to do (sends go over REST)
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
  const status = useSyncExternalStore(
    (changed) => client.onStatus(changed),
    () => client.status,
  );
  // The identity is fixed for this component (keyed above); `me` may be a fresher copy of it.
  const onFrame = useEffectEvent((f: ServerFrame) => applyFrame(qc, me, f));
  const onOpen = useEffectEvent((reconnected: boolean) => {
    if (reconnected) announce('Connection restored.');
    // A new connection knows nothing of what is in view: tell it (and every change).
    setFocusSink((id) => client.send({ type: 'focus', conversation_id: id }));
    // Anything sent between the first REST load (or the drop) and now: fetch it.
    void catchUp(qc, me);
  });
  const poll = useEffectEvent(() => void catchUp(qc, me));

  useEffect(() => {
    const offs = [
      client.onFrame(onFrame),
      client.onStatus((s) => {
        if (s !== 'open') typingStore.clearAll();
      }),
      client.onOpen(onOpen),
    ];
    client.start();
    return () => {
      setFocusSink(null);
      offs.forEach((off) => off());
      client.stop();
    };
  }, [client]);

  // No socket could ever connect: poll over REST until one does.
  useEffect(() => {
    if (status !== 'polling') return;
    const t = setInterval(poll, 5000);
    return () => clearInterval(t);
  }, [status]);

  const value = useMemo(() => ({ client, status }), [client, status]);
  return <Ctx.Provider value={value}>{children}</Ctx.Provider>;
}
