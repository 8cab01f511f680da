// Reads the stamp painted by webremote-bench-stamp (bench/latency/stamp.c)
// back from what the browser shows. bench/latency/run.mjs injects it into
// every page with Playwright's addInitScript, after a small script that sets
// window.__wrStampConfig = { mode, screenWidth, screenHeight, block,
// selector }:
//
//   mode 'video'   (webremote): video.requestVideoFrameCallback on the
//                  element matching `selector`; every presented frame is read.
//   mode 'canvas'  (noVNC): the canvas matching `selector` is read on every
//                  requestAnimationFrame.
//
// Only the two stamp rows are copied (drawImage of the source region onto a
// 44-block x 2-row canvas, then one getImageData), so reading costs little.
// The page keeps raw per-frame records; run.mjs computes the statistics.
// The same file loads in Node (no window): it then only defines the pure
// decoder as globalThis.__wrStampCore, used to check an X screenshot.
(function () {
  'use strict';

  const BLOCKS = 44; // [W][B] 32 data bits, 8 CRC bits [B][W]
  const LOW = 80; // luminance at or below: black
  const HIGH = 176; // at or above: white; between: unreadable

  function crc8(v) {
    let crc = 0;
    for (let byte = 3; byte >= 0; byte--) {
      crc ^= (v >>> (8 * byte)) & 0xff;
      for (let i = 0; i < 8; i++) crc = crc & 0x80 ? ((crc << 1) ^ 0x07) & 0xff : (crc << 1) & 0xff;
    }
    return crc;
  }

  /**
   * Decodes one stamp row. `lumAt(px, py)` returns the luminance (0-255)
   * of a source pixel; the row's top-left corner is at (x0, y0) in screen
   * pixels, blocks are `block` screen pixels, and one screen pixel is
   * (sx, sy) source pixels (a scaled video). Averages the centre half of
   * each block. Returns the 32-bit value, or null when a block is
   * unreadable (neither dark nor light), a marker is wrong or the CRC fails;
   * then `why.reason` (when given) says which: 'grey', 'marker' or 'crc'.
   */
  function decodeRow(lumAt, x0, y0, block, sx = 1, sy = 1, why = null) {
    const fail = (reason) => {
      if (why) why.reason = reason;
      return null;
    };
    const half = block / 2;
    const off = (block - half) / 2;
    const py0 = Math.floor((y0 + off) * sy);
    const py1 = Math.max(py0 + 1, Math.ceil((y0 + off + half) * sy));
    let value = 0;
    let crc = 0;
    for (let i = 0; i < BLOCKS; i++) {
      const px0 = Math.floor((x0 + i * block + off) * sx);
      const px1 = Math.max(px0 + 1, Math.ceil((x0 + i * block + off + half) * sx));
      let sum = 0;
      let n = 0;
      for (let y = py0; y < py1; y++) {
        for (let x = px0; x < px1; x++) {
          sum += lumAt(x, y);
          n++;
        }
      }
      const lum = sum / n;
      let bit;
      if (lum <= LOW) bit = 0;
      else if (lum >= HIGH) bit = 1;
      else return fail('grey');
      if (i === 0 || i === BLOCKS - 1) {
        if (bit !== 1) return fail('marker');
      } else if (i === 1 || i === BLOCKS - 2) {
        if (bit !== 0) return fail('marker');
      } else if (i - 2 < 32) {
        value = ((value << 1) | bit) >>> 0;
      } else {
        crc = (crc << 1) | bit;
      }
    }
    return crc8(value) === crc ? value : fail('crc');
  }

  /** lumAt() over RGBA bytes `stride` pixels wide. */
  function rgbaLum(data, stride) {
    return (x, y) => {
      const p = (y * stride + x) * 4;
      return (data[p] * 299 + data[p + 1] * 587 + data[p + 2] * 114) / 1000;
    };
  }

  /** now (unix ms, fractional) minus a stamp (low 32 bits of unix ms). */
  function latencyOf(nowMs, value) {
    const M = 4294967296;
    let d = (((nowMs - value) % M) + M) % M;
    if (d >= M / 2) d -= M;
    return d;
  }

  const core = { BLOCKS, crc8, decodeRow, rgbaLum, latencyOf };
  if (typeof window === 'undefined') {
    globalThis.__wrStampCore = core;
    return;
  }

  const cfg = window.__wrStampConfig;
  if (!cfg) return;
  const B = cfg.block || 16;
  const W = BLOCKS * B;

  const st = {
    // Session start marks (unix ms).
    wsOpenedAt: null, // new WebSocket()
    requestAt: null, // first send() carrying session.request
    firstFrameAt: null, // first frame with a readable stamp
    firstAnyFrameAt: null, // first frame at all
    // Per-frame records while `recording`: [t, top, bottom, edt, recv]
    // t: rVFC/rAF time as unix ms; top/bottom: decoded values or -1;
    // edt: expectedDisplayTime (unix ms) for video; recv: receiveTime.
    recording: false,
    frames: [],
    callbacks: 0,
    readMs: 0, // time spent reading stamps (the reader's own cost)
    attached: null,
    lastRead: null, // [top, bottom] of the latest read
    readPath: null, // how video frames are read
    unreadableWhy: {}, // reason -> count
  };
  window.__wrStamp = st;

  // time origin of performance.now() as unix ms
  const origin = performance.timeOrigin;
  st.clockSkewMs = Date.now() - (origin + performance.now());

  // Session request and WebSocket creation times.
  const NativeWS = window.WebSocket;
  window.WebSocket = function (...args) {
    if (st.wsOpenedAt === null) st.wsOpenedAt = origin + performance.now();
    return new NativeWS(...args);
  };
  window.WebSocket.prototype = NativeWS.prototype;
  Object.assign(window.WebSocket, { CONNECTING: 0, OPEN: 1, CLOSING: 2, CLOSED: 3 });
  const nativeSend = NativeWS.prototype.send;
  NativeWS.prototype.send = function (data) {
    if (st.requestAt === null && typeof data === 'string' && data.includes('"session.request"')) {
      st.requestAt = origin + performance.now();
    }
    return nativeSend.call(this, data);
  };

  let work = null;
  let workCtx = null;

  function ensureCanvas() {
    if (work) return;
    work = document.createElement('canvas');
    work.width = W;
    work.height = 2 * B;
    workCtx = work.getContext('2d', { willReadFrequently: true, alpha: false });
  }

  // Copies both stamp regions of `src` (srcW x srcH pixels, showing a
  // screenWidth x screenHeight screen) and decodes them.
  function read(src, srcW, srcH) {
    const t0 = performance.now();
    ensureCanvas();
    const sx = srcW / cfg.screenWidth;
    const sy = srcH / cfg.screenHeight;
    workCtx.drawImage(src, B * sx, B * sy, W * sx, B * sy, 0, 0, W, B);
    workCtx.drawImage(src, B * sx, (cfg.screenHeight - 2 * B) * sy, W * sx, B * sy, 0, B, W, B);
    const img = workCtx.getImageData(0, 0, W, 2 * B).data;
    const lum = rgbaLum(img, W);
    const why = {};
    const top = decodeRow(lum, 0, 0, B, 1, 1, why);
    st.lastWhy = why.reason;
    const bottom = decodeRow(lum, 0, B, B);
    st.readMs += performance.now() - t0;
    st.lastRead = [top === null ? -1 : top, bottom === null ? -1 : bottom];
    return st.lastRead;
  }

  // Video: copy only the two stamp rectangles of the decoded frame, in its
  // own pixel format (WebCodecs VideoFrame.copyTo with a rect), and read the
  // luma plane. drawImage(video) would convert the whole frame to RGB
  // first (~8 ms per 720p frame here), which would load the machine.
  const even = (x) => x & ~1;
  async function readFrameLuma(frame, vis, y0, noteWhy) {
    const sx = vis.width / cfg.screenWidth;
    const sy = vis.height / cfg.screenHeight;
    const rx = even(vis.x + Math.max(0, Math.floor(B * sx) - 2));
    const ry = even(vis.y + Math.max(0, Math.floor(y0 * sy) - 2));
    const rx1 = Math.min(vis.x + vis.width, even(vis.x + Math.ceil((B + W) * sx) + 4));
    const ry1 = Math.min(vis.y + vis.height, even(vis.y + Math.ceil((y0 + B) * sy) + 4));
    const rect = { x: rx, y: ry, width: rx1 - rx, height: ry1 - ry };
    const buf = new Uint8Array(frame.allocationSize({ rect }));
    const layout = await frame.copyTo(buf, { rect });
    const { offset, stride } = layout[0];
    const full = frame.colorSpace?.fullRange === true;
    const lumAt = full
      ? (x, y) => buf[offset + (y - ry) * stride + (x - rx)]
      : (x, y) => (buf[offset + (y - ry) * stride + (x - rx)] - 16) * 255 / 219;
    const why = {};
    const v = decodeRow((x, y) => lumAt(x + vis.x, y + vis.y), B, y0, B, sx, sy, why);
    if (noteWhy) st.lastWhy = why.reason;
    return v === null ? -1 : v;
  }

  let copyToWorks = true;
  async function readVideo(video) {
    if (copyToWorks && typeof VideoFrame !== 'undefined') {
      const t0 = performance.now();
      let frame = null;
      try {
        frame = new VideoFrame(video);
        if (/^(I420|I420A|I422|I444|NV12)$/.test(frame.format || '')) {
          const vis = frame.visibleRect;
          const [top, bottom] = await Promise.all([
            readFrameLuma(frame, vis, B, true),
            readFrameLuma(frame, vis, cfg.screenHeight - 2 * B, false),
          ]);
          st.readMs += performance.now() - t0;
          st.readPath = 'VideoFrame.copyTo ' + frame.format;
          st.lastRead = [top, bottom];
          return st.lastRead;
        }
        copyToWorks = false;
        st.readPath = 'drawImage (frame format ' + frame.format + ')';
      } catch (err) {
        copyToWorks = false;
        st.readPath = 'drawImage (' + err + ')';
      } finally {
        frame?.close();
      }
    }
    return read(video, video.videoWidth, video.videoHeight);
  }

  // Why the top stamp did not decode, counted while recording.
  function noteUnreadable(reason) {
    if (!st.recording) return;
    st.unreadableWhy[reason] = (st.unreadableWhy[reason] || 0) + 1;
  }

  function record(t, top, bottom, edt, recv) {
    if (top < 0) noteUnreadable(st.lastWhy);
    st.callbacks++;
    if (st.firstAnyFrameAt === null) st.firstAnyFrameAt = t;
    if (st.firstFrameAt === null && top >= 0) st.firstFrameAt = t;
    if (st.recording) st.frames.push([t, top, bottom, edt, recv]);
  }

  function attachVideo(video) {
    st.attached = 'video';
    const onFrame = (now, meta) => {
      if (video.isConnected) video.requestVideoFrameCallback(onFrame);
      if (video.videoWidth > 0) {
        const t = origin + now;
        const edt = meta.expectedDisplayTime !== undefined ? origin + meta.expectedDisplayTime : null;
        const recv = meta.receiveTime !== undefined ? origin + meta.receiveTime : null;
        readVideo(video).then(([top, bottom]) => record(t, top, bottom, edt, recv));
      }
    };
    video.requestVideoFrameCallback(onFrame);
  }

  function attachCanvas(canvas) {
    st.attached = 'canvas';
    let last = -2;
    let lastBottom = -2;
    const onFrame = (now) => {
      if (!canvas.isConnected) {
        st.attached = null;
        return;
      }
      if (canvas.width > 0 && canvas.height > 0) {
        const [top, bottom] = read(canvas, canvas.width, canvas.height);
        // A canvas is read on every animation frame: only a change is a
        // new frame.
        if (top !== last || bottom !== lastBottom) {
          last = top;
          lastBottom = bottom;
          record(origin + now, top, bottom, null, null);
        }
      }
      requestAnimationFrame(onFrame);
    };
    requestAnimationFrame(onFrame);
  }

  // Wait for the element (the web client renders it after the session
  // starts; noVNC adds its canvas on connect); re-attach if replaced.
  let current = null;
  function poll() {
    const el = document.querySelector(cfg.selector);
    if (el && el !== current) {
      current = el;
      if (cfg.mode === 'video') attachVideo(el);
      else attachCanvas(el);
    }
  }
  setInterval(poll, 20);

  st.reset = () => {
    st.wsOpenedAt = st.requestAt = st.firstFrameAt = st.firstAnyFrameAt = null;
    st.frames = [];
    st.callbacks = 0;
    st.readMs = 0;
  };
  st.begin = () => {
    st.frames = [];
    st.unreadableWhy = {};
    st.callbacks = 0;
    st.readMs = 0;
    st.recording = true;
    return origin + performance.now();
  };
  st.end = () => {
    st.recording = false;
    return origin + performance.now();
  };
})();
