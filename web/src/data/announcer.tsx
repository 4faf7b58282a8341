import { createContext, useContext, useState, type ReactNode } from 'react';

const Announce = createContext<(text: string) => void>(() => {});

/** Say something to screen readers (new messages, connection changes) in the polite live region. */
export const useAnnounce = () => useContext(Announce);

/** The polite aria-live region, and `useAnnounce` for everything inside. */
export function AnnouncerProvider({ children }: { children: ReactNode }) {
  const [text, setText] = useState('');
  return (
    <Announce.Provider value={setText}>
      {children}
      <div className="visually-hidden" aria-live="polite" aria-atomic="true">
        {text}
      </div>
    </Announce.Provider>
  );
}
