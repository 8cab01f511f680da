// Maps a point on the <video> element to a pixel of the video itself. The
// element shows the video with object-fit: contain, so the picture is scaled
// uniformly and centred, with letterbox bars on two sides.

export interface Rect {
  left: number;
  top: number;
  width: number;
  height: number;
}

export interface VideoPoint {
  x: number;
  y: number;
}

/**
 * Returns the video pixel under (clientX, clientY), or null when the point is
 * in a letterbox bar (or the video has no size yet). With `clamp`, points
 * outside the picture are pulled to its nearest edge instead (a drag that
 * leaves the picture keeps going along the edge).
 */
export function videoPointFromClient(
  clientX: number,
  clientY: number,
  rect: Rect,
  videoWidth: number,
  videoHeight: number,
  clamp = false,
): VideoPoint | null {
  if (videoWidth <= 0 || videoHeight <= 0 || rect.width <= 0 || rect.height <= 0) return null;
  const scale = Math.min(rect.width / videoWidth, rect.height / videoHeight);
  const shownWidth = videoWidth * scale;
  const shownHeight = videoHeight * scale;
  const left = rect.left + (rect.width - shownWidth) / 2;
  const top = rect.top + (rect.height - shownHeight) / 2;
  const fx = (clientX - left) / scale;
  const fy = (clientY - top) / scale;
  if (!clamp && (fx < 0 || fy < 0 || fx >= videoWidth || fy >= videoHeight)) return null;
  return {
    x: Math.min(videoWidth - 1, Math.max(0, Math.floor(fx))),
    y: Math.min(videoHeight - 1, Math.max(0, Math.floor(fy))),
  };
}
