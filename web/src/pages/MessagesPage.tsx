import { useTranslation } from 'react-i18next';
import { ChatPane } from '../components/ChatPane';
import { ConversationList, type ListView } from '../components/ConversationList';
import { ChatIcon } from '../components/icons';
import { NewConversationPane } from '../components/NewConversationPane';
import { useMeUser } from '../data/me';
import { useSearch } from '../router';

/**
 * `/messages`, `/messages/:id`, `/messages/new/:traineeId`. Desktop: list (320 px) beside the
 * chat. Phone width: the list, or the chat with a back button.
 */
export function MessagesPage({ conversationId, newTraineeId }: { conversationId: number | null; newTraineeId: number | null }) {
  const { t } = useTranslation();
  const me = useMeUser();
  const search = useSearch();
  const param = new URLSearchParams(search).get('view');
  // Only trainers have the archive and the "needs reply" inbox.
  const view: ListView = me.role === 'trainer' && (param === 'archived' || param === 'needs-reply') ? param : 'active';
  const backTo = view === 'active' ? '/messages' : `/messages?view=${view}`;
  const hasChat = conversationId != null || newTraineeId != null;
  return (
    <div className={`messages-layout${hasChat ? ' has-chat' : ''}`}>
      <ConversationList me={me} selectedId={conversationId} view={view} />
      {conversationId != null ? (
        <ChatPane key={conversationId} conversationId={conversationId} me={me} backTo={backTo} />
      ) : newTraineeId != null ? (
        <NewConversationPane key={`new-${newTraineeId}`} traineeId={newTraineeId} me={me} backTo={backTo} />
      ) : (
        <section className="chat-pane chat-placeholder" aria-label={t('messages.noneSelected')}>
          <div className="chat-empty">
            <ChatIcon />
            <p>{t('messages.selectPrompt')}</p>
          </div>
        </section>
      )}
    </div>
  );
}
