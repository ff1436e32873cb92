// Draws results over a picture: a box per face in its expression's colour, its number, label and
// confidence above it, and a bar per class under it. An SVG overlay composited by sharp, so text
// is rendered by librsvg (no canvas dependency); the same drawing serves images and video frames.
import { sharpOf, type Raster } from '../data/image.js';
import type { FaceResult } from './types.js';

export const EXPRESSION_COLOURS: Record<string, string> = {
  angry: '#e53935',
  disgust: '#43a047',
  fear: '#8e24aa',
  happy: '#fdd835',
  sad: '#1e88e5',
  surprise: '#fb8c00',
  neutral: '#9e9e9e',
  contempt: '#00897b',
};
const colourOf = (label: string) => EXPRESSION_COLOURS[label] ?? '#00bcd4';

const escapeXml = (s: string) => s.replace(/[<>&"']/g, (c) => `&#${c.charCodeAt(0)};`);

/** The overlay as an SVG document of the image's size. */
export function overlaySvg(width: number, height: number, faces: readonly FaceResult[]): string {
  const parts: string[] = [];
  for (const f of faces) {
    const [x, y, w, h] = f.box;
    const colour = colourOf(f.label);
    const stroke = Math.max(2, Math.round(Math.min(width, height) / 300));
    const font = Math.max(11, Math.round(Math.min(Math.max(w, h) / 7, height / 25)));
    parts.push(`<rect x="${x}" y="${y}" width="${w}" height="${h}" fill="none" stroke="${colour}" stroke-width="${stroke}"/>`);
    // Numbered as in the printed results (faceId: reading order in images, the track in videos).
    const title = `${f.faceId} ${f.label} ${(f.confidence * 100).toFixed(0)}%`;
    const ty = y - font * 0.35 > font ? y - font * 0.35 : y + h + font;
    parts.push(`<text x="${x}" y="${ty}" font-family="DejaVu Sans, sans-serif" font-size="${font}" font-weight="bold" fill="${colour}" stroke="#000" stroke-width="${font / 14}" paint-order="stroke">${escapeXml(title)}</text>`);
    // Bars: one row per class, in a panel under the box, as wide as the box so neighbouring faces'
    // panels do not overlap; beside the box or above its label when there is no room below.
    const entries = Object.entries(f.probabilities);
    const row = Math.max(9, Math.round(font * 0.62));
    const panelW = Math.max(w, row * 9);
    const labelW = row * 4.4;
    const barW = panelW - labelW - 6;
    const panelH = entries.length * row + 6;
    const clampX = (v: number) => Math.min(Math.max(0, v), Math.max(0, width - panelW));
    const clampY = (v: number) => Math.min(Math.max(0, v), Math.max(0, height - panelH));
    const candidates: [number, number][] = [
      [clampX(x), y + h + stroke],
      [x + w + stroke * 2, clampY(y)],
      [x - panelW - stroke * 2, clampY(y)],
      [clampX(x), ty - font * 1.1 - panelH],
    ];
    const fits = ([cx, cy]: [number, number]) => cx >= 0 && cy >= 0 && cx + panelW <= width && cy + panelH <= height;
    const [px, py] = candidates.find(fits) ?? [clampX(x), clampY(y + h + stroke)];
    parts.push(`<rect x="${px}" y="${py}" width="${panelW}" height="${panelH}" fill="#000" fill-opacity="0.55" rx="3"/>`);
    entries.forEach(([name, p], i) => {
      const ry = py + 3 + i * row;
      parts.push(`<text x="${px + 3}" y="${ry + row * 0.8}" font-family="DejaVu Sans, sans-serif" font-size="${row * 0.8}" fill="#fff">${escapeXml(name)}</text>`);
      parts.push(`<rect x="${px + labelW}" y="${ry + row * 0.15}" width="${Math.max(0.5, p * barW)}" height="${row * 0.7}" fill="${colourOf(name)}"/>`);
    });
  }
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}">${parts.join('')}</svg>`;
}

/** The picture with its faces drawn, as PNG bytes. */
export async function annotatePng(image: Raster, faces: readonly FaceResult[]): Promise<Buffer> {
  return sharpOf(image)
    .composite([{ input: Buffer.from(overlaySvg(image.width, image.height, faces)), top: 0, left: 0 }])
    .png()
    .toBuffer();
}

/** The picture with its faces drawn, as an RGB raster (video frames). */
export async function annotateRaster(image: Raster, faces: readonly FaceResult[]): Promise<Raster> {
  const { data, info } = await sharpOf(image)
    .composite([{ input: Buffer.from(overlaySvg(image.width, image.height, faces)), top: 0, left: 0 }])
    .removeAlpha()
    .raw()
    .toBuffer({ resolveWithObject: true });
  return { width: info.width, height: info.height, channels: 3, data: new Uint8Array(data.buffer, data.byteOffset, data.length) };
}
