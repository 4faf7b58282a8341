export function TypingIndicator({ name }: { name: string | null }) {
  return (
    <div className="typing-slot" role="status" aria-live="polite">
      {name && (
        <div className="typing-indicator" data-testid="typing-indicator">
          <span className="dots" aria-hidden="true">
            <i />
            <i />
            <i />
          </span>
          <span>{name} is typing…</span>
        </div>
      )}
    </div>
  );
}
