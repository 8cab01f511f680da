// Captures pointer and keyboard input over the remote screen and turns it into
// input-channel messages (docs/protocol.md, "The input channel").

import { BUTTON_BITS, bitFromDomButton, xButtonFromDomButton } from './buttons';
import { videoPointFromClient, type VideoPoint } from './geometry';

export type InputSender = (msg: Record<string, unknown>) => boolean;

export interface InputOptions {
  pointer: boolean;
  keyboard: boolean;
}

// At most this many pointer.move per second, on top of the one-per-frame
// coalescing (a 240 Hz display would otherwise send 240/s).
const MAX_MOVES_PER_SECOND = 120;
const PIXELS_PER_NOTCH = 100;
const LINES_PER_NOTCH = 3;
const MAX_NOTCHES = 100;

export class InputController {
  private video: HTMLVideoElement | null = null;
  private focusTarget: HTMLElement | null = null;
  private options: InputOptions = { pointer: true, keyboard: true };
  private heldButtons = 0; // MouseEvent.buttons bits we told the agent are down
  private heldKeys = new Set<string>();
  private pendingMove: VideoPoint | null = null;
  private lastSentMove: VideoPoint | null = null;
  private lastMoveAt = 0;
  private frame = 0;
  private wheelX = 0;
  private wheelY = 0;

  constructor(private readonly send: InputSender) {}

  setOptions(options: InputOptions): void {
    const wasKeyboard = this.options.keyboard;
    const wasPointer = this.options.pointer;
    this.options = { ...options };
    if ((wasKeyboard && !options.keyboard && this.heldKeys.size > 0) || (wasPointer && !options.pointer && this.heldButtons)) {
      this.reset();
    }
  }

  attach(video: HTMLVideoElement, focusTarget: HTMLElement): void {
    this.detach();
    this.video = video;
    this.focusTarget = focusTarget;
    video.addEventListener('pointerdown', this.onPointerDown);
    video.addEventListener('pointerup', this.onPointerUp);
    video.addEventListener('pointercancel', this.onPointerCancel);
    video.addEventListener('pointermove', this.onPointerMove);
    video.addEventListener('wheel', this.onWheel, { passive: false });
    video.addEventListener('contextmenu', this.onContextMenu);
    // Back/forward buttons would navigate the page on mouseup.
    video.addEventListener('mousedown', this.onMouseButton);
    video.addEventListener('mouseup', this.onMouseButton);
    video.addEventListener('auxclick', this.onMouseButton);
    document.addEventListener('keydown', this.onKey, true);
    document.addEventListener('keyup', this.onKey, true);
    window.addEventListener('blur', this.onBlur);
    document.addEventListener('visibilitychange', this.onVisibility);
  }

  detach(): void {
    const video = this.video;
    if (video) {
      video.removeEventListener('pointerdown', this.onPointerDown);
      video.removeEventListener('pointerup', this.onPointerUp);
      video.removeEventListener('pointercancel', this.onPointerCancel);
      video.removeEventListener('pointermove', this.onPointerMove);
      video.removeEventListener('wheel', this.onWheel);
      video.removeEventListener('contextmenu', this.onContextMenu);
      video.removeEventListener('mousedown', this.onMouseButton);
      video.removeEventListener('mouseup', this.onMouseButton);
      video.removeEventListener('auxclick', this.onMouseButton);
      document.removeEventListener('keydown', this.onKey, true);
      document.removeEventListener('keyup', this.onKey, true);
      window.removeEventListener('blur', this.onBlur);
      document.removeEventListener('visibilitychange', this.onVisibility);
    }
    if (this.frame) cancelAnimationFrame(this.frame);
    this.frame = 0;
    this.video = null;
    this.focusTarget = null;
  }

  /** Releases everything on the remote side (input.reset) and forgets local state. */
  reset(): void {
    this.send({ type: 'input.reset' });
    this.heldButtons = 0;
    this.heldKeys.clear();
    this.pendingMove = null;
    this.wheelX = 0;
    this.wheelY = 0;
  }

  private pointFor(e: MouseEvent, clamp: boolean): VideoPoint | null {
    const video = this.video;
    if (!video) return null;
    return videoPointFromClient(e.clientX, e.clientY, video.getBoundingClientRect(), video.videoWidth, video.videoHeight, clamp);
  }

  private sendButton(domButton: number, down: boolean, p: VideoPoint | null): void {
    const button = xButtonFromDomButton(domButton);
    const bit = bitFromDomButton(domButton);
    if (button === null) return;
    // The button message carries the position, so a queued move would only
    // arrive after it and could drag the pointer back.
    this.pendingMove = null;
    const msg: Record<string, unknown> = { type: 'pointer.button', button, down };
    if (p) {
      msg.x = p.x;
      msg.y = p.y;
      this.lastSentMove = p;
    }
    this.send(msg);
    if (down) this.heldButtons |= bit;
    else this.heldButtons &= ~bit;
  }

