/** The conversation the reader has open and in view right now (null when none). */
let viewing: number | null = null;

export function setViewing(id: number | null): void {
  viewing = id;
}

export function isViewing(id: number): boolean {
  return (
    viewing === id &&
    typeof document !== 'undefined' &&
    document.visibilityState === 'visible' &&
    document.hasFocus()
  );
}
