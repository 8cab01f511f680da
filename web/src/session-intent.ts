// Hands the reason typed on the machine list to the session page without
// putting it in the URL (and so in the history).

const reasons = new Map<string, string>();

export function setSessionReason(agent: string, reason: string): void {
  reasons.set(agent, reason);
}

/** The reason for this agent's next session, once. */
export function takeSessionReason(agent: string): string | undefined {
  const r = reasons.get(agent);
  reasons.delete(agent);
  return r;
}
