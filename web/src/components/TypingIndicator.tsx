import { useTranslation } from 'react-i18next';

export function TypingIndicator({ name }: { name: string | null }) {
  const { t } = useTranslation();
  return (
    <div className="typing-slot" role="status" aria-live="polite">
      {name && (
        <div className="typing-indicator" data-testid="typing-indicator">
          <span className="dots" aria-hidden="true">
            <i />
            <i />
            <i />
          </span>
          <span>{t('chat.isTyping', { name })}</span>
        </div>
      )}
    </div>
  );
}
