// Machines (agents) and live sessions.

import { request } from './http';
import type { Agent, SessionInfo } from './types';

const agentPath = (id: string) => '/api/v1/agents/' + encodeURIComponent(id);

/** Only the agents the signed-in user may view: the gateway filters. */
export async function listAgents(): Promise<Agent[]> {
  const res = await request<{ agents: Agent[] }>('/api/v1/agents');
  return Array.isArray(res?.agents) ? res.agents : [];
}

export function getAgent(id: string): Promise<Agent> {
  return request<Agent>(agentPath(id));
}

/** Admin: moves an agent into another group. */
export function setAgentGroup(id: string, group: string): Promise<Agent> {
  return request<Agent>(agentPath(id) + '/group', { method: 'PUT', body: { group } });
}

export async function listSessions(): Promise<SessionInfo[]> {
  const res = await request<{ sessions: SessionInfo[] }>('/api/v1/sessions');
  return Array.isArray(res?.sessions) ? res.sessions : [];
}
