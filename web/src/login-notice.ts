// A message for the sign-in page after a forced sign-out the user asked
// for (a password change revokes every session).

let notice: string | null = null;

export function setLoginNotice(message: string): void {
  notice = message;
}

export function takeLoginNotice(): string | null {
  const n = notice;
  notice = null;
  return n;
}
