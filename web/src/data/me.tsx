import { createContext, useContext } from 'react';
import type { Me } from '../api/types';

export const MeContext = createContext<Me | null>(null);

/** The logged-in user (inside the authenticated shell only). */
export function useMeUser(): Me {
  const me = useContext(MeContext);
  if (!me) throw new Error('useMeUser outside the authenticated shell');
  return me;
}