  private onPointerDown = (e: PointerEvent): void => {
    if (!this.options.pointer) return;
    e.preventDefault();
    this.focusTarget?.focus({ preventScroll: true });
    const p = this.pointFor(e, this.heldButtons !== 0);
    if (!p) return; // a click in the letterbox means nothing remotely
    try {
      this.video?.setPointerCapture(e.pointerId);
    } catch {
      // The pointer may already be gone.
    }
    this.sendButton(e.button, true, p);
  };

  private onPointerUp = (e: PointerEvent): void => {
    const bit = bitFromDomButton(e.button);
    if (!(this.heldButtons & bit)) return;
    e.preventDefault();
    this.sendButton(e.button, false, this.pointFor(e, true));
  };

  private onPointerCancel = (): void => {
    if (this.heldButtons) this.releaseButtons(null);
  };

  private releaseButtons(p: VideoPoint | null): void {
    for (const [bit] of BUTTON_BITS) {
      if (this.heldButtons & bit) {
        const domButton = bit === 1 ? 0 : bit === 4 ? 1 : bit === 2 ? 2 : bit === 8 ? 3 : 4;
        this.sendButton(domButton, false, p);
      }
    }
  }

  private onPointerMove = (e: PointerEvent): void => {
    if (!this.options.pointer) return;
    // A second button pressed or released while another is held arrives as
    // a pointermove with `button` set (Pointer Events, chorded buttons).
    if (e.button >= 0) {
      const bit = bitFromDomButton(e.button);
      const down = (e.buttons & bit) !== 0;
      const held = (this.heldButtons & bit) !== 0;
      if (down !== held) {
        const p = this.pointFor(e, true);
        if (down && !p) return;
        this.sendButton(e.button, down, p);
        return;
      }
    }
    const p = this.pointFor(e, this.heldButtons !== 0);
    if (!p) return;
    this.pendingMove = p;
    if (!this.frame) this.frame = requestAnimationFrame(this.flushMove);
  };

  private flushMove = (now: number): void => {
    this.frame = 0;
    const p = this.pendingMove;
    if (!p) return;
    if (now - this.lastMoveAt < 1000 / MAX_MOVES_PER_SECOND - 1) {
      this.frame = requestAnimationFrame(this.flushMove);
      return;
    }
    this.pendingMove = null;
    if (this.lastSentMove && this.lastSentMove.x === p.x && this.lastSentMove.y === p.y) return;
    this.lastMoveAt = now;
    this.lastSentMove = p;
    this.send({ type: 'pointer.move', x: p.x, y: p.y });
  };

  private onWheel = (e: WheelEvent): void => {
    if (!this.options.pointer) return;
    e.preventDefault();
    if (!this.pointFor(e, false)) return;
    const toNotches = (delta: number): number => {
      if (delta === 0) return 0;
      switch (e.deltaMode) {
        case WheelEvent.DOM_DELTA_LINE:
          // One line-mode event is at least one notch.
          return Math.sign(delta) * Math.max(1, Math.abs(delta) / LINES_PER_NOTCH);
        case WheelEvent.DOM_DELTA_PAGE:
          return delta * 3;
        default:
          return delta / PIXELS_PER_NOTCH;
      }
    };
    this.wheelX += toNotches(e.deltaX);
    this.wheelY += toNotches(e.deltaY);
    const dx = Math.trunc(this.wheelX);
    const dy = Math.trunc(this.wheelY);
    if (dx === 0 && dy === 0) return;
    this.wheelX -= dx;
    this.wheelY -= dy;
    const clampNotches = (n: number) => Math.max(-MAX_NOTCHES, Math.min(MAX_NOTCHES, n));
    this.send({ type: 'pointer.wheel', dx: clampNotches(dx), dy: clampNotches(dy) });
  };

  private onContextMenu = (e: Event): void => {
    e.preventDefault();
  };

  private onMouseButton = (e: MouseEvent): void => {
    if (this.options.pointer) e.preventDefault();
  };

  private onKey = (e: KeyboardEvent): void => {
    if (!this.options.keyboard || !this.video) return;
    const code = e.code;
    if (!code || code.length > 32 || code === 'Unidentified') return;
    const down = e.type === 'keydown';
    // A key released that we never reported down (pressed before the session
    // started, or before capture was on) is the local user's business.
    if (!down && !this.heldKeys.has(code)) return;
    // Only swallow keys that went out: with no session (the channel is
    // closed) the page's own buttons keep working from the keyboard.
    if (!this.send({ type: 'key', code, down }) && down) return;
    e.preventDefault();
    e.stopPropagation();
    if (down) this.heldKeys.add(code);
    else this.heldKeys.delete(code);
  };

  private onBlur = (): void => {
    this.releaseAll();
  };

  private onVisibility = (): void => {
    if (document.visibilityState === 'hidden') this.releaseAll();
  };

  private releaseAll(): void {
    // The page no longer sees key-ups: anything held would stay stuck.
    this.reset();
  }
}
