import { useState } from 'react';
import type { UserSummary } from '../api/types';
import { fullName, initials } from '../lib/users';

const PALETTE = ['#0f766e', '#7c3aed', '#c2410c', '#0369a1', '#be123c', '#4d7c0f', '#a16207', '#4338ca'];

type Who = Pick<UserSummary, 'id' | 'first_name' | 'last_name' | 'profile_image'> & { email?: string };

/** Profile picture, or initials on a colour chosen by user id. Decorative: the name is beside it. */
export function Avatar({ user, size = 40 }: { user: Who | null | undefined; size?: number }) {
  const [broken, setBroken] = useState(false);
  const style = { width: size, height: size, fontSize: Math.round(size * 0.4) };
  if (user?.profile_image && !broken) {
    return (
      <img
        className="avatar"
        src={user.profile_image}
        alt=""
        aria-hidden="true"
        style={style}
        onError={() => setBroken(true)}
      />
    );
  }
  const bg = user ? PALETTE[Math.abs(user.id) % PALETTE.length] : '#94a3b8';
  return (
    <span className="avatar avatar-initials" aria-hidden="true" style={{ ...style, background: bg }} title={fullName(user)}>
      {initials(user)}
    </span>
  );
}
