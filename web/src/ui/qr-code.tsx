import qrcode from 'qrcode-generator';
import { useEffect, useRef } from 'preact/hooks';

/**
 * `text` as a QR code on a canvas (no markup injection, nothing inline: the
 * page's CSP holds). Medium error correction, a quiet zone of 4 modules.
 */
export function QrCode({ text, size = 200, label }: { text: string; size?: number; label: string }) {
  const ref = useRef<HTMLCanvasElement>(null);
  useEffect(() => {
    const canvas = ref.current;
    if (!canvas) return;
    const qr = qrcode(0, 'M');
    qr.addData(text);
    qr.make();
    const modules = qr.getModuleCount();
    const quiet = 4;
    const cell = Math.max(2, Math.floor(size / (modules + 2 * quiet)));
    const px = cell * (modules + 2 * quiet);
    canvas.width = px;
    canvas.height = px;
    const ctx = canvas.getContext('2d');
    if (!ctx) return;
    ctx.fillStyle = '#ffffff';
    ctx.fillRect(0, 0, px, px);
    ctx.fillStyle = '#000000';
    for (let r = 0; r < modules; r++) {
      for (let c = 0; c < modules; c++) {
        if (qr.isDark(r, c)) ctx.fillRect((c + quiet) * cell, (r + quiet) * cell, cell, cell);
      }
    }
  }, [text, size]);
  return <canvas ref={ref} class="qr-code" role="img" aria-label={label} data-testid="totp-qr" />;
}
