import { useQuery } from '@tanstack/react-query';
import { useRef, useState } from 'react';
import { fetchTrainee } from '../api/endpoints';
import type { Me, PendingImage } from '../api/types';
import { useTemplates } from '../data/coaching';
import { keys } from '../data/keys';
import { useStartConversation } from '../data/mutations';
import { newClientMessageId } from '../lib/ids';
import { fullName } from '../lib/users';
import { navigate } from '../router';
import { ChatHeader, readOnlyReason } from './ChatPane';
import { ChatInput, type ChatInputHandle } from './ChatInput';
import { ChatIcon } from './icons';
import { DropOverlay, usePhotoDrop } from './PhotoDrop';
import { SavedRepliesDialog } from './SavedReplies';

/** No conversation with this trainee yet: the first message sent here starts it. */
export function NewConversationPane({ traineeId, me, backTo }: { traineeId: number; me: Me; backTo: string }) {
  const trainee = useQuery({ queryKey: keys.trainee(traineeId), queryFn: () => fetchTrainee(traineeId) });
  const [error, setError] = useState<string | null>(null);
  const [progress, setProgress] = useState<number | null>(null);
  const inputRef = useRef<ChatInputHandle>(null);
  const reason = me.role !== 'trainer' ? 'Only trainers can start conversations.' : readOnlyReason(me, false, null);
  const drop = usePhotoDrop((file) => inputRef.current?.attach(file), !reason && !trainee.error);
  const templates = useTemplates(!reason);
  const [managing, setManaging] = useState(false);

  const start = useStartConversation();
  const onSend = async (text: string, image?: PendingImage): Promise<boolean> => {
    setError(null);
    setProgress(image ? 0 : null);
    try {
      const res = await start.mutateAsync({
        traineeId,
        content: text,
        clientMessageId: newClientMessageId(),
        image,
        onProgress: setProgress,
      });
      navigate(`/messages/${res.conversation_id}`, { replace: true });
      return true;
    } catch (e) {
      setError((e as Error).message);
      return false;
    } finally {
      setProgress(null);
    }
  };

  const name = trainee.data ? fullName(trainee.data) : '…';
  return (
    <section className="chat-pane" aria-label={`New conversation with ${name}`} {...drop.handlers}>
      {drop.dragging && <DropOverlay />}
      <ChatHeader user={trainee.data ?? null} backTo={backTo} subtitle="New conversation" />
      <div className="chat-empty">
        <ChatIcon />
        {trainee.error ? (
          <p role="alert">{(trainee.error).message}</p>
        ) : (
          <p>
            No messages with {name} yet.
            <br />
            Your first message starts the conversation.
          </p>
        )}
        {error && (
          <p className="form-error" role="alert">
            {error}
          </p>
        )}
      </div>
      <ChatInput
        ref={inputRef}
        onSend={onSend}
        progress={progress}
        disabled={!!reason || !!trainee.error}
        disabledReason={reason ?? undefined}
        placeholder={trainee.data ? `Message ${trainee.data.first_name || name}…` : undefined}
        autoFocus
        savedReplies={reason ? undefined : (templates.data ?? [])}
        savedRepliesLoading={templates.isLoading}
        onManageSavedReplies={reason ? undefined : () => setManaging(true)}
        recipientFirstName={trainee.data?.first_name || undefined}
      />
      {managing && (
        <SavedRepliesDialog
          onClose={() => {
            setManaging(false);
            inputRef.current?.focus();
          }}
        />
      )}
    </section>
  );
}
