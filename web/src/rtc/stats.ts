// Turns RTCPeerConnection.getStats() into the numbers the status bar shows
// (W3C webrtc-stats: inbound-rtp, codec, candidate-pair, local-candidate).

export interface SessionStats {
  transport: string | null;
  codec: string | null;
  width: number | null;
  height: number | null;
  fps: number | null;
  bitrateMbps: number | null;
  rttMs: number | null;
  framesDecoded: number | null;
  packetsLost: number | null;
}

export interface StatsSample {
  bytes: number;
  at: number; // ms, the report's timestamp
}

type Report = Record<string, unknown> & { id: string; type: string };

function num(v: unknown): number | null {
  return typeof v === 'number' && Number.isFinite(v) ? v : null;
}

function str(v: unknown): string | null {
  return typeof v === 'string' && v.length > 0 ? v : null;
}

function describeCodec(codec: Report | undefined): string | null {
  if (!codec) return null;
  const mime = str(codec.mimeType);
  if (!mime) return null;
  const name = mime.replace(/^video\//i, '');
  const fmtp = str(codec.sdpFmtpLine) ?? '';
  const profile = /profile-level-id=([0-9a-fA-F]{6})/.exec(fmtp);
  return profile ? `${name} ${profile[1].toLowerCase()}` : name;
}

function describeTransport(pair: Report | undefined, byId: Map<string, Report>): string | null {
  if (!pair) return null;
  const local = byId.get(String(pair.localCandidateId));
  if (!local) return null;
  const type = str(local.candidateType) ?? '?';
  const protocol = str(local.protocol) ?? '?';
  if (type === 'relay') {
    const relayProto = str(local.relayProtocol);
    return relayProto ? `relay ${relayProto} (${protocol})` : `relay ${protocol}`;
  }
  return `${type} ${protocol}`;
}

/**
 * Reads one snapshot. `previous` is the last sample (for the bitrate); the
 * function returns the new sample to pass next time.
 */
export async function readStats(
  pc: RTCPeerConnection,
  previous: StatsSample | null,
): Promise<{ stats: SessionStats; sample: StatsSample | null }> {
  const report = await pc.getStats();
  const byId = new Map<string, Report>();
  report.forEach((r: Report) => byId.set(r.id, r));

  let inbound: Report | undefined;
  let transport: Report | undefined;
  let nominatedPair: Report | undefined;
  for (const r of byId.values()) {
    if (r.type === 'inbound-rtp' && (r.kind === 'video' || r.mediaType === 'video')) inbound = r;
    else if (r.type === 'transport') transport = r;
    else if (r.type === 'candidate-pair' && r.nominated === true && r.state === 'succeeded') nominatedPair = r;
  }
  const pair = (transport && byId.get(String(transport.selectedCandidatePairId))) || nominatedPair;

  let bitrateMbps: number | null = null;
  let sample: StatsSample | null = null;
  const bytes = num(inbound?.bytesReceived);
  const at = num(inbound?.timestamp);
  if (bytes !== null && at !== null) {
    sample = { bytes, at };
    if (previous && at > previous.at && bytes >= previous.bytes) {
      bitrateMbps = ((bytes - previous.bytes) * 8) / ((at - previous.at) / 1000) / 1e6;
    }
  }
  const rtt = num(pair?.currentRoundTripTime);

  return {
    stats: {
      transport: describeTransport(pair, byId),
      codec: describeCodec(inbound ? byId.get(String(inbound.codecId)) : undefined),
      width: num(inbound?.frameWidth),
      height: num(inbound?.frameHeight),
      fps: num(inbound?.framesPerSecond),
      bitrateMbps,
      rttMs: rtt === null ? null : rtt * 1000,
      framesDecoded: num(inbound?.framesDecoded),
      packetsLost: num(inbound?.packetsLost),
    },
    sample,
  };
}
